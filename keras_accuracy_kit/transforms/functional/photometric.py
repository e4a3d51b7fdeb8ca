"""Per-image colour and occlusion augmentations on float batches `(N, H, W, C)` in [0, 1].

Each function takes one parameter per image (shape `[N]`), so a whole batch is augmented
with different values in one pass. Outputs are not clipped; callers clip once at the end.
"""

import tensorflow as tf

from keras_accuracy_kit._core import checks


def _per_image(values, images):
    return tf.reshape(tf.cast(values, images.dtype), [-1, 1, 1, 1])


def adjust_brightness(images, factor):
    """Multiplies brightness by `factor` (Keras 2's `brightness_range`: 1 keeps the image).

    Example:

    >>> import tensorflow as tf
    >>> adjust_brightness(tf.fill([1, 1, 1, 3], 0.5), [1.5]).numpy().ravel().tolist()
    [0.75, 0.75, 0.75]
    """
    return images * _per_image(factor, images)


def channel_shift(images, intensity):
    """Adds `intensity` to every channel, clipped to each image's own min and max (Keras 2).

    Example:

    >>> import tensorflow as tf
    >>> shifted = channel_shift(tf.constant([[[[0.2], [0.6]]]]), [0.3])
    >>> [round(float(v), 4) for v in shifted.numpy().ravel()]
    [0.5, 0.6]
    """
    low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
    return tf.clip_by_value(images + _per_image(intensity, images), low, high)


def adjust_contrast(images, factor):
    """Scales each channel's deviation from its mean by `factor`, as `tf.image.adjust_contrast`.

    Example:

    >>> import tensorflow as tf
    >>> stretched = adjust_contrast(tf.constant([[[[0.4], [0.6]]]]), [2.0])
    >>> [round(float(v), 4) for v in stretched.numpy().ravel()]
    [0.3, 0.7]
    """
    mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
    return (images - mean) * _per_image(factor, images) + mean


def _scale_shift_clip(images, scale, offset):
    return tf.clip_by_value(images * scale + offset, 0.0, 1.0)


_scale_shift_clip_xla = tf.function(_scale_shift_clip, jit_compile=True, reduce_retracing=True)


def brightness_contrast(images, brightness=None, contrast=None):
    """`adjust_brightness` then `adjust_contrast`, clipped to [0, 1], as one fused pass.

    The two are one affine map per image and channel: brightness `b` then contrast `c`
    about the mean `m` of `b * x` give `b * c * x + b * (1 - c) * m`. The mean is one
    TensorFlow reduction; the multiply-add and clip run as one XLA kernel when the shape is
    fully known and holds at least 65536 values, which keeps the colour steps nearly free
    next to the resampling.

    Args:
        images: Float tensor `(N, H, W, C)`.
        brightness: Optional `[N]` factors. Defaults to `None` (unchanged).
        contrast: Optional `[N]` factors. Defaults to `None` (unchanged).

    Example:

    >>> import tensorflow as tf
    >>> out = brightness_contrast(tf.constant([[[[0.2], [0.4]]]]), [2.0], [1.5])
    >>> [round(float(v), 4) for v in out.numpy().ravel()]
    [0.3, 0.9]
    """
    offset = tf.zeros([], images.dtype)
    if contrast is None:
        scale = _per_image(brightness, images)
    else:
        contrast = _per_image(contrast, images)
        mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
        if brightness is None:
            scale, offset = contrast, (1.0 - contrast) * mean
        else:
            brightness = _per_image(brightness, images)
            scale = brightness * contrast
            offset = brightness * (1.0 - contrast) * mean
    if images.shape.is_fully_defined() and images.shape.num_elements() >= checks.MIN_JIT_ELEMENTS:
        return _scale_shift_clip_xla(images, scale, offset)
    return _scale_shift_clip(images, scale, offset)


def adjust_hue_saturation(images, hue_delta, saturation_factor):
    """Rotates hue by `hue_delta` (a fraction of the colour circle) and scales saturation.

    Example:

    >>> import tensorflow as tf
    >>> red = tf.constant([[[[1.0, 0.0, 0.0]]]])
    >>> adjust_hue_saturation(red, [1 / 3], [1.0]).numpy().round(4).ravel().tolist()
    [0.0, 1.0, 0.0]
    """
    hsv = tf.image.rgb_to_hsv(tf.clip_by_value(images, 0.0, 1.0))
    hue = tf.math.floormod(hsv[..., 0:1] + _per_image(hue_delta, images), 1.0)
    saturation = tf.clip_by_value(hsv[..., 1:2] * _per_image(saturation_factor, images), 0.0, 1.0)
    return tf.image.hsv_to_rgb(tf.concat([hue, saturation, hsv[..., 2:3]], axis=-1))


def erase_boxes(images, top, left, box_height, box_width, value=0.0):
    """Fills one box per image (cutout / random erasing); a box of size 0 erases nothing.

    Args:
        images: Float tensor `(N, H, W, C)`.
        top, left, box_height, box_width: Int tensors `[N]`: the box of each image.
        value: Float. The fill value. Defaults to `0.0`.

    Example:

    >>> import tensorflow as tf
    >>> erase_boxes(tf.ones([1, 2, 3, 1]), [0], [1], [1], [2])[0, ..., 0].numpy().tolist()
    [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    rows = tf.range(tf.shape(images)[1])[None, :, None]
    cols = tf.range(tf.shape(images)[2])[None, None, :]

    def column(v):
        return tf.reshape(tf.cast(v, tf.int32), [-1, 1, 1])

    inside = (
        (rows >= column(top))
        & (rows < column(top) + column(box_height))
        & (cols >= column(left))
        & (cols < column(left) + column(box_width))
    )
    return tf.where(inside[..., None], tf.cast(value, images.dtype), images)
