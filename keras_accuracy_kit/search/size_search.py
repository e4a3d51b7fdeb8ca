"""SizeSearch: the input image size (and colour space, augmentation) as searched choices."""

import numbers

import tensorflow as tf

from keras_accuracy_kit import transforms
from keras_accuracy_kit._core import checks
from keras_accuracy_kit.search.depth_search import DepthSearch
from keras_accuracy_kit.search.requirements import import_keras_tuner
from keras_accuracy_kit.transforms.functional import geometry

keras_tuner = import_keras_tuner()

#: Searchable colour spaces and the kit transform each one maps to (None: keep RGB).
COLOR_SPACES = {
    "rgb": None,
    "grayscale": lambda: transforms.ToGrayscale(keep_channels=3, output_range="unit"),
    "hsv": lambda: transforms.ToHSV(output_range="unit"),
    "lab": lambda: transforms.ToLab(output_range="unit"),
    "yuv": lambda: transforms.ToYUV(output_range="unit"),
}


class SizeSearch(keras_tuner.HyperModel):
    """Searches the input image size by rebuilding the input pipeline in every trial.

    The right size (28, 32, 64, 128, 224) depends on the data, and a size is only tried
    if both the model and the pipeline change with it. Each trial draws `"image_size"`
    from `sizes`, builds the wrapped `hypermodel` for `(size, size, channels)` inputs,
    and its `fit` maps `kit.resize(size, size, mode=mode)` over the training and
    validation datasets before handing them on. Optionally it also searches the colour
    space (`"color_space"`: the kit's `to_grayscale`/`to_hsv`/`to_lab`/`to_yuv`) and the
    augmentation strength (`"augment_strength"` `s`: `kit.augment` with rotations up to
    `90 * s` degrees, shifts and zoom of `s`; 0 turns it off, validation is never
    augmented). A searched learning rate comes from the wrapped hypermodel
    (`DepthSearch(learning_rate=(low, high))`).

    `train` and `validation` must be `tf.data.Dataset`s of `(images, labels)`, batched
    or not; `kit.search.tune` turns arrays into such datasets.

    Args:
        sizes: Sequence of positive ints. Square image sizes to try. Defaults to
            `(28, 32, 64, 128)`.
        mode: `"pad"`, `"crop"` or `"stretch"`, as in `kit.resize`. Defaults to `"pad"`.
        hypermodel: The model to build per size: a `DepthSearch` (its `input_shape`
            gives the channels), any object with `build_model(hp, input_shape)`, or a
            function `build(hp, input_shape) -> compiled keras.Model`. Defaults to
            `None`: `DepthSearch("conv_bn", max_blocks=4)` with `num_classes=10`.
        color_spaces: Optional sequence of `"rgb"`, `"grayscale"`, `"hsv"`, `"lab"`,
            `"yuv"` to search (RGB input with 3 channels). Defaults to `None`.
        augment_strengths: Optional sequence of floats in [0, 1] to search. Defaults to
            `None`.
        channels: Optional positive int. Image channels when `hypermodel` has no
            `input_shape`. Defaults to `None` (from the hypermodel, else 3).
        seed: Optional int. Seed of the augmentation. Defaults to `None`.
        value_range: Pair of floats. The range of float input images, as in every kit
            transform: `(0, 255)` for `keras.utils.image_dataset_from_directory` data.
            uint8 images need none. The resized images passed on are in [0, 1].
            Defaults to `(0.0, 1.0)`.
        name: Optional string. Defaults to `None`.
        tunable: Bool. Defaults to `True`.

    Example:

    ```python
    depth = kit.search.DepthSearch("conv_bn", max_blocks=4, input_shape=(32, 32, 3),
                                   num_classes=10, learning_rate=(1e-4, 1e-2))
    search = kit.search.SizeSearch(sizes=(32, 64, 128), mode="pad", hypermodel=depth,
                                   color_spaces=("rgb", "lab"), augment_strengths=(0, 0.1))
    result = kit.search.tune(search, train, validation, strategy="bayesian", max_trials=12)
    ```
    """

    def __init__(
        self,
        sizes=(28, 32, 64, 128),
        mode="pad",
        hypermodel=None,
        color_spaces=None,
        augment_strengths=None,
        channels=None,
        seed=None,
        value_range=(0.0, 1.0),
        name=None,
        tunable=True,
    ):
        super().__init__(name=name, tunable=tunable)
        owner = "SizeSearch"
        self.sizes = _sizes(owner, sizes)
        self.mode = checks.check_choice(owner, "mode", mode, geometry.RESIZE_MODES)
        if hypermodel is None:
            hypermodel = DepthSearch("conv_bn", max_blocks=4, input_shape=(32, 32, channels or 3))
        if not (hasattr(hypermodel, "build_model") or callable(hypermodel)):
            raise TypeError(
                f"{owner}: `hypermodel` must be a DepthSearch, an object with "
                "`build_model(hp, input_shape)` or a function `build(hp, input_shape)`. "
                f"Received: hypermodel={hypermodel!r}."
            )
        self.hypermodel = hypermodel
        if channels is None:
            shape = getattr(hypermodel, "input_shape", None)
            channels = shape[-1] if shape else 3
        self.channels = checks.check_int(owner, "channels", channels, example=3)
        self.color_spaces = _color_spaces(owner, color_spaces, self.channels)
        self.augment_strengths = _strengths(owner, augment_strengths)
        self.seed = seed
        self.value_range = checks.check_value_range(owner, value_range)

    def build(self, hp):
        size = hp.Choice("image_size", list(self.sizes))
        if self.color_spaces:
            hp.Choice("color_space", list(self.color_spaces))
        if self.augment_strengths:
            hp.Choice("augment_strength", list(self.augment_strengths))
        input_shape = (size, size, self.channels)
        if hasattr(self.hypermodel, "build_model"):
            return self.hypermodel.build_model(hp, input_shape)
        return self.hypermodel(hp, input_shape)

    def pipeline(self, hp, training):
        """The trial's transforms, in order: resize, augmentation (training only), colour.

        Args:
            hp: `keras_tuner.HyperParameters` of the trial.
            training: Bool. Whether the transforms are for the training data.

        Returns:
            A list of kit transforms to `map` over `(images, labels)` datasets.
        """
        size = hp.get("image_size")
        # Resize reads `value_range` and outputs [0, 1]: the later steps take their default.
        steps = [transforms.Resize(size, size, mode=self.mode, value_range=self.value_range)]
        strength = hp.get("augment_strength") if self.augment_strengths else 0.0
        if training and strength > 0:
            steps.append(
                transforms.Augment(
                    rotation_range=90.0 * strength,
                    width_shift_range=strength,
                    height_shift_range=strength,
                    zoom_range=strength,
                    seed=self.seed,
                )
            )
        color = COLOR_SPACES[hp.get("color_space")] if self.color_spaces else None
        if color is not None:
            steps.append(color())
        return steps

    def fit(self, hp, model, x, *args, validation_data=None, **kwargs):
        """Maps the trial's pipeline over the data, then fits through the wrapped hypermodel."""
        x = self._map(hp, x, "x", training=True)
        if validation_data is not None:
            validation_data = self._map(hp, validation_data, "validation_data", training=False)
        if isinstance(self.hypermodel, keras_tuner.HyperModel):
            return self.hypermodel.fit(
                hp, model, x, *args, validation_data=validation_data, **kwargs
            )
        return model.fit(x, *args, validation_data=validation_data, **kwargs)

    def _map(self, hp, dataset, arg, training):
        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(
                f"SizeSearch: `{arg}` must be a tf.data.Dataset of (images, labels). "
                f"Received: {arg} of type {type(dataset).__name__}. Wrap arrays with "
                "`tf.data.Dataset.from_tensor_slices((x, y)).batch(32)`, or pass them to "
                "`kit.search.tune`, which does it for you."
            )
        for transform in self.pipeline(hp, training):
            dataset = dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset

    def get_config(self):
        inner = self.hypermodel
        return {
            "sizes": list(self.sizes),
            "mode": self.mode,
            "hypermodel": inner.get_config() if hasattr(inner, "get_config") else repr(inner),
            "color_spaces": self.color_spaces,
            "augment_strengths": self.augment_strengths,
            "channels": self.channels,
            "seed": self.seed,
            "value_range": list(self.value_range),
            "name": self.name,
            "tunable": self.tunable,
        }


def _is_size(size):
    return isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0


def _is_strength(strength):
    return checks.is_finite_number(strength) and 0 <= strength <= 1


def _sizes(owner, sizes):
    values = checks.check_list(
        owner, "sizes", sizes, _is_size, "positive integers (pixels)", "(28, 32, 64, 128)",
        single=True,
    )  # fmt: skip
    return tuple(sorted({int(s) for s in values}))


def _color_spaces(owner, color_spaces, channels):
    values = checks.check_choices(
        owner, "color_spaces", color_spaces, COLOR_SPACES, "('rgb', 'lab')", allow_none=True,
        single=True,
    )  # fmt: skip
    if values is not None and channels != 3 and values != ["rgb"]:
        raise ValueError(
            f"{owner}: `color_spaces` needs RGB images (3 channels). Received: "
            f"color_spaces={color_spaces!r} with channels={channels}. Leave "
            "`color_spaces=None` for grayscale or multi-band images."
        )
    return values


def _strengths(owner, strengths):
    values = checks.check_list(
        owner, "augment_strengths", strengths, _is_strength, "floats in [0, 1]",
        "(0, 0.1, 0.2)", allow_none=True, single=True,
    )  # fmt: skip
    return None if values is None else [float(s) for s in values]
