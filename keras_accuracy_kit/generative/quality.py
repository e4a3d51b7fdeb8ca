"""Measures of generated images: class consistency and the Fréchet distance.

Pure numerics on arrays, testable without training. The Fréchet distance between two
Gaussians fitted to feature sets is the one FID computes (Heusel et al., 2017); the kit
computes it on the features of a small classifier of the data at hand (`QualityJudge`),
not on Inception's, which know nothing of 8x8 digits.
"""

import warnings

import numpy as np


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two sets of feature vectors.

    `|mu_a - mu_b|^2 + trace(C_a + C_b - 2 (C_a C_b)^(1/2))`, with the sample covariances
    (`ddof=1`). The imaginary part `sqrtm` may return from round-off is dropped.

    Args:
        features_a: Array `(N, D)`, N >= 2.
        features_b: Array `(M, D)`, M >= 2.

    Returns:
        A non-negative float.

    Example:

    >>> import numpy as np
    >>> a = np.array([[0.0], [2.0]])  # mean 1, variance 2
    >>> round(frechet_distance(a, a + 3.0), 6)  # same spread, means 3 apart
    9.0
    """
    import scipy.linalg  # imported on first use: `import keras_accuracy_kit` stays light

    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(
            "frechet_distance: `features_a` and `features_b` must be 2-D arrays (N, D) with "
            f"the same D and at least 2 rows each. Received: shapes {a.shape} and {b.shape}. "
            "Pass one feature vector per image."
        )
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    covariance_a = np.atleast_2d(np.cov(a, rowvar=False))
    covariance_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # Dead ReLU features make the covariances singular; sqrtm warns but stays accurate
        # enough, and a non-finite result is regularised as FID does.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(covariance_a @ covariance_b)
        if not np.isfinite(root).all():
            offset = np.eye(a.shape[1]) * 1e-6
            root = scipy.linalg.sqrtm((covariance_a + offset) @ (covariance_b + offset))
    root = np.real(root)
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a + covariance_b - 2 * root)
    return float(max(distance, 0.0))


def class_consistency(predicted, labels):
    """The fraction of generated images classified as the label they were generated for.

    Args:
        predicted: Array `(N,)` of predicted class ids, or `(N, num_classes)` scores.
        labels: Array `(N,)` of the conditioning class ids.

    Returns:
        A float in [0, 1].

    Example:

    >>> class_consistency([0, 1, 2, 2], [0, 1, 2, 1])
    0.75
    """
    predicted = np.asarray(predicted)
    labels = np.asarray(labels).reshape(-1)
    if predicted.ndim == 2:
        predicted = predicted.argmax(axis=-1)
    if predicted.shape != labels.shape or labels.size == 0:
        raise ValueError(
            "class_consistency: `predicted` and `labels` must hold one class per image. "
            f"Received: shapes {predicted.shape} and {labels.shape}. Pass the judge's "
            "predictions for the generated images and their conditioning labels."
        )
    return float(np.mean(predicted == labels))
