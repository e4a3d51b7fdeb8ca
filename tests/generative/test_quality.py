import numpy as np
import pytest

from keras_accuracy_kit.generative import class_consistency, frechet_distance


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    # Independent reference: for diagonal covariances the distance is
    # sum((m1 - m2)^2) + sum((sqrt(v1) - sqrt(v2))^2), derived by hand.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(size=(4000, 3)) * [3.0, 1.0, 0.5] + [1.0, -2.0, 0.0]
    va, vb = a.var(axis=0, ddof=1), b.var(axis=0, ddof=1)
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    # Sample covariances are not exactly diagonal: compare with the population figure loosely
    # and with the sample-moment figure tightly after removing the off-diagonal terms.
    expected = np.sum((ma - mb) ** 2) + np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert frechet_distance(a, b) == pytest.approx(1 + 4 + 4 + 1, rel=0.05)


def test_frechet_distance_of_a_set_with_itself_is_zero_and_symmetric():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 5)), rng.normal(size=(300, 5)) + 0.3
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)


def test_frechet_distance_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same D and at least 2 rows"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_class_consistency_counts_matching_labels():
    assert class_consistency([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [0, 1, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="one class per image"):
        class_consistency([0, 1], [0, 1, 1])
