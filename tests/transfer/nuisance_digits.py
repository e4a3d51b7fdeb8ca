"""Digits under heavy nuisance variation, 32x32: a transfer target where pretraining pays.

`load_digits` 8x8 images (values 0..16) are upsampled 3x (bilinear) into the middle of a
32x32 canvas, then each copy gets a random rotation (+-45 degrees), scale (0.7-1.3) and
shift (+-4 pixels) about the centre, a contrast inversion with probability 1/2 and Gaussian
noise (sigma 0.15), clipped to [0, 1]. The plain digits are learnt from 5 examples a class
from scratch; under this nuisance a few examples no longer show what a digit is, while a
backbone pretrained on many nuisance copies of other digits has learnt to ignore it.
Built with scipy.ndimage (independent of the kit's own transforms); values in [0, 1].
"""

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits

SIZE = 32
MAX_DEGREES = 45.0
SCALES = (0.7, 1.3)
MAX_SHIFT = 4.0
NOISE = 0.15


def digits():
    """`(images, labels)`: the 1797 digits as float32 8x8 images in [0, 1], int32 labels."""
    data = load_digits()
    return (data.images / 16.0).astype("float32"), data.target.astype("int32")


def with_nuisance(images, rng):
    """One random nuisance copy of each 8x8 image: float32 `(n, 32, 32, 1)` in [0, 1]."""
    out = np.empty((len(images), SIZE, SIZE), "float32")
    centre = np.full(2, SIZE / 2 - 0.5)
    for index, image in enumerate(images):
        canvas = np.zeros((SIZE, SIZE), "float32")
        canvas[4:28, 4:28] = np.clip(ndimage.zoom(image, 3, order=1), 0.0, 1.0)
        angle = np.deg2rad(rng.uniform(-MAX_DEGREES, MAX_DEGREES))
        scale = rng.uniform(*SCALES)
        shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, size=2)
        cos, sin = np.cos(angle), np.sin(angle)
        # affine_transform maps output coordinates to input ones: the inverse warp.
        inverse = np.array([[cos, sin], [-sin, cos]]) / scale
        offset = centre - inverse @ (centre + shift)
        warped = ndimage.affine_transform(canvas, inverse, offset=offset, order=1, cval=0.0)
        if rng.random() < 0.5:
            warped = 1.0 - warped
        out[index] = np.clip(warped + rng.normal(0.0, NOISE, warped.shape), 0.0, 1.0)
    return out[..., None]


def source_set(count, rng):
    """`count` nuisance copies of random digits 0-4 and their labels (the pretraining set)."""
    images, labels = digits()
    source = labels < 5
    chosen = rng.integers(0, int(source.sum()), count)
    return with_nuisance(images[source][chosen], rng), labels[source][chosen]


def target_split(seed, shots, num_validation=10):
    """Digits 5-9 (labels 0-4): `shots` images per class to train on, `num_validation` per
    class to judge with, every other digit 5-9 to test on, each under its own nuisance.

    Returns:
        `((train_images, train_labels), (validation...), (test...))`.
    """
    images, labels = digits()
    target = labels >= 5
    images, labels = images[target], labels[target] - 5
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), shots, replace=False) for c in range(5)]
    )
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), train))
    validation = np.concatenate([rest[labels[rest] == c][:num_validation] for c in range(5)])
    test = np.setdiff1d(rest, validation)
    return tuple(
        (with_nuisance(images[part], rng), labels[part]) for part in (train, validation, test)
    )
