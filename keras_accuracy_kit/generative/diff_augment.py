"""Differentiable augmentation (DiffAugment) of image batches for GAN training.

Pure functions of `(images, seed)`: the same stateless seed gives the same augmentation,
and gradients flow through to the images (translation is a product with one-hot shift
matrices, cutout a product with a mask, brightness an addition), so the generator learns
through the augmented discriminator. Reference: Zhao et al., "Differentiable Augmentation
for Data-Efficient GAN Training" (NeurIPS 2020).

Images are `(N, H, W, C)` floats in [-1, 1].
"""

import tensorflow as tf

#: The augmentations `diff_augment` knows, in the order it applies them.
POLICIES = ("brightness", "translation", "cutout")


def brightness(images, seed, max_delta=0.5):
    """Adds one offset in `[-max_delta, max_delta)` per image (DiffAugment's brightness).

    Example:

    >>> import tensorflow as tf
    >>> images = tf.zeros((2, 4, 4, 1))
    >>> out = brightness(images, tf.constant([1, 2]))
    >>> bool(tf.reduce_all(out[0] == out[0, 0, 0, 0]))
    True
    """
    batch = tf.shape(images)[0]
    delta = tf.random.stateless_uniform([batch, 1, 1, 1], seed, -max_delta, max_delta)
    return images + tf.cast(delta, images.dtype)


def _shift_matrices(size, shifts, dtype):
    # matrix[b, i, j] = 1 where output row i reads input row j = i - shifts[b]; rows that
    # read from outside the image are all zero (`one_hot` of an index out of range).
    sources = tf.range(size)[tf.newaxis, :] - shifts[:, tf.newaxis]
    return tf.one_hot(sources, size, dtype=dtype)


def translation(images, seed, ratio=0.125):
    """Shifts each image by whole pixels, up to `ratio` of its size each way, zero fill.

    Example:

    >>> import tensorflow as tf
    >>> dot = tf.reshape(tf.one_hot(5, 16), (1, 4, 4, 1))  # one pixel at row 1, column 1
    >>> out = translation(tf.tile(dot, [8, 1, 1, 1]), tf.constant([0, 3]), ratio=0.25)
    >>> tf.reduce_sum(out, axis=[1, 2, 3]).numpy().tolist()  # moved by at most 1: still in
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(seed, 2)
    max_y = tf.cast(tf.round(tf.cast(height, tf.float32) * ratio), tf.int32)
    max_x = tf.cast(tf.round(tf.cast(width, tf.float32) * ratio), tf.int32)
    shift_y = tf.random.stateless_uniform([batch], seeds[0], -max_y, max_y + 1, tf.int32)
    shift_x = tf.random.stateless_uniform([batch], seeds[1], -max_x, max_x + 1, tf.int32)
    rows = _shift_matrices(height, shift_y, images.dtype)
    columns = _shift_matrices(width, shift_x, images.dtype)
    images = tf.einsum("bij,bjkc->bikc", rows, images)
    return tf.einsum("blk,bikc->bilc", columns, images)


def cutout(images, seed, ratio=0.5):
    """Sets one square of `ratio` of the image's size to zero per image, placed at random
    (it may cross the border, as in DiffAugment).

    Example:

    >>> import tensorflow as tf
    >>> out = cutout(tf.ones((1, 8, 8, 1)), tf.constant([0, 1]), ratio=0.5)
    >>> 0 < int(tf.reduce_sum(1.0 - out)) <= 16
    True
    """
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(seed, 2)
    size_y = tf.maximum(tf.cast(tf.round(tf.cast(height, tf.float32) * ratio), tf.int32), 1)
    size_x = tf.maximum(tf.cast(tf.round(tf.cast(width, tf.float32) * ratio), tf.int32), 1)
    centre_y = tf.random.stateless_uniform([batch], seeds[0], 0, height, tf.int32)
    centre_x = tf.random.stateless_uniform([batch], seeds[1], 0, width, tf.int32)
    top = centre_y - size_y // 2
    left = centre_x - size_x // 2
    rows = tf.range(height)[tf.newaxis, :]
    columns = tf.range(width)[tf.newaxis, :]
    in_rows = (rows >= top[:, tf.newaxis]) & (rows < (top + size_y)[:, tf.newaxis])
    in_columns = (columns >= left[:, tf.newaxis]) & (columns < (left + size_x)[:, tf.newaxis])
    cut = tf.logical_and(in_rows[:, :, tf.newaxis], in_columns[:, tf.newaxis, :])
    mask = 1.0 - tf.cast(cut, images.dtype)
    return images * mask[..., tf.newaxis]


_FUNCTIONS = {"brightness": brightness, "translation": translation, "cutout": cutout}


def diff_augment(images, seed, policy=POLICIES):
    """Applies the augmentations named in `policy` (in `POLICIES` order) with one seed.

    Args:
        images: Float tensor `(N, H, W, C)` in [-1, 1].
        seed: Int tensor of shape `(2,)`. A stateless seed.
        policy: Iterable of names from `POLICIES`. Defaults to all of them.

    Returns:
        The augmented images, same shape and dtype.

    Example:

    >>> import tensorflow as tf
    >>> diff_augment(tf.zeros((3, 8, 8, 1)), tf.constant([4, 2])).shape
    TensorShape([3, 8, 8, 1])
    """
    names = [name for name in POLICIES if name in tuple(policy)]
    if not names:
        return images
    seeds = tf.random.experimental.stateless_split(seed, len(names))
    for index, name in enumerate(names):
        images = _FUNCTIONS[name](images, seeds[index])
    return images
