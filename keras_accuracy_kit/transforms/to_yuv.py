"""ToYUV: RGB to YUV as a tf.data transform and a Keras layer."""

from keras_accuracy_kit.transforms.color_transform import ColorTransform
from keras_accuracy_kit.transforms.functional import color
from keras_accuracy_kit.transforms.registry import register_transform

# The extremes of U and V in tf.image.rgb_to_yuv over the RGB cube (BT.601 analogue YUV).
_U_MAX = 0.43601035
_V_MAX = 0.61497538


@register_transform
class ToYUV(ColorTransform):
    """Converts RGB images to YUV with `tf.image.rgb_to_yuv`.

    YUV puts the luma (Y) in one channel and colour differences in two: a cheap way to
    let a network treat brightness and colour separately.

    Output ranges per channel (Y, U, V):
    - `"native"`: Y in [0, 1], U in [-0.436, 0.436], V in [-0.615, 0.615];
    - `"unit"`: each mapped to [0, 1] (U and V centred on 0.5);
    - `"symmetric"`: each mapped to [-1, 1].

    Input shape: `(H, W, 3)` or `(N, H, W, 3)`, uint8/uint16 or float in `value_range`.
    Output shape: same as input, float32 (float64 for float64 input).

    Args:
        output_range: `"native"`, `"unit"` or `"symmetric"`, as above. Defaults to
            `"native"`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import tensorflow as tf
    >>> import keras_accuracy_kit as kit
    >>> white = tf.ones([1, 1, 3])
    >>> [round(float(v), 3) for v in kit.to_yuv(output_range="unit")(white)[0, 0]]
    [1.0, 0.5, 0.5]
    """

    channel_ranges = ((0.0, 1.0), (-_U_MAX, _U_MAX), (-_V_MAX, _V_MAX))

    def convert(self, images):
        return color.rgb_to_yuv(images)
