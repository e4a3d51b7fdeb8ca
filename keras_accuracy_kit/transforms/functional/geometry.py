"""Pure TensorFlow resizing that keeps the aspect ratio (letterbox pad or centre crop).

The geometry is computed once per input size: in Python when the size is known while
tracing (a fixed-size batch, a model input), in the graph otherwise (images of different
sizes before `batch()`).
"""

import functools

import tensorflow as tf

from keras_accuracy_kit._core import checks

RESIZE_MODES = ("pad", "crop", "stretch")
#: The `method` names of `tf.image.resize`.
RESIZE_INTERPOLATIONS = (
    "area",
    "bicubic",
    "bilinear",
    "gaussian",
    "lanczos3",
    "lanczos5",
    "mitchellcubic",
    "nearest",
)
_GEOMETRY_KEYS = (
    "crop_top",
    "crop_left",
    "crop_height",
    "crop_width",
    "resized_height",
    "resized_width",
    "pad_top",
    "pad_left",
)


def check_resize_arguments(owner, height, width, mode, interpolation):
    """Validates the arguments shared by `resize_images` and `Resize`; returns them."""
    return (
        checks.check_image_side(owner, "height", height),
        checks.check_image_side(owner, "width", width),
        checks.check_choice(owner, "mode", mode, RESIZE_MODES),
        checks.check_choice(owner, "interpolation", interpolation, RESIZE_INTERPOLATIONS),
    )


def resize_geometry(height, width, target_height, target_width, mode):
    """Where to crop, what size to resize to and where to pad, for one input size.

    `pad` scales by `min(target_height / height, target_width / width)`, rounds the scaled
    size to whole pixels and centres it (extra padding goes to the bottom/right). `crop`
    takes the centred source window of the target aspect ratio (extra pixels are cut from
    the bottom/right) and resizes it to the target. `stretch` resizes the whole image.

    Args:
        height: Int or int tensor. Input height.
        width: Int or int tensor. Input width.
        target_height: Int. Output height.
        target_width: Int. Output width.
        mode: One of `"pad"`, `"crop"`, `"stretch"`.

    Returns:
        Dict of int32 scalar tensors: `crop_top`, `crop_left`, `crop_height`, `crop_width`,
        `resized_height`, `resized_width`, `pad_top`, `pad_left`.

    Example:

    >>> g = resize_geometry(480, 640, 224, 224, "pad")
    >>> {k: int(v) for k, v in g.items() if k.startswith(("resized", "pad"))}
    {'resized_height': 168, 'resized_width': 224, 'pad_top': 28, 'pad_left': 0}
    """
    checks.check_choice("resize_geometry", "mode", mode, RESIZE_MODES)
    height = tf.cast(height, tf.int32)
    width = tf.cast(width, tf.int32)
    h, w = tf.cast(height, tf.float64), tf.cast(width, tf.float64)
    th, tw = float(target_height), float(target_width)
    zero = tf.constant(0, tf.int32)

    def round_to_int(x, low, high):
        return tf.clip_by_value(tf.cast(tf.floor(x + 0.5), tf.int32), low, high)

    crop_top, crop_left, crop_height, crop_width = zero, zero, height, width
    resized_height = tf.constant(target_height, tf.int32)
    resized_width = tf.constant(target_width, tf.int32)
    pad_top, pad_left = zero, zero
    if mode == "pad":
        scale = tf.minimum(th / h, tw / w)
        resized_height = round_to_int(h * scale, 1, target_height)
        resized_width = round_to_int(w * scale, 1, target_width)
        pad_top = (target_height - resized_height) // 2
        pad_left = (target_width - resized_width) // 2
    elif mode == "crop":
        scale = tf.maximum(th / h, tw / w)
        crop_height = round_to_int(th / scale, 1, height)
        crop_width = round_to_int(tw / scale, 1, width)
        crop_top = (height - crop_height) // 2
        crop_left = (width - crop_width) // 2
    values = (
        crop_top,
        crop_left,
        crop_height,
        crop_width,
        resized_height,
        resized_width,
        pad_top,
        pad_left,
    )
    return dict(zip(_GEOMETRY_KEYS, values))


