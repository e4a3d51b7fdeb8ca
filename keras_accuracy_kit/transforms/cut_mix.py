"""CutMix: pastes a box from another image of the batch, mixing the labels by area."""

import tensorflow as tf

from keras_accuracy_kit.transforms._mixing import MixingTransform
from keras_accuracy_kit.transforms.functional import photometric
from keras_accuracy_kit.transforms.registry import register_transform


@register_transform
class CutMix(MixingTransform):
    """Pastes a random box of another image of the batch; labels mix by the pasted area.

    CutMix (Yun et al., 2019) replaces a box covering `1 - l` of image `i` with the same
    box of image `j` (`l ~ Beta(alpha, alpha)`) and sets the label to
    `l' * y_i + (1 - l') * y_j`, with `l'` the area actually kept after clipping the box
    to the image. Needs batched `(images, one_hot_labels)` or `{"images", "labels"}`;
    integer labels are rejected.

    Input: images `(N, H, W, C)` uint8/uint16 or float in `value_range`; labels float
    `(N, num_classes)`. Output: float32 images in [0, 1], float labels.

    Args:
        alpha: Positive float. Beta concentration. Defaults to `1.0`.
        seed: Optional int. Defaults to `None`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> from keras_accuracy_kit.transforms import CutMix
    >>> images, labels = np.zeros((4, 8, 8, 3), np.uint8), tf.one_hot([0, 1, 2, 3], 4)
    >>> mixed_images, mixed_labels = CutMix(seed=0)(images, labels)
    >>> mixed_images.shape, np.allclose(tf.reduce_sum(mixed_labels, axis=-1), 1.0)
    (TensorShape([4, 8, 8, 3]), True)
    """

    def __init__(self, alpha=1.0, seed=None, value_range=(0.0, 1.0)):
        super().__init__(alpha, seed=seed, value_range=value_range)

    def mix(self, images, labels, seed):
        seeds = tf.random.experimental.stateless_split(seed, 3)
        shape = tf.shape(images)
        num = shape[0]
        height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        partners = self._partners(seeds[0], num)
        keep = self._beta(seeds[1], num)
        cut = tf.sqrt(1.0 - keep)
        centre = tf.random.stateless_uniform([2, num], seeds[2])
        cy, cx = centre[0] * height, centre[1] * width
        top = tf.clip_by_value(tf.round(cy - cut * height / 2), 0.0, height)
        bottom = tf.clip_by_value(tf.round(cy + cut * height / 2), 0.0, height)
        left = tf.clip_by_value(tf.round(cx - cut * width / 2), 0.0, width)
        right = tf.clip_by_value(tf.round(cx + cut * width / 2), 0.0, width)
        box_height, box_width = bottom - top, right - left
        # Paste by erasing with a marker and filling the marked pixels from the partner.
        mask = photometric.erase_boxes(
            tf.zeros_like(images[..., :1]),
            tf.cast(top, tf.int32),
            tf.cast(left, tf.int32),
            tf.cast(box_height, tf.int32),
            tf.cast(box_width, tf.int32),
            value=1.0,
        )
        images = tf.where(mask > 0.5, tf.gather(images, partners), images)
        kept = 1.0 - box_height * box_width / (height * width)
        label_weight = tf.cast(kept[:, None], labels.dtype)
        labels = label_weight * labels + (1 - label_weight) * tf.gather(labels, partners)
        return images, labels
