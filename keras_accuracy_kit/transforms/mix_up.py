"""MixUp: blends pairs of images and their one-hot labels within a batch."""

import tensorflow as tf

from keras_accuracy_kit.transforms._mixing import MixingTransform
from keras_accuracy_kit.transforms.registry import register_transform


@register_transform
class MixUp(MixingTransform):
    """Blends each image with another of its batch, and the one-hot labels alike.

    MixUp (Zhang et al., 2018) trains on `l * x_i + (1 - l) * x_j` with label
    `l * y_i + (1 - l) * y_j`, `l ~ Beta(alpha, alpha)` per image: a regulariser that
    helps most when the model overfits. It needs batched `(images, one_hot_labels)` data
    (or `{"images", "labels"}` dicts) and a categorical loss; integer labels are rejected.

    Use `dataset.batch(n).apply(kit.transforms.MixUp(seed=0))` for batches reproducible
    with any parallelism (new ones every epoch), or `dataset.batch(n).map(MixUp())`.

    Input: images `(N, H, W, C)` uint8/uint16 or float in `value_range`; labels float
    `(N, num_classes)`. Output: float32 images in [0, 1], float labels.

    Args:
        alpha: Positive float. Beta concentration; small values mix little. Defaults to
            `0.2`.
        seed: Optional int. Defaults to `None`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> from keras_accuracy_kit.transforms import MixUp
    >>> images, labels = np.zeros((4, 8, 8, 3), np.uint8), tf.one_hot([0, 1, 2, 3], 4)
    >>> mixed_images, mixed_labels = MixUp(seed=0)(images, labels)
    >>> mixed_labels.shape, np.allclose(tf.reduce_sum(mixed_labels, axis=-1), 1.0)
    (TensorShape([4, 4]), True)
    """

    def __init__(self, alpha=0.2, seed=None, value_range=(0.0, 1.0)):
        super().__init__(alpha, seed=seed, value_range=value_range)

    def mix(self, images, labels, seed):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        num = tf.shape(images)[0]
        partners = self._partners(seeds[0], num)
        weight = self._beta(seeds[1], num)
        image_weight = tf.cast(tf.reshape(weight, [-1, 1, 1, 1]), images.dtype)
        label_weight = tf.cast(weight[:, None], labels.dtype)
        images = image_weight * images + (1 - image_weight) * tf.gather(images, partners)
        labels = label_weight * labels + (1 - label_weight) * tf.gather(labels, partners)
        return images, labels