@functools.lru_cache(maxsize=256)
def _static_geometry(height, width, target_height, target_width, mode):
    """`resize_geometry` for sizes known while tracing, as Python ints (computed eagerly)."""
    with tf.init_scope():
        geometry = resize_geometry(height, width, target_height, target_width, mode)
        return {key: int(value) for key, value in geometry.items()}


def resize_images(
    images,
    height,
    width,
    mode="pad",
    interpolation="bilinear",
    antialias=False,
    pad_value=0.0,
):
    """Resizes images to `(height, width)`, keeping the aspect ratio in `pad`/`crop` modes.

    Cropping happens before resampling and padding after it, so only the pixels that reach
    the output are interpolated (cheaper than padding to the aspect ratio first).

    Args:
        images: Tensor `(H, W, C)` or `(N, H, W, C)`, any dtype `tf.image.resize` takes.
        height: Positive int. Output height.
        width: Positive int. Output width.
        mode: `"pad"` (letterbox, centred), `"crop"` (centre crop) or `"stretch"`.
            Defaults to `"pad"`.
        interpolation: A `tf.image.resize` method name. Defaults to `"bilinear"`.
        antialias: Bool. Filter when downsampling, as `tf.image.resize`. Defaults to
            `False`.
        pad_value: Float or one float per channel, in the units of the resized tensor.
            Defaults to `0.0`.

    Returns:
        Tensor `(height, width, C)` or `(N, height, width, C)`; float32 except for
        `"nearest"`, which keeps the dtype (as `tf.image.resize`).

    Example:

    >>> import tensorflow as tf
    >>> resize_images(tf.ones([480, 640, 3]), 224, 224, mode="pad").shape
    TensorShape([224, 224, 3])
    """
    owner = "resize_images"
    height, width, mode, interpolation = check_resize_arguments(
        owner, height, width, mode, interpolation
    )
    images = tf.convert_to_tensor(images)
    checks.check_image_shape(owner, images.shape)
    rank = images.shape.rank
    # The crop's `tf.slice` with a computed size forgets the static shape: keep the batch
    # size and channel count from here.
    output_shape = [height, width, images.shape[-1]]
    if rank == 4:
        output_shape = [images.shape[0]] + output_shape
    static_height, static_width = images.shape[-3], images.shape[-2]
    if static_height is not None and static_width is not None:
        geometry = _static_geometry(static_height, static_width, height, width, mode)
    else:
        dynamic = tf.shape(images)
        geometry = resize_geometry(dynamic[-3], dynamic[-2], height, width, mode)

    if mode == "crop":
        begin = [geometry["crop_top"], geometry["crop_left"], 0]
        size = [geometry["crop_height"], geometry["crop_width"], -1]
        if rank == 4:
            begin, size = [0] + begin, [-1] + size
        images = tf.slice(images, tf.stack(begin), tf.stack(size))
    resized = tf.image.resize(
        images,
        tf.stack([geometry["resized_height"], geometry["resized_width"]]),
        method=interpolation,
        antialias=antialias,
    )
    if mode == "pad":
        resized = _pad(resized, geometry, height, width, pad_value, rank)
    return tf.ensure_shape(resized, output_shape)


def _pad(resized, geometry, height, width, pad_value, rank):
    top, left = geometry["pad_top"], geometry["pad_left"]
    bottom = height - geometry["resized_height"] - top
    right = width - geometry["resized_width"] - left
    paddings = [[top, bottom], [left, right], [0, 0]]
    if rank == 4:
        paddings = [[0, 0]] + paddings
    paddings = tf.stack([tf.stack(p) for p in paddings])
    if isinstance(pad_value, (list, tuple)):
        # One value per channel: pad (x - v) with zeros, then add v back.
        values = tf.constant(pad_value, dtype=resized.dtype)
        return tf.pad(resized - values, paddings) + values
    return tf.pad(resized, paddings, constant_values=tf.cast(pad_value, resized.dtype))
