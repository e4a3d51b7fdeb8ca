"""The shared base of the colour-space transforms: RGB input and an output range."""

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.transforms.functional import color
from keras_accuracy_kit.transforms.image_transform import ImageTransform

OUTPUT_RANGES = ("native", "unit", "symmetric")


class ColorTransform(ImageTransform):
    """Base of the transforms that convert RGB images to another colour space.

    Args:
        output_range: `"native"` keeps the colour space's own units; `"unit"` maps each
            channel's nominal range to [0, 1]; `"symmetric"` maps it to [-1, 1] (what
            networks initialised for zero-centred input like). Subclasses document
            their native ranges. Defaults to `"native"`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.
        **kwargs: Base `keras.layers.Layer` arguments.
    """

    #: Nominal `(low, high)` per output channel in native units; set by subclasses.
    channel_ranges = ()

    def __init__(self, output_range="native", value_range=(0.0, 1.0), **kwargs):
        super().__init__(value_range=value_range, **kwargs)
        self.output_range = checks.check_choice(
            type(self).__name__, "output_range", output_range, OUTPUT_RANGES
        )

    def check_input_shape(self, shape):
        checks.check_image_shape(
            self._owner,
            shape,
            channels=3,
            channels_hint=(
                "Colour conversions need RGB input: drop an alpha channel with "
                "`image[..., :3]`; a 1-channel image is already gray (convert it with "
                "`tf.image.grayscale_to_rgb` first if you want it in this colour space)."
            ),
        )

    def transform_images(self, images):
        converted = self.convert(images)
        return color.rescale_channels(converted, self.channel_ranges, self.output_range)

    def convert(self, images):
        """Converts float RGB images in [0, 1] to native units of the colour space."""
        raise NotImplementedError(f"{type(self).__name__} must implement `convert`.")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"output_range": self.output_range})
        return config
