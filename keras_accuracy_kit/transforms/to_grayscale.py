"""ToGrayscale: RGB to grayscale as a tf.data transform and a Keras layer."""

import numbers

from keras_accuracy_kit.transforms.color_transform import ColorTransform
from keras_accuracy_kit.transforms.functional import color
from keras_accuracy_kit.transforms.registry import register_transform


@register_transform
class ToGrayscale(ColorTransform):
    """Converts RGB images to grayscale, with one channel or three.

    Fewer channels mean fewer inputs to fit: when colour carries no class information
    (digits, documents, X-rays), grayscale often trains faster and generalises better.
    With `keep_channels=3` the gray value is repeated so that a model (or a pretrained
    backbone) built for RGB input takes it unchanged.

    Output range: `"native"` and `"unit"` in [0, 1] (for weights that sum to 1);
    `"symmetric"`: `2 * gray - 1` in [-1, 1].

    Input shape: `(H, W, 3)` or `(N, H, W, 3)`, uint8/uint16 or float in `value_range`.
    Output shape: `(..., keep_channels)`, float32 (float64 for float64 input).

    Args:
        keep_channels: 1 or 3. Number of output channels. Defaults to `1`.
        weights: `"rec601"` (0.2989, 0.5870, 0.1140, as `tf.image.rgb_to_grayscale`),
            `"rec709"` (0.2125, 0.7154, 0.0721, as `skimage.color.rgb2gray`) or three
            non-negative floats that sum to 1. Defaults to `"rec601"`.
        output_range: `"native"`, `"unit"` or `"symmetric"`, as above. Defaults to
            `"native"`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import tensorflow as tf
    >>> import keras_accuracy_kit as kit
    >>> images = tf.random.stateless_uniform([2, 8, 8, 3], seed=(1, 2))
    >>> kit.to_grayscale(keep_channels=3)(images).shape
    TensorShape([2, 8, 8, 3])
    """

    channel_ranges = ((0.0, 1.0),)

    def __init__(
        self,
        keep_channels=1,
        weights="rec601",
        output_range="native",
        value_range=(0.0, 1.0),
        **kwargs,
    ):
        super().__init__(output_range=output_range, value_range=value_range, **kwargs)
        if (
            isinstance(keep_channels, bool)
            or not isinstance(keep_channels, numbers.Integral)
            or keep_channels not in (1, 3)
        ):
            raise ValueError(
                "ToGrayscale: `keep_channels` must be 1 or 3. Received: "
                f"keep_channels={keep_channels!r}. Use 3 to feed a model built for RGB "
                "input."
            )
        self.keep_channels = int(keep_channels)
        resolved = color.grayscale_weights("ToGrayscale", weights)
        self.weights_name = weights if isinstance(weights, str) else None
        self.channel_weights = resolved

    def convert(self, images):
        return color.rgb_to_grayscale(images, self.channel_weights, self.keep_channels)

    def transform_images(self, images):
        gray = self.convert(images)
        return color.rescale_channels(
            gray, self.channel_ranges * self.keep_channels, self.output_range
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.keep_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "keep_channels": self.keep_channels,
                "weights": self.weights_name or list(self.channel_weights),
            }
        )
        return config
