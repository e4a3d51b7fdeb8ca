"""Resize: aspect-keeping resize (letterbox or centre crop) as a tf.data transform and layer."""

import tensorflow as tf

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.transforms.functional import geometry
from keras_accuracy_kit.transforms.image_transform import ImageTransform
from keras_accuracy_kit.transforms.registry import register_transform


@register_transform
class Resize(ImageTransform):
    """Resizes images to `(height, width)` without distorting them, per image or batched.

    Image size is one of the cheapest accuracy knobs, but `tf.image.resize` stretches
    images whose aspect ratio differs from the target, which changes shapes the model must
    recognise. `mode="pad"` scales the whole image to fit and letterboxes it (centred);
    `mode="crop"` scales it to cover the target and cuts the centre; `mode="stretch"` is
    plain `tf.image.resize`. The crop is taken before resampling and the padding added
    after it, so only output pixels are interpolated: faster than
    `keras.layers.Resizing(pad_to_aspect_ratio=True)`, which pads the source first.

    Map it before `batch()` to bring images of different sizes to one size, or after it on
    batches of one size.

    Input shape: `(H, W, C)` or `(N, H, W, C)`, uint8/uint16 or float in `value_range`.
    Output shape: `(height, width, C)` or `(N, height, width, C)`, float32 in [0, 1]
    (float64 for float64 input).

    Args:
        height: Positive int, at most 65536. Output height in pixels.
        width: Positive int, at most 65536. Output width in pixels.
        mode: `"pad"`, `"crop"` or `"stretch"`. Defaults to `"pad"`.
        interpolation: A `tf.image.resize` method: `"bilinear"`, `"nearest"`,
            `"bicubic"`, `"area"`, `"lanczos3"`, `"lanczos5"`, `"gaussian"` or
            `"mitchellcubic"`. Defaults to `"bilinear"`.
        antialias: Bool. Low-pass filter when downsampling (slower, fewer aliasing
            artefacts), as in `tf.image.resize`. Defaults to `False`.
        pad_value: Float, or one float per channel, in output units ([0, 1]): the colour
            of the letterbox bars in `"pad"` mode. Defaults to `0.0`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import tensorflow as tf
    >>> import keras_accuracy_kit as kit
    >>> photos = tf.data.Dataset.from_generator(
    ...     lambda: (tf.zeros([h, w, 3], tf.uint8) for h, w in [(480, 640), (300, 200)]),
    ...     output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    >>> batch = next(iter(photos.map(kit.resize(224, 224)).batch(2)))
    >>> batch.shape, batch.dtype.name
    (TensorShape([2, 224, 224, 3]), 'float32')
    """

    def __init__(
        self,
        height,
        width,
        mode="pad",
        interpolation="bilinear",
        antialias=False,
        pad_value=0.0,
        value_range=(0.0, 1.0),
        **kwargs,
    ):
        super().__init__(value_range=value_range, **kwargs)
        self.height, self.width, self.mode, self.interpolation = geometry.check_resize_arguments(
            "Resize", height, width, mode, interpolation
        )
        self.antialias = checks.check_bool("Resize", "antialias", antialias, error=ValueError)
        self.pad_value = _check_pad_value(pad_value)

    def check_input_shape(self, shape):
        if isinstance(self.pad_value, list) and len(self.pad_value) != shape[-1]:
            raise ValueError(
                f"Resize: `pad_value` must have one value per channel. Received: "
                f"pad_value={self.pad_value!r} for images with {shape[-1]} channel(s). "
                "Pass one float, or as many as the images have channels."
            )

    def call(self, inputs):
        images = checks.as_image_tensor(self._owner, inputs)
        self.check_input_shape(images.shape)
        images = checks.check_image_values(self._owner, images, self.value_range)
        source_dtype = images.dtype
        # Resample in the input's units and scale afterwards: resampling is linear, so the
        # result is the same, and the output is smaller than the input. The pad value is
        # mapped to input units accordingly.
        if source_dtype in (tf.float16, tf.bfloat16) or (
            source_dtype in checks.INTEGER_IMAGE_DTYPES and self.interpolation == "nearest"
        ):
            images = tf.cast(images, tf.float32)
        if isinstance(self.pad_value, list):
            pad_value = [
                checks.unit_to_input_units(v, source_dtype, self.value_range)
                for v in self.pad_value
            ]
        else:
            pad_value = checks.unit_to_input_units(self.pad_value, source_dtype, self.value_range)
        resized = geometry.resize_images(
            images,
            self.height,
            self.width,
            mode=self.mode,
            interpolation=self.interpolation,
            antialias=self.antialias,
            pad_value=pad_value,
        )
        if source_dtype in checks.INTEGER_IMAGE_DTYPES:
            return resized / checks.INTEGER_IMAGE_DTYPES[source_dtype]
        resized = tf.cast(resized, checks.output_float_dtype(source_dtype))
        return checks.to_unit_float(resized, self.value_range)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "height": self.height,
                "width": self.width,
                "mode": self.mode,
                "interpolation": self.interpolation,
                "antialias": self.antialias,
                "pad_value": self.pad_value,
            }
        )
        return config


def _is_unit_value(value):
    return checks.is_finite_number(value) and 0.0 <= value <= 1.0


def _check_pad_value(pad_value):
    if isinstance(pad_value, (list, tuple)):
        values = checks.check_list(
            "Resize", "pad_value", pad_value, _is_unit_value,
            "floats in output units [0, 1], one per channel", "[0.5, 0.5, 0.5]",
        )  # fmt: skip
        return [float(v) for v in values]
    return checks.check_number(
        "Resize", "pad_value", pad_value, low=0, high=1,
        expectation="a float or a list of one float per channel, in output units [0, 1]",
        fix="E.g. pad_value=0.5 for gray bars.",
    )  # fmt: skip
