"""Argument and input checks that raise early with errors that say how to fix them.

Every message has the house shape::

    <Owner>: `<arg>` must <expectation>. Received: <arg>=<value!r>. <how to fix>
"""

import numbers
import os

import numpy as np
import tensorflow as tf

#: Integer dtypes accepted as images, with the value their full scale maps to.
INTEGER_IMAGE_DTYPES = {tf.uint8: 255.0, tf.uint16: 65535.0}
#: Floating dtypes accepted as images.
FLOAT_IMAGE_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def check_choice(owner, arg, value, choices):
    """Returns `value` if it is one of `choices`, else raises a ValueError listing them."""
    if value not in choices:
        raise ValueError(
            f"{owner}: `{arg}` must be one of {sorted(choices)}. "
            f"Received: {arg}={value!r}. Pick one of the listed values."
        )
    return value


#: Below this many values (e.g. one 32x32 image in a per-image `map`), launching an XLA
#: kernel inside `tf.data` costs more than the TensorFlow ops it replaces.
MIN_JIT_ELEMENTS = 1 << 16
#: The values of every `jit_compile` argument of the kit.
JIT_COMPILE_CHOICES = ("auto", True, False)


def check_jit_compile(owner, jit_compile):
    """Returns `jit_compile` if it is `"auto"`, True or False, else raises a ValueError."""
    if isinstance(jit_compile, bool) or jit_compile == "auto":
        return jit_compile
    raise ValueError(
        f"{owner}: `jit_compile` must be 'auto', True or False. Received: "
        f"jit_compile={jit_compile!r}. Leave it at 'auto' unless XLA fails on your "
        "platform; then pass False."
    )


