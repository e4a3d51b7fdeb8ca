"""Keras 2's `ImageDataGenerator(...)` keyword arguments, translated to `Augment`'s.

`Augment.from_config` reads a dict without the layer keys (`name`, `trainable`) as these
arguments, verbatim. Those it cannot honour raise a ValueError that says what to use instead.
"""

import math
import numbers

#: The `ImageDataGenerator` arguments `Augment` takes with the same name and meaning
#: (`seed` too, although Keras 2 passed it to `flow`).
HONOURED = (
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "shear_range",
    "zoom_range",
    "horizontal_flip",
    "vertical_flip",
    "brightness_range",
    "channel_shift_range",
    "fill_mode",
    "cval",
    "seed",
)

#: Arguments `Augment` cannot honour, with what to use instead.
UNSUPPORTED = {
    "featurewise_center": "Normalize with `keras.layers.Normalization()` adapted on the "
    "training images (`layer.adapt(images)`), placed first in the model.",
    "featurewise_std_normalization": "Normalize with `keras.layers.Normalization()` adapted "
    "on the training images (`layer.adapt(images)`), placed first in the model.",
    "samplewise_center": "Standardize each image with "
    "`dataset.map(lambda x, y: (tf.image.per_image_standardization(x), y))` after augmenting.",
    "samplewise_std_normalization": "Standardize each image with "
    "`dataset.map(lambda x, y: (tf.image.per_image_standardization(x), y))` after augmenting.",
    "zca_whitening": "ZCA whitening is not offered: drop it (it rarely helps convolutional "
    "networks) or normalize with `keras.layers.Normalization()`.",
    "preprocessing_function": "Map the function yourself before augmenting: "
    "`dataset.map(function).map(kit.augment(...))`.",
    "validation_split": "Split the dataset first, e.g. `keras.utils.split_dataset(dataset, "
    "right_size=0.2)`, and augment only the training part.",
}
#: The values of the unsupported arguments that change nothing (so they are accepted).
_IGNORED_WHEN_DEFAULT = {
    "featurewise_center": False,
    "featurewise_std_normalization": False,
    "samplewise_center": False,
    "samplewise_std_normalization": False,
    "zca_whitening": False,
    "preprocessing_function": None,
    "validation_split": 0.0,
}

_OWNER = "Augment.from_config"


def _rescale(value):
    if value in (None, 0, 1):
        return {}
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isclose(value, 1 / 255, rel_tol=1e-3)
    ):
        return {"value_range": (0.0, 255.0)}
    raise ValueError(
        f"{_OWNER}: `rescale` must be None or 1/255. Received: rescale={value!r}. The kit "
        "scales images to [0, 1] itself: uint8 by 1/255; declare the range of float images "
        "with `value_range=(low, high)`."
    )


def _data_format(value):
    if value in (None, "channels_last"):
        return {}
    raise ValueError(
        f"{_OWNER}: `data_format` must be 'channels_last'. Received: data_format={value!r}. "
        "Transpose channels-first images first with `tf.transpose(images, [0, 2, 3, 1])` "
        "(batches) or `[1, 2, 0]` (one image)."
    )


def _interpolation_order(value):
    if value in (0, 1):
        return {"interpolation": "nearest" if value == 0 else "bilinear"}
    raise ValueError(
        f"{_OWNER}: `interpolation_order` must be 0 (nearest) or 1 (bilinear). Received: "
        f"interpolation_order={value!r}. Use 1."
    )


def _dtype(value):
    if value in (None, "float32"):
        return {}
    raise ValueError(
        f"{_OWNER}: `dtype` must be 'float32'. Received: dtype={value!r}. Augment outputs "
        "float32 (float64 for float64 input); cast afterwards."
    )


def _unsupported(key, value):
    default = _IGNORED_WHEN_DEFAULT[key]
    if value == default or value is None:
        return {}
    raise ValueError(
        f"{_OWNER}: `{key}` must be {default!r} (it is not supported). Received: "
        f"{key}={value!r}. {UNSUPPORTED[key]}"
    )


#: Arguments translated to other `Augment` arguments (or to nothing), by function.
_TRANSLATED = {
    "rescale": _rescale,
    "data_format": _data_format,
    "interpolation_order": _interpolation_order,
    "dtype": _dtype,
    "zca_epsilon": lambda value: {},  # only used with zca_whitening
}


def augment_arguments(image_data_generator_kwargs):
    """`Augment`'s keyword arguments for Keras 2 `ImageDataGenerator` keyword arguments.

    Args:
        image_data_generator_kwargs: Dict. What was passed to `ImageDataGenerator(...)`.

    Returns:
        A dict of `Augment` keyword arguments.

    Example:

    >>> augment_arguments({"rotation_range": 15, "rescale": 1 / 255, "zca_whitening": False})
    {'rotation_range': 15, 'value_range': (0.0, 255.0)}
    """
    result = {}
    for key, value in dict(image_data_generator_kwargs).items():
        if key in UNSUPPORTED:
            result.update(_unsupported(key, value))
        elif key in _TRANSLATED:
            result.update(_TRANSLATED[key](value))
        elif key in HONOURED:
            result[key] = value
        else:
            known = sorted(set(HONOURED) | set(UNSUPPORTED) | set(_TRANSLATED) - {"zca_epsilon"})
            raise ValueError(
                f"{_OWNER}: `{key}` must be an ImageDataGenerator argument. "
                f"Received: {key}={value!r}. Known arguments: {known}."
            )
    return result
