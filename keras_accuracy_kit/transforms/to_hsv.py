"""ToHSV: RGB to HSV as a tf.data transform and a Keras layer."""

from keras_accuracy_kit.transforms.color_transform import ColorTransform
from keras_accuracy_kit.transforms.functional import color
from keras_accuracy_kit.transforms.registry import register_transform


@register_transform
class ToHSV(ColorTransform):
    """Converts RGB images to HSV (hue, saturation, value) with `tf.image.rgb_to_hsv`.

    HSV separates the colour's hue from its strength and brightness: try it when classes
    differ by hue and lighting varies. The values match `skimage.color.rgb2hsv`.

    Output ranges per channel (H, S, V):
    - `"native"` and `"unit"`: all three in [0, 1] (hue is a fraction of a full turn);
    - `"symmetric"`: `2 * x - 1`, all in [-1, 1].

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
    >>> red = tf.constant([[[255, 0, 0]]], tf.uint8)
    >>> [float(v) for v in kit.to_hsv()(red)[0, 0]]
    [0.0, 1.0, 1.0]
    """

    channel_ranges = ((0.0, 1.0), (0.0, 1.0), (0.0, 1.0))

    def convert(self, images):
        return color.rgb_to_hsv(images)
