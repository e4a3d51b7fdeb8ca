"""Pure TensorFlow colour-space conversions: tensor in, tensor out.

All functions take RGB images in [0, 1] (uint8 and uint16 are scaled by their full scale),
of shape `(..., 3)` -- a single image `(H, W, 3)`, a batch `(N, H, W, 3)` or any other rank
as long as the channels are last -- and return floats (float64 stays float64, everything
else is float32). They work eagerly, inside `tf.function` and in `tf.data` pipelines.

The CIE-Lab conversion follows `skimage.color.rgb2lab`: sRGB companding, the sRGB/D65
matrix, the 2 degree D65 white point `(0.95047, 1.0, 1.08883)`, L in [0, 100]. When the
input shape is fully known it runs as one XLA-fused kernel (`jit_compile="auto"`), which is
what makes it several times faster than scikit-image on the CPU.
"""

import numbers

import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks

#: Grayscale weights: Rec.601 luma as `tf.image.rgb_to_grayscale`, Rec.709 as
#: `skimage.color.rgb2gray`.
GRAYSCALE_WEIGHTS = {
    "rec601": (0.2989, 0.5870, 0.1140),
    "rec709": (0.2125, 0.7154, 0.0721),
}

# scikit-image's `xyz_from_rgb` (sRGB, D65) and the 2 degree D65 reference white.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
# Rows of the white-normalised RGB -> XYZ matrix, and its inverse with the white folded in.
_XYZN_FROM_RGB = _XYZ_FROM_RGB / _D65_WHITE[:, None]
_RGB_FROM_XYZN = np.linalg.inv(_XYZ_FROM_RGB) * _D65_WHITE[None, :]
# f(t) -> (L, a, b): L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz).
_LAB_FROM_F = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_F_FROM_LAB = np.linalg.inv(_LAB_FROM_F)
_LAB_OFFSET = np.array([16.0, 0.0, 0.0])

_RGB_HINT = (
    "Colour conversions need RGB input: drop an alpha channel with `image[..., :3]`, "
    "or turn a 1-channel image into RGB with `tf.image.grayscale_to_rgb`."
)


def _rgb_images(owner, images, channels_hint=_RGB_HINT):
    """Converts, validates (3 channels, known rank) and scales images to floats."""
    images = tf.convert_to_tensor(images)
    checks.check_image_dtype(owner, images.dtype)
    shape = images.shape
    if shape.rank is None or shape.rank < 1 or shape[-1] != 3:
        channels = None if shape.rank is None or shape.rank < 1 else shape[-1]
        raise ValueError(
            f"{owner}: `images` must have 3 channels on the last axis. Received: "
            f"images.shape={shape} with {channels} channel(s). {channels_hint}"
        )
    return checks.to_unit_float(images)


def _three_channel_floats(owner, images, hint):
    """Validates a 3-channel float image in another colour space (no rescaling)."""
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        raise ValueError(
            f"{owner}: `images` must be a float tensor. Received: "
            f"images.dtype={images.dtype.name}. Cast with `tf.cast(images, tf.float32)`."
        )
    if images.shape.rank is None or images.shape.rank < 1 or images.shape[-1] != 3:
        raise ValueError(
            f"{owner}: `images` must have 3 channels on the last axis. Received: "
            f"images.shape={images.shape}. {hint}"
        )
    return tf.cast(images, checks.output_float_dtype(images.dtype))


def _use_jit(owner, jit_compile, images):
    checks.check_jit_compile(owner, jit_compile)
    if jit_compile == "auto":
        # A fully known shape compiles once; unknown shapes (images of many sizes before
        # `batch()`) would compile once per size, so they take the plain graph path.
        return images.shape.is_fully_defined()
    return bool(jit_compile)


def _apply_3x3(images, matrix):
    """`images @ matrix.T` over the last axis, as one matmul on a flat pixel view."""
    shape = tf.shape(images)
    flat = tf.reshape(images, [-1, 3])
    out = tf.reshape(tf.matmul(flat, tf.constant(matrix.T, dtype=images.dtype)), shape)
    out.set_shape(images.shape)
    return out


def _power(values, exponent):
    """`values ** exponent` for positive values as exp(log): fuses and vectorises well."""
    tiny = np.finfo(values.dtype.as_numpy_dtype).tiny
    return tf.exp(exponent * tf.math.log(tf.maximum(values, tiny)))


def _rgb_to_lab_kernel(rgb):
    linear = tf.where(
        rgb > 0.04045, _power((rgb + 0.055) * (1.0 / 1.055), 2.4), rgb * (1.0 / 12.92)
    )
    xyz = _apply_3x3(linear, _XYZN_FROM_RGB)
    f = tf.where(xyz > 0.008856, _power(xyz, 1.0 / 3.0), xyz * 7.787 + 16.0 / 116.0)
    return _apply_3x3(f, _LAB_FROM_F) - tf.constant(_LAB_OFFSET, dtype=rgb.dtype)