def check_positive_int(owner, arg, value):
    """Returns `value` as an int if it is a positive integer, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise ValueError(
            f"{owner}: `{arg}` must be a positive integer. Received: {arg}={value!r}. "
            f"Pass a whole number of pixels, e.g. {arg}=224."
        )
    return int(value)


def check_value_range(owner, value_range):
    """Returns `value_range` as a `(low, high)` float pair with `low < high`."""
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not np.isfinite([low, high]).all() or not low < high:
        raise ValueError(
            f"{owner}: `value_range` must be a pair of finite numbers (low, high) with "
            f"low < high. Received: value_range={value_range!r}. Use (0, 1) for float "
            "images in [0, 1] or (0, 255) for float images in [0, 255]."
        )
    return (low, high)


def as_image_tensor(owner, images):
    """Converts `images` to a dense tensor with a known rank of 3 or 4.

    Args:
        owner: String. Name used in error messages.
        images: Tensor-like. A single image `(H, W, C)` or a batch `(N, H, W, C)`.

    Returns:
        A `tf.Tensor`.
    """
    if isinstance(images, tf.RaggedTensor):
        raise ValueError(
            f"{owner}: `images` must be a dense tensor. Received: images=RaggedTensor "
            f"with shape {images.shape}. Apply the transform per image before `batch()`, "
            "or resize first so that the batch is dense."
        )
    if isinstance(images, tf.SparseTensor):
        raise ValueError(
            f"{owner}: `images` must be a dense tensor. Received: images=SparseTensor. "
            "Convert it with `tf.sparse.to_dense(images)`."
        )
    images = tf.convert_to_tensor(images)
    check_image_shape(owner, images.shape)
    check_image_dtype(owner, images.dtype)
    return images


def check_image_shape(owner, shape, channels=None, channels_hint=""):
    """Checks that `shape` is `(H, W, C)` or `(N, H, W, C)` with a known channel count.

    Args:
        owner: String. Name used in error messages.
        shape: `tf.TensorShape` or tuple. The static shape of the images.
        channels: Optional int. The channel count the caller requires.
        channels_hint: String. How to fix a wrong channel count.
    """
    shape = tf.TensorShape(shape)
    if shape.rank is None:
        raise ValueError(
            f"{owner}: `images` must have a known rank of 3 (height, width, channels) or "
            f"4 (batch, height, width, channels). Received: images.shape={shape}. "
            "Give the shape with `tf.ensure_shape(image, [None, None, 3])` after "
            "decoding."
        )
    if shape.rank not in (3, 4):
        raise ValueError(
            f"{owner}: `images` must have rank 3 (height, width, channels) or rank 4 "
            f"(batch, height, width, channels). Received: images.shape={shape} "
            f"(rank {shape.rank}). Add a channel axis to grayscale images with "
            "`image[..., None]`; for a batch of batches, `unbatch()` first."
        )
    num_channels = shape[-1]
    if num_channels is None:
        raise ValueError(
            f"{owner}: `images` must have a known number of channels. Received: "
            f"images.shape={shape}. Decode with an explicit channel count, e.g. "
            "`tf.io.decode_image(data, channels=3, expand_animations=False)`."
        )
    if channels is not None and num_channels != channels:
        raise ValueError(
            f"{owner}: `images` must have {channels} channel(s) (the last axis). "
            f"Received: images.shape={shape} with {num_channels} channel(s). "
            f"{channels_hint}"
        )


def check_image_dtype(owner, dtype):
    """Checks that `dtype` is an image dtype the kit can scale to [0, 1]."""
    dtype = tf.as_dtype(dtype)
    if dtype in INTEGER_IMAGE_DTYPES or dtype in FLOAT_IMAGE_DTYPES:
        return dtype
    raise ValueError(
        f"{owner}: `images` must be uint8, uint16 or a float dtype. Received: "
        f"images.dtype={dtype.name}. Decode images as uint8, or cast to float32 "
        "and declare their range with `value_range=(low, high)`."
    )


def output_float_dtype(dtype):
    """The float dtype transforms compute in: float64 stays float64, all else float32."""
    return tf.float64 if tf.as_dtype(dtype) == tf.float64 else tf.float32


def to_unit_float(images, value_range=(0.0, 1.0)):
    """Scales images to floats where `value_range` (or the integer full scale) maps to [0, 1].

    uint8 images are divided by 255 and uint16 by 65535, whatever `value_range` says;
    float images are mapped from `value_range` to [0, 1].

    Args:
        images: Tensor. Images of a dtype accepted by `check_image_dtype`.
        value_range: Pair of floats. The range of float inputs.

    Returns:
        A float32 tensor (float64 for float64 inputs).

    Example:

    >>> import tensorflow as tf
    >>> to_unit_float(tf.constant([0, 51, 255], tf.uint8)).numpy()
    array([0. , 0.2, 1. ], dtype=float32)
    """
    dtype = images.dtype
    out_dtype = output_float_dtype(dtype)
    if dtype in INTEGER_IMAGE_DTYPES:
        return tf.cast(images, out_dtype) / INTEGER_IMAGE_DTYPES[dtype]
    images = tf.cast(images, out_dtype)
    low, high = value_range
    if (low, high) == (0.0, 1.0):
        return images
    return (images - low) * (1.0 / (high - low))


def unit_to_input_units(value, dtype, value_range=(0.0, 1.0)):
    """Maps a value given in [0, 1] units back to the units of inputs of `dtype`."""
    dtype = tf.as_dtype(dtype)
    if dtype in INTEGER_IMAGE_DTYPES:
        return value * INTEGER_IMAGE_DTYPES[dtype]
    low, high = value_range
    return value * (high - low) + low


def ensure_writable_directory(owner, arg, path):
    """Creates `path` if needed and checks that files can be written in it.

    Returns:
        The absolute path.
    """
    path = os.path.abspath(os.fspath(path))
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".kak-write-test-{os.getpid()}")
        with open(probe, "wb") as handle:
            handle.write(b"")
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"{owner}: `{arg}` must be a directory the kit can write to. Received: "
            f"{arg}={path!r} ({error.strerror or error}). Pass a directory you own, "
            "e.g. `runs/`."
        ) from error
    return path