def _lab_to_rgb_kernel(lab):
    f = _apply_3x3(lab + tf.constant(_LAB_OFFSET, dtype=lab.dtype), _F_FROM_LAB)
    # As scikit-image: a negative z (out-of-gamut b) is clipped to zero.
    f = tf.concat([f[..., :2], tf.maximum(f[..., 2:], 0.0)], axis=-1)
    xyz = tf.where(f > 0.2068966, f * f * f, (f - 16.0 / 116.0) * (1.0 / 7.787))
    linear = _apply_3x3(xyz, _RGB_FROM_XYZN)
    rgb = tf.where(
        linear > 0.0031308,
        1.055 * _power(linear, 1.0 / 2.4) - 0.055,
        linear * 12.92,
    )
    return tf.clip_by_value(rgb, 0.0, 1.0)


_rgb_to_lab_xla = tf.function(_rgb_to_lab_kernel, jit_compile=True, reduce_retracing=True)
_lab_to_rgb_xla = tf.function(_lab_to_rgb_kernel, jit_compile=True, reduce_retracing=True)


def rgb_to_lab(images, jit_compile="auto"):
    """Converts sRGB images to CIE-Lab (D65, 2 degree observer), as `skimage.color.rgb2lab`.

    Args:
        images: Tensor of shape `(..., 3)`. RGB in [0, 1]; uint8/uint16 are scaled to it.
        jit_compile: `"auto"`, `True` or `False`. Run as one XLA-fused kernel. `"auto"`
            compiles when the shape is fully known (batches, resized images) and uses the
            plain graph otherwise. Defaults to `"auto"`.

    Returns:
        Float tensor of the same shape: L in [0, 100], a and b in about [-128, 128]
        (the sRGB gamut spans a in [-86.2, 98.2], b in [-107.9, 94.5]).

    Example:

    >>> import tensorflow as tf
    >>> lab = rgb_to_lab(tf.constant([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))
    >>> [[round(float(v), 2) + 0.0 for v in pixel] for pixel in lab]
    [[100.0, 0.0, 0.0], [53.24, 80.09, 67.2]]
    """
    images = _rgb_images("rgb_to_lab", images)
    if _use_jit("rgb_to_lab", jit_compile, images):
        return _rgb_to_lab_xla(images)
    return _rgb_to_lab_kernel(images)


def lab_to_rgb(images, jit_compile="auto"):
    """Converts CIE-Lab images (D65, 2 degree observer) back to sRGB, as `skimage.color.lab2rgb`.

    Out-of-gamut colours are clipped to [0, 1], as scikit-image does.

    Args:
        images: Float tensor of shape `(..., 3)`: L in [0, 100], a and b unscaled.
        jit_compile: `"auto"`, `True` or `False`. See `rgb_to_lab`. Defaults to `"auto"`.

    Returns:
        Float tensor of the same shape, RGB in [0, 1].

    Example:

    >>> import tensorflow as tf
    >>> rgb = lab_to_rgb(tf.constant([[53.2408, 80.0925, 67.2032]]))
    >>> [round(float(v), 3) + 0.0 for v in rgb[0]]
    [1.0, 0.0, 0.0]
    """
    images = _three_channel_floats(
        "lab_to_rgb", images, "Pass (L, a, b) on the last axis, as `rgb_to_lab` returns."
    )
    if _use_jit("lab_to_rgb", jit_compile, images):
        return _lab_to_rgb_xla(images)
    return _lab_to_rgb_kernel(images)


def rgb_to_hsv(images):
    """Converts RGB images to HSV with `tf.image.rgb_to_hsv`; matches `skimage.color.rgb2hsv`.

    Args:
        images: Tensor of shape `(..., 3)`. RGB in [0, 1]; uint8/uint16 are scaled to it.

    Returns:
        Float tensor of the same shape; hue, saturation and value all in [0, 1].

    Example:

    >>> import tensorflow as tf
    >>> hsv = rgb_to_hsv(tf.constant([[0.0, 1.0, 0.0]]))
    >>> [round(float(v), 4) for v in hsv[0]]
    [0.3333, 1.0, 1.0]
    """
    return tf.image.rgb_to_hsv(_rgb_images("rgb_to_hsv", images))


def hsv_to_rgb(images):
    """Converts HSV images (all channels in [0, 1]) back to RGB with `tf.image.hsv_to_rgb`.

    Args:
        images: Float tensor of shape `(..., 3)`.

    Returns:
        Float tensor of the same shape, RGB in [0, 1].

    Example:

    >>> import tensorflow as tf
    >>> [float(v) for v in hsv_to_rgb(tf.constant([[0.0, 1.0, 1.0]]))[0]]
    [1.0, 0.0, 0.0]
    """
    images = _three_channel_floats(
        "hsv_to_rgb", images, "Pass (hue, saturation, value) on the last axis."
    )
    return tf.image.hsv_to_rgb(images)


def rgb_to_yuv(images):
    """Converts RGB images to YUV with `tf.image.rgb_to_yuv` (BT.601 analogue YUV).

    Args:
        images: Tensor of shape `(..., 3)`. RGB in [0, 1]; uint8/uint16 are scaled to it.

    Returns:
        Float tensor of the same shape: Y in [0, 1], U in [-0.436, 0.436],
        V in [-0.615, 0.615].

    Example:

    >>> import tensorflow as tf
    >>> [round(float(v), 3) + 0.0 for v in rgb_to_yuv(tf.constant([[1.0, 1.0, 1.0]]))[0]]
    [1.0, 0.0, 0.0]
    """
    return tf.image.rgb_to_yuv(_rgb_images("rgb_to_yuv", images))


def yuv_to_rgb(images):
    """Converts YUV images back to RGB with `tf.image.yuv_to_rgb`.

    Args:
        images: Float tensor of shape `(..., 3)`.

    Returns:
        Float tensor of the same shape.

    Example:

    >>> import tensorflow as tf
    >>> [round(float(v), 3) for v in yuv_to_rgb(tf.constant([[1.0, 0.0, 0.0]]))[0]]
    [1.0, 1.0, 1.0]
    """
    images = _three_channel_floats("yuv_to_rgb", images, "Pass (Y, U, V) on the last axis.")
    return tf.image.yuv_to_rgb(images)


def rgb_to_grayscale(images, weights="rec601", keep_channels=1):
    """Converts RGB images to grayscale as a weighted sum of the channels.

    Args:
        images: Tensor of shape `(..., 3)`. RGB in [0, 1]; uint8/uint16 are scaled to it.
        weights: `"rec601"` (0.2989, 0.5870, 0.1140 -- as `tf.image.rgb_to_grayscale`),
            `"rec709"` (0.2125, 0.7154, 0.0721 -- as `skimage.color.rgb2gray`) or three
            non-negative floats that sum to 1. Defaults to `"rec601"`.
        keep_channels: 1 or 3. With 3, the gray channel is repeated so that a model built
            for RGB input takes it unchanged. Defaults to `1`.

    Returns:
        Float tensor of shape `(..., keep_channels)` in [0, 1].

    Example:

    >>> import tensorflow as tf
    >>> gray = rgb_to_grayscale(tf.constant([[1.0, 0.0, 0.0]]), weights="rec709")
    >>> round(float(gray[0, 0]), 4)
    0.2125
    """
    weights = grayscale_weights("rgb_to_grayscale", weights)
    if (
        isinstance(keep_channels, bool)
        or not isinstance(keep_channels, numbers.Integral)
        or keep_channels not in (1, 3)
    ):
        raise ValueError(
            "rgb_to_grayscale: `keep_channels` must be 1 or 3. Received: "
            f"keep_channels={keep_channels!r}. Use 3 to feed a model built for RGB input."
        )
    images = _rgb_images("rgb_to_grayscale", images)
    gray = tf.reduce_sum(images * tf.constant(weights, dtype=images.dtype), axis=-1, keepdims=True)
    if keep_channels == 3:
        gray = tf.concat([gray, gray, gray], axis=-1)
    return gray


def grayscale_weights(owner, weights):
    """Resolves a weights name or triple to a tuple of three floats."""
    if isinstance(weights, str):
        if weights not in GRAYSCALE_WEIGHTS:
            raise ValueError(
                f"{owner}: `weights` must be one of {sorted(GRAYSCALE_WEIGHTS)} or three "
                f"floats. Received: weights={weights!r}. Use 'rec601' (as tf.image) or "
                "'rec709' (as scikit-image)."
            )
        return GRAYSCALE_WEIGHTS[weights]
    try:
        values = tuple(float(w) for w in weights)
    except (TypeError, ValueError):
        values = ()
    if (
        len(values) != 3
        or not np.isfinite(values).all()
        or min(values) < 0
        or not abs(sum(values) - 1.0) <= 1e-3
    ):
        raise ValueError(
            f"{owner}: `weights` must be one of {sorted(GRAYSCALE_WEIGHTS)} or three "
            "non-negative floats that sum to 1 (a weighted mean, so that gray stays in the "
            f"range of the input). Received: weights={weights!r}. Pass e.g. "
            "(0.299, 0.587, 0.114)."
        )
    return values


def rescale_channels(images, channel_ranges, output_range):
    """Maps each channel from its native range to [0, 1] or [-1, 1].

    Args:
        images: Float tensor `(..., C)`.
        channel_ranges: Sequence of `C` `(low, high)` pairs, the native range per channel.
        output_range: `"native"` (unchanged), `"unit"` ([0, 1]) or `"symmetric"` ([-1, 1]).

    Returns:
        Float tensor of the same shape.

    Example:

    >>> import tensorflow as tf
    >>> lab = tf.constant([[50.0, -128.0, 128.0]])
    >>> rescale_channels(lab, [(0, 100), (-128, 128), (-128, 128)], "unit").numpy()
    array([[0.5, 0. , 1. ]], dtype=float32)
    """
    if output_range == "native":
        return images
    low = np.array([r[0] for r in channel_ranges], dtype=np.float64)
    high = np.array([r[1] for r in channel_ranges], dtype=np.float64)
    if output_range == "unit":
        scale, offset = 1.0 / (high - low), -low / (high - low)
    else:
        scale, offset = 2.0 / (high - low), -(high + low) / (high - low)
    dtype = images.dtype
    return images * tf.constant(scale, dtype) + tf.constant(offset, dtype)
