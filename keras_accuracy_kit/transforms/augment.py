"""Augment: ImageDataGenerator's arguments as one seeded tf.data transform and Keras layer."""

import math
import numbers

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, elements, keras_compat, late_bound, seeds
from keras_accuracy_kit.transforms import image_data_generator
from keras_accuracy_kit.transforms.functional import photometric, projective
from keras_accuracy_kit.transforms.image_transform import ImageTransform
from keras_accuracy_kit.transforms.registry import register_transform

POLICIES = ("randaugment", "augmix")
#: The named uniforms of one call, drawn together (one op matters for per-image `map`
#: calls). Their order is fixed: it decides which numbers a seed gives each parameter.
RANDOM_PARAMETERS = (
    "rotation",
    "width_shift",
    "width_shift_sign",
    "height_shift",
    "height_shift_sign",
    "shear",
    "zoom_width",
    "zoom_height",
    "horizontal_flip",
    "vertical_flip",
    "channel_shift",
    "brightness",
    "contrast",
    "hue",
    "saturation",
    "erasing_area",
    "erasing_ratio",
    "erasing_top",
    "erasing_left",
    "erasing_draw",
)
# `apply_to_dataset` groups single images below this size (32x32 RGB is 3072 values): on
# larger ones the work per image outweighs the per-element cost that grouping saves, and
# the batching and unbatching copies cost more than they save.
_GROUP_MAX_VALUES = 1 << 16
# Upper bounds that keep the float32 maths finite; each is far beyond any useful value.
_MAX_DEGREES = 360.0  # rotation_range, shear_range: a full turn
_MAX_CHANNEL_SHIFT = 255.0  # already moves every pixel to its image's extremes
_MAX_FACTOR = 1000.0  # brightness, contrast, saturation, zoom factors
_MAX_SHIFT = float(checks.MAX_IMAGE_SIDE)  # pixels: the largest image side

#: Every constructor argument with its default (what `get_config` holds besides the layer's).
DEFAULTS = {
    "rotation_range": 0.0,
    "width_shift_range": 0.0,
    "height_shift_range": 0.0,
    "shear_range": 0.0,
    "zoom_range": 0.0,
    "horizontal_flip": False,
    "vertical_flip": False,
    "brightness_range": None,
    "channel_shift_range": 0.0,
    "fill_mode": "nearest",
    "cval": 0.0,
    "contrast_range": None,
    "hue_range": 0.0,
    "saturation_range": None,
    "erasing_probability": 0.0,
    "erasing_scale": [0.02, 0.25],
    "erasing_ratio": [0.3, 3.3],
    "erasing_value": 0.0,
    "policy": None,
    "interpolation": "bilinear",
    "seed": None,
    "jit_compile": "auto",
}


def _error(arg, expectation, value, fix):
    return ValueError(
        f"Augment: `{arg}` must {expectation}. Received: {arg}={value!r}. {fix}".rstrip()
    )


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_at_most(arg, value, maximum, unit):
    if value > maximum:
        raise _error(
            arg,
            f"be at most {maximum:g} ({unit})",
            value,
            "Larger values make no further difference and overflow float32.",
        )
    return value


def _check_non_negative(arg, value, example, maximum=None, unit=""):
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise _error(
            arg, "be a non-negative number", value, f"Give the largest change, e.g. {example}."
        )
    if maximum is not None:
        _check_at_most(arg, value, maximum, unit)
    return value


def _check_factor_pair(arg, value, example="(0.8, 1.2)"):
    """None or a pair of factors `(low, high)`, `0 <= low <= high <= _MAX_FACTOR`."""
    pair = checks.check_pair("Augment", arg, value, minimum=0, example=example, allow_none=True)
    if pair is not None:
        _check_at_most(arg, pair[1], _MAX_FACTOR, "a factor")
    return pair


def _check_shift(arg, value):
    if isinstance(value, (list, tuple, np.ndarray)):
        values = list(np.asarray(value).ravel().tolist())
        if values and all(_is_number(v) and math.isfinite(v) and v >= 0 for v in values):
            _check_at_most(arg, max(values), _MAX_SHIFT, "pixels, the largest image side")
            return values
    elif _is_number(value) and math.isfinite(value) and value >= 0:
        return _check_at_most(arg, value, _MAX_SHIFT, "pixels, the largest image side")
    raise _error(
        arg,
        "be a non-negative float (below 1: a fraction of the size; from 1: pixels), an int "
        "(whole pixels) or a list of non-negative shifts to choose from",
        value,
        f"E.g. {arg}=0.1 shifts by up to 10 % of the size.",
    )


def _check_zoom(value):
    expectation = (
        "a float z in [0, 1) (zoom factors in [1 - z, 1 + z]) or a pair (low, high) with "
        "0 < low <= high"
    )
    if isinstance(value, (list, tuple)):
        pair = checks.check_pair(
            "Augment", "zoom_range", value, minimum=0, open_minimum=True,
            example="(0.9, 1.1); factors above 1 zoom out", expectation=expectation,
        )  # fmt: skip
        _check_at_most("zoom_range", pair[1], _MAX_FACTOR, "a zoom factor")
        return pair
    z = checks.check_number(
        "Augment", "zoom_range", value, low=0, high=1, open_high=True, expectation=expectation,
        fix="E.g. zoom_range=0.1 (factors in [0.9, 1.1]) or zoom_range=(0.9, 1.1); factors "
        "above 1 zoom out.",
    )  # fmt: skip
    return [1.0 - z, 1.0 + z]


def _check_cval(value):
    if not _is_number(value) or not math.isfinite(value):
        raise _error("cval", "be a finite number in input units", value, "E.g. cval=0 for black.")
    return value


def _check_in_unit_interval(arg, value, expectation, fix=""):
    if not _is_number(value) or not 0 <= value <= 1:
        raise _error(arg, expectation, value, fix)
    return value


def _shift_is_on(value):
    if isinstance(value, list):
        return any(value)
    return bool(value) and not (isinstance(value, numbers.Integral) and value <= 1)


def _sample_shift(spec, size, uniform, sign_uniform):
    """Shifts in pixels from uniforms in [0, 1), with Keras 2's meaning of `spec`."""
    size = tf.cast(size, tf.float32)
    if isinstance(spec, list):
        index = tf.minimum(tf.cast(uniform * len(spec), tf.int32), len(spec) - 1)
        shift = tf.gather(tf.constant(spec, tf.float32), index)
        shift = tf.where(sign_uniform < 0.5, -shift, shift)
        return shift * size if max(spec) < 1 else shift
    if isinstance(spec, numbers.Integral):
        # Keras 2: a magnitude in {0, ..., k - 1} and a random sign, so 0 is drawn twice
        # as often as each other shift in [-(k - 1), k - 1].
        if int(spec) <= 1:
            return tf.zeros_like(uniform)
        shift = tf.minimum(tf.floor(uniform * int(spec)), float(int(spec) - 1))
        return tf.where(sign_uniform < 0.5, -shift, shift)
    shift = (2.0 * uniform - 1.0) * float(spec)
    return shift * size if spec < 1 else shift


def _between(uniform, low, high):
    return low + (high - low) * uniform


@register_transform
class Augment(ImageTransform):
    """Random augmentation with `ImageDataGenerator`'s arguments, one resampling per image.

    Keras 3 removed `ImageDataGenerator`. `Augment` takes its argument names with the same
    meaning and runs on `tf.data` or in a model. All geometric steps of one image (rotation,
    shift, shear, zoom, flips) are composed into one projective matrix and applied with a
    single `ImageProjectiveTransformV3` call per batch: faster and sharper than a chain of
    `keras.layers.Random*` layers, each of which resamples again. Colour changes,
    random erasing and an optional Keras policy (`RandAugment`, `AugMix`) follow.

    Augmentations can change the class (a flipped 3 is not a 3, a 6 turned by 180 degrees
    is a 9): check them with `kit.check_invariance(dataset, augment)` or use
    `augment.checked(dataset)`, and look at `augment.preview(dataset, logdir)` before
    training.

    Randomness is stateless: every image gets its parameters from
    `tf.random.stateless_*` ops keyed by a per-call seed. Two routes:

    - `dataset.apply(augment)` (or `augment.apply_to_dataset(dataset)`): the seed of each
      element comes from `tf.data.Dataset.random(seed)`, zipped with the dataset, so the
      same pipeline gives identical batches in every run, also with
      `num_parallel_calls=tf.data.AUTOTUNE`, and each epoch (each new iterator) differs.
    - `dataset.map(augment)`, a model layer, or a direct call: the seed is `(seed, n)`
      with `n` read from a call counter advanced atomically (`RngReadAndSkip`), so no two
      calls share a seed, even in parallel; reproducible with a sequential `map`, but
      which element gets which `n` under `num_parallel_calls` is not fixed.

    In a model it is active only when training (`training=True`, as in `model.fit`); in
    `predict`/`evaluate` it only scales the images to [0, 1].

    Differences from Keras 2: `width_shift_range` moves content horizontally and
    `height_shift_range` vertically (Keras 2 had them swapped in its matrix) and the image
    centre is exact for non-square images; `cval` is in input units, as there.
    `fill_mode="constant"` fills every point outside the image with `cval`, as Keras 2 (not
    blending the edge pixels with it as TensorFlow's kernel does); `fill_mode="wrap"` tiles
    the image with its own period (TensorFlow's and Keras 3's wrap), where Keras 2 (scipy's
    legacy "wrap") repeated it every `size - 1` pixels. "nearest" and "reflect" give Keras
    2's pixels.

    Input shape: `(H, W, C)` or `(N, H, W, C)`, uint8/uint16 or float in `value_range`.
    Output shape: the same, float32 in [0, 1] (float64 for float64 input).

    Args:
        rotation_range: Float in [0, 360]. Rotation in degrees, uniform in `[-r, r]`.
            Defaults to `0`.
        width_shift_range: Float, int or list. Horizontal shift: a float below 1 is a
            fraction of the width, from 1 pixels (uniform in `[-r, r]`); an int `k` gives
            whole pixels in `[-(k - 1), k - 1]` (a magnitude below `k` with a random sign,
            as Keras 2: 0 is twice as likely as each other shift); a list gives one of its
            values with a random sign; at most 65536 pixels. Defaults to `0`.
        height_shift_range: Float, int or list. Vertical shift, as `width_shift_range`.
            Defaults to `0`.
        shear_range: Float in [0, 360]. Shear angle in degrees, uniform in `[-s, s]`.
            Defaults to `0`.
        zoom_range: Float `z` in [0, 1) (factors in `[1 - z, 1 + z]`) or pair
            `(low, high)` with `0 < low <= high <= 1000`. Width and height factors are
            drawn independently; above 1 zooms out. Defaults to `0`.
        horizontal_flip: Bool. Mirror left-right with probability 0.5. Defaults to `False`.
        vertical_flip: Bool. Mirror top-bottom with probability 0.5. Defaults to `False`.
        brightness_range: None or pair of floats in [0, 1000]. Brightness factor, uniform
            in the range (1 keeps the image). Defaults to `None`.
        channel_shift_range: Float in [0, 255]. Adds one uniform value in `[-r, r]` to all
            channels, in 0-255 units, clipped to the image's own min and max. Defaults to
            `0`.
        fill_mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`: how points outside
            the image are filled. Defaults to `"nearest"`.
        cval: Float. Fill value for `fill_mode="constant"`, in input units and within the
            images' range (0-255 for uint8, `value_range` for floats). Defaults to `0`.
        contrast_range: None or pair of floats in [0, 1000]. Contrast factor (1 keeps the
            image). Defaults to `None`.
        hue_range: Float in [0, 0.5]. Hue rotation, uniform in `[-h, h]` of the colour
            circle (RGB only). Defaults to `0`.
        saturation_range: None or pair of floats in [0, 1000]. Saturation factor (RGB
            only). Defaults to `None`.
        erasing_probability: Float in [0, 1]. Probability of erasing one random box
            (cutout / random erasing). Defaults to `0`.
        erasing_scale: Pair of floats in (0, 1]. Box area as a fraction of the image.
            Defaults to `(0.02, 0.25)`.
        erasing_ratio: Pair of positive floats. Box aspect ratio (height / width), drawn
            log-uniformly. Defaults to `(0.3, 3.3)`.
        erasing_value: Float in output units ([0, 1]). Fill of erased boxes. Defaults to `0`.
        policy: None, `"randaugment"` or `"augmix"`: also apply `keras.layers.RandAugment`
            or `keras.layers.AugMix` (seeded by `seed`, but with Keras' own random state:
            not part of the per-element reproducibility above). Defaults to `None`.
        interpolation: `"bilinear"` or `"nearest"`. Defaults to `"bilinear"`.
        seed: Optional int (an int64). Makes the augmentation reproducible. Defaults to
            `None`.
        value_range: Pair of floats. The range of float inputs. Defaults to `(0.0, 1.0)`.
        jit_compile: `"auto"`, `True` or `False`. Resample with the kit's XLA kernel (the
            result of `ImageProjectiveTransformV3` at a third to a half of its CPU time);
            `"auto"` does so for batches whose height, width and channels are static (see
            `kit.transforms.functional.projective.use_xla_resampling`). Pass `False` where
            XLA fails. Defaults to `"auto"`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> import keras_accuracy_kit as kit
    >>> images = np.zeros((8, 32, 32, 3), np.uint8)
    >>> augment = kit.augment(rotation_range=10, width_shift_range=0.1, zoom_range=0.1,
    ...                       horizontal_flip=True, seed=0)
    >>> train = tf.data.Dataset.from_tensor_slices((images, np.arange(8))).batch(4)
    >>> batch, labels = next(iter(train.apply(augment)))
    >>> batch.shape, batch.dtype.name, labels.numpy().tolist()
    (TensorShape([4, 32, 32, 3]), 'float32', [0, 1, 2, 3])
    """

    #: Shared tests check exact outputs only for deterministic transforms.
    deterministic = False

    def __init__(
        self,
        rotation_range=0.0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        shear_range=0.0,
        zoom_range=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        brightness_range=None,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        contrast_range=None,
        hue_range=0.0,
        saturation_range=None,
        erasing_probability=0.0,
        erasing_scale=(0.02, 0.25),
        erasing_ratio=(0.3, 3.3),
        erasing_value=0.0,
        policy=None,
        interpolation="bilinear",
        seed=None,
        value_range=(0.0, 1.0),
        jit_compile="auto",
        **kwargs,
    ):
        super().__init__(value_range=value_range, **kwargs)
        self._set_geometry(
            rotation_range, width_shift_range, height_shift_range, shear_range, zoom_range
        )
        self.horizontal_flip = checks.check_bool(
            "Augment", "horizontal_flip", horizontal_flip, error=ValueError
        )
        self.vertical_flip = checks.check_bool(
            "Augment", "vertical_flip", vertical_flip, error=ValueError
        )
        self.fill_mode = checks.check_choice(
            "Augment", "fill_mode", fill_mode, projective.FILL_MODES
        )
        self.cval = _check_cval(cval)
        self.interpolation = checks.check_choice(
            "Augment", "interpolation", interpolation, projective.INTERPOLATIONS
        )
        self._set_colour(
            brightness_range, channel_shift_range, contrast_range, hue_range, saturation_range
        )
        self._set_erasing(erasing_probability, erasing_scale, erasing_ratio, erasing_value)
        if policy is not None:
            checks.check_choice("Augment", "policy", policy, POLICIES)
        self.seed = checks.check_seed("Augment", seed)
        self.jit_compile = checks.check_jit_compile("Augment", jit_compile)
        self._base_seed = seeds.base_seed(self.seed)
        # Counts calls (dataset.map elements, training steps); advanced atomically.
        self.call_counter = self.add_weight(
            shape=(3,), dtype="int64", initializer="zeros", trainable=False, name="call_counter"
        )
        # A stateful seed and ImageProjectiveTransformV3: keep it out of XLA-compiled steps.
        self.supports_jit = False
        self._set_policy(policy)

    # -- validation ------------------------------------------------------------------

    def _set_geometry(self, rotation, width_shift, height_shift, shear, zoom):
        self.rotation_range = _check_non_negative(
            "rotation_range", rotation, 20, _MAX_DEGREES, "degrees"
        )
        self.width_shift_range = _check_shift("width_shift_range", width_shift)
        self.height_shift_range = _check_shift("height_shift_range", height_shift)
        self.shear_range = _check_non_negative("shear_range", shear, 10, _MAX_DEGREES, "degrees")
        self._zoom = _check_zoom(zoom)
        self.zoom_range = zoom if isinstance(zoom, numbers.Real) else list(self._zoom)

    def _set_colour(self, brightness, channel_shift, contrast, hue, saturation):
        self.brightness_range = _check_factor_pair("brightness_range", brightness)
        self.channel_shift_range = _check_non_negative(
            "channel_shift_range", channel_shift, 20, _MAX_CHANNEL_SHIFT, "0-255 units"
        )
        self.contrast_range = _check_factor_pair("contrast_range", contrast)
        hue = _check_non_negative("hue_range", hue, 0.05)
        if hue > 0.5:
            raise _error("hue_range", "be at most 0.5 (half the colour circle)", hue, "E.g. 0.05.")
        self.hue_range = hue
        self.saturation_range = _check_factor_pair("saturation_range", saturation)

    def _set_erasing(self, probability, scale, ratio, value):
        self.erasing_probability = _check_in_unit_interval(
            "erasing_probability", probability, "be a probability in [0, 1]"
        )
        self.erasing_scale = checks.check_pair(
            "Augment", "erasing_scale", scale, minimum=1e-6, example="(0.02, 0.25)"
        )
        if self.erasing_scale[1] > 1:
            raise _error(
                "erasing_scale", "be at most 1 (the whole image)", scale, "E.g. (0.02, 0.25)."
            )
        self.erasing_ratio = checks.check_pair(
            "Augment", "erasing_ratio", ratio, minimum=1e-6, example="(0.3, 3.3)"
        )
        self.erasing_value = _check_in_unit_interval(
            "erasing_value",
            value,
            "be a number in [0, 1] (output units)",
            "E.g. erasing_value=0.5 for gray boxes.",
        )

    def _set_policy(self, policy):
        self.policy = policy
        self._policy_layer = None
        if policy == "randaugment":
            self._policy_layer = keras.layers.RandAugment(value_range=(0, 1), seed=self.seed)
        elif policy == "augmix":
            self._policy_layer = keras.layers.AugMix(value_range=(0, 1), seed=self.seed)

    # -- which steps are on ----------------------------------------------------------

    @property
    def _has_geometry(self):
        return bool(
            self.rotation_range
            or _shift_is_on(self.width_shift_range)
            or _shift_is_on(self.height_shift_range)
            or self.shear_range
            or self._zoom != [1.0, 1.0]
            or self.horizontal_flip
            or self.vertical_flip
        )

    def check_input_shape(self, shape):
        if (self.hue_range or self.saturation_range is not None) and shape[-1] != 3:
            checks.check_image_shape(
                "Augment",
                shape,
                channels=3,
                channels_hint="`hue_range` and `saturation_range` need RGB images: drop them "
                "for grayscale images, or repeat the channel with "
                "`tf.image.grayscale_to_rgb(image)`.",
            )

    # -- calls -----------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], tf.data.Dataset):
            return self.apply_to_dataset(args[0])
        if "inputs" in kwargs:
            args = (kwargs.pop("inputs"),) + args
        if any(isinstance(arg, keras.KerasTensor) for arg in keras.tree.flatten(args)):
            return super().__call__(*args, **kwargs)
        training = kwargs.pop("training", None)
        if training is None:
            training = keras_compat.call_context_training()
        if training is not None and not isinstance(training, tf.Tensor) and not training:
            return self.map_images(args[0] if len(args) == 1 else tuple(args), self._scale_only)
        return self.apply_to_element(*args)

    def _scale_only(self, inputs):
        images = checks.as_image_tensor(self._owner, inputs)
        self.check_input_shape(images.shape)
        images = checks.check_image_values(self._owner, images, self.value_range)
        return checks.to_unit_float(images, self.value_range)

    def call(self, inputs, training=None):
        inputs = checks.as_image_tensor(self._owner, inputs)
        images = self._scale_only(inputs)
        if training is not None and not isinstance(training, tf.Tensor) and not training:
            return images
        seed = seeds.next_call_seed(self.call_counter, self._base_seed)
        return self.augment_images(images, seed, source_dtype=inputs.dtype)

    def apply_with_seed(self, element, seed):
        """Augments one element with an explicit stateless seed (a `[2]` int tensor)."""

        def function(inputs):
            inputs = checks.as_image_tensor(self._owner, inputs)
            images = self._scale_only(inputs)
            return self.augment_images(images, seed, source_dtype=inputs.dtype)

        return self.map_images(element, function)

    def apply_to_dataset(self, dataset, num_parallel_calls=tf.data.AUTOTUNE, group_size=32):
        """Augments `dataset` with one stateless seed per element: `dataset.apply(augment)`.

        The seeds come from `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`
        zipped with the dataset: the same pipeline gives identical batches in every run,
        whatever the parallelism, and each new iterator (each epoch of `model.fit`) draws
        new seeds. The map function holds no state, so tf.data may run it in parallel.

        Unbatched elements whose tensors all have a fixed shape and whose images are small
        (under 65536 values, e.g. up to 128x128 RGB) are augmented `group_size` at a time,
        with one batched resampling, and unbatched again: the same elements in the same
        order, each image with its own random parameters, at a fraction of the per-image
        cost.

        Args:
            dataset: A `tf.data.Dataset` of images, `(image, label, ...)` tuples or dicts.
            num_parallel_calls: Int or `tf.data.AUTOTUNE`. Defaults to `tf.data.AUTOTUNE`.
            group_size: Int. How many unbatched elements to augment together; `1`
                augments them one by one. Defaults to `32`.

        Returns:
            The augmented dataset, in the original order.

        Example:

        >>> import numpy as np, tensorflow as tf
        >>> import keras_accuracy_kit as kit
        >>> images = np.zeros((5, 16, 16, 3), np.uint8)
        >>> singles = tf.data.Dataset.from_tensor_slices((images, np.arange(5)))
        >>> augmented = singles.apply(kit.augment(rotation_range=10, seed=0))
        >>> [label.numpy().item() for _, label in augmented], augmented.element_spec[0].shape
        ([0, 1, 2, 3, 4], TensorShape([16, 16, 3]))
        """
        group_size = checks.check_positive_int(
            "Augment.apply_to_dataset", "group_size", group_size, example=32
        )
        # Keras' policy layers draw one choice per call: keep their calls per image.
        grouped = (
            group_size > 1
            and self.policy is None
            and elements.groupable(dataset.element_spec, _GROUP_MAX_VALUES)
        )
        source = dataset.batch(group_size) if grouped else dataset
        augmented = seeds.map_with_seeds(
            source, self.apply_with_seed, self.seed, num_parallel_calls
        )
        if not grouped:
            return augmented
        augmented = augmented.unbatch()
        cardinality = tf.get_static_value(dataset.cardinality())
        if cardinality is not None and (
            cardinality >= 0 or cardinality == tf.data.INFINITE_CARDINALITY
        ):  # `unbatch()` forgets it; `model.fit` and `len()` use it
            augmented = augmented.apply(tf.data.experimental.assert_cardinality(cardinality))
        return augmented

    # -- the augmentation itself: named random parameters, then applying them ---------

    def _fill_value(self, dtype):
        """`cval` in [0, 1] units for inputs of `dtype`; a ValueError if outside their range."""
        dtype = tf.as_dtype(dtype)
        if dtype in checks.INTEGER_IMAGE_DTYPES:
            low, high = 0.0, checks.INTEGER_IMAGE_DTYPES[dtype]
        else:
            low, high = self.value_range
        if self.fill_mode != "constant":
            return 0.0  # unused
        fill = (float(self.cval) - low) / (high - low)
        if not 0.0 <= fill <= 1.0:
            raise _error(
                "cval",
                f"be in the range of the input images, [{low:g}, {high:g}] for "
                f"{dtype.name} images here",
                self.cval,
                "cval is in input units: e.g. cval=128 for gray on uint8 images, cval=0.5 "
                "on float images in [0, 1].",
            )
        return fill

    def get_random_transformation(self, images, seed):
        """The random parameters of one call, by name, as Keras' layers sample them.

        Like `keras.layers.RandomRotation.get_random_transformation`, it returns a dict
        that `transform_images` applies. All uniforms come from one stateless draw of shape
        `[len(RANDOM_PARAMETERS), N]`, one row per name.

        Args:
            images: Float tensor `(N, H, W, C)`.
            seed: `[2]` int tensor.

        Returns:
            A dict with `"size"` (height and width, static where known), `"geometry"`
            (the keyword arguments of `projective.affine_parameters`, or None when
            nothing moves) and the `[N]`
            tensors of the active colour steps (`"channel_shift"`, `"brightness"`,
            `"contrast"`, `"hue"`, `"saturation"`) and of erasing (`"erasing"`: the boxes'
            `top`, `left`, `height`, `width`, int32, height 0 where no box is drawn).
        """
        # Static sizes where known: fewer ops per call (per-image maps are op-bound).
        dynamic = tf.shape(images)
        num, height, width = (
            static if static is not None else dynamic[axis]
            for axis, static in enumerate(images.shape[:3])
        )
        # `tf.random.stateless_uniform` minus its no-op rescaling to [0, 1).
        key, counter, algorithm = tf.raw_ops.StatelessRandomGetKeyCounterAlg(seed=seed)
        draws = tf.raw_ops.StatelessRandomUniformV2(
            shape=[len(RANDOM_PARAMETERS), num], key=key, counter=counter, alg=algorithm
        )
        # One op for all rows.
        uniforms = dict(zip(RANDOM_PARAMETERS, tf.unstack(draws, num=len(RANDOM_PARAMETERS))))
        transformation = {
            "size": (height, width),
            "geometry": self.sample_geometry(uniforms, height, width),
        }
        transformation.update(self._sample_colour(uniforms, num))
        if self.erasing_probability:
            transformation["erasing"] = self._sample_erasing(uniforms, height, width)
        return transformation

    def sample_geometry(self, uniforms, height, width):
        """The keyword arguments of `projective.affine_parameters`, or None if nothing moves.

        Args:
            uniforms: Dict of `[N]` uniforms in [0, 1), by `RANDOM_PARAMETERS` name.
            height, width: Ints or int tensors. Image size.
        """
        if not self._has_geometry:
            return None
        u = uniforms
        steps = {}
        if self.rotation_range:
            steps["degrees"] = (2.0 * u["rotation"] - 1.0) * float(self.rotation_range)
        if _shift_is_on(self.width_shift_range) or _shift_is_on(self.height_shift_range):
            steps["shift"] = (
                _sample_shift(
                    self.width_shift_range, width, u["width_shift"], u["width_shift_sign"]
                ),
                _sample_shift(
                    self.height_shift_range, height, u["height_shift"], u["height_shift_sign"]
                ),
            )
        if self.shear_range:
            steps["shear"] = (2.0 * u["shear"] - 1.0) * float(self.shear_range)
        if self._zoom != [1.0, 1.0]:
            steps["zoom"] = (
                _between(u["zoom_width"], *self._zoom),
                _between(u["zoom_height"], *self._zoom),
            )
        if self.horizontal_flip or self.vertical_flip:
            never = tf.zeros_like(u["horizontal_flip"], tf.bool)
            steps["flip"] = (
                u["horizontal_flip"] < 0.5 if self.horizontal_flip else never,
                u["vertical_flip"] < 0.5 if self.vertical_flip else never,
            )
        return steps

    def _sample_colour(self, u, num):
        colour = {}
        if self.channel_shift_range:
            limit = float(self.channel_shift_range) / 255.0
            colour["channel_shift"] = _between(u["channel_shift"], -limit, limit)
        if self.brightness_range is not None:
            colour["brightness"] = _between(u["brightness"], *self.brightness_range)
        if self.contrast_range is not None:
            colour["contrast"] = _between(u["contrast"], *self.contrast_range)
        if self.hue_range or self.saturation_range is not None:
            colour["hue"] = _between(u["hue"], -float(self.hue_range), float(self.hue_range))
            colour["saturation"] = (
                _between(u["saturation"], *self.saturation_range)
                if self.saturation_range is not None
                else tf.ones([num])
            )
        return colour

    def _sample_erasing(self, u, height, width):
        height_f, width_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
        area = _between(u["erasing_area"], *self.erasing_scale) * (height_f * width_f)
        log_low, log_high = math.log(self.erasing_ratio[0]), math.log(self.erasing_ratio[1])
        ratio = tf.exp(_between(u["erasing_ratio"], log_low, log_high))
        box_height = tf.clip_by_value(tf.round(tf.sqrt(area * ratio)), 1.0, height_f)
        box_width = tf.clip_by_value(tf.round(tf.sqrt(area / ratio)), 1.0, width_f)
        top = tf.floor(u["erasing_top"] * (height_f - box_height + 1.0))
        left = tf.floor(u["erasing_left"] * (width_f - box_width + 1.0))
        box_height = tf.where(u["erasing_draw"] < self.erasing_probability, box_height, 0.0)
        box = {"top": top, "left": left, "height": box_height, "width": box_width}
        return {name: tf.cast(value, tf.int32) for name, value in box.items()}

    def transform_images(self, images, transformation=None, source_dtype=tf.float32):
        """Applies a `get_random_transformation` dict to float images `(N, H, W, C)` in [0, 1].

        A pure function of its inputs (but for the Keras policy layer, if any). A batch of
        fixed-size images (see `projective.use_xla_resampling`) is resampled by the XLA
        kernel.

        Args:
            images: Float tensor `(N, H, W, C)` in [0, 1].
            transformation: Dict from `get_random_transformation`.
            source_dtype: The dtype the images had before scaling (for `cval`).

        Returns:
            The augmented images, same shape and dtype.
        """
        if transformation is None:
            raise ValueError(
                "Augment.transform_images: `transformation` must be a dict from "
                "`get_random_transformation(images, seed)`. Received: transformation=None. "
                "Or call `augment_images(images, seed)`."
            )
        dtype = images.dtype
        geometry = transformation["geometry"]
        if geometry is not None:
            images = self._resample(images, geometry, transformation["size"], source_dtype)
        if "channel_shift" in transformation:
            images = photometric.channel_shift(images, transformation["channel_shift"])
        if "brightness" in transformation or "contrast" in transformation:
            images = photometric.brightness_contrast(
                images, transformation.get("brightness"), transformation.get("contrast")
            )
        if "hue" in transformation:
            images = photometric.adjust_hue_saturation(
                images, transformation["hue"], transformation["saturation"]
            )
        if "erasing" in transformation:
            box = transformation["erasing"]
            images = photometric.erase_boxes(
                images,
                box["top"],
                box["left"],
                box["height"],
                box["width"],
                value=float(self.erasing_value),
            )
        if self._policy_layer is not None:
            images = tf.cast(self._policy_layer(tf.cast(images, tf.float32), training=True), dtype)
        return images

    def _resample(self, images, geometry, size, source_dtype):
        # Only the resampling is compiled with XLA: compiled with the colour steps, XLA
        # would fuse it into each consumer (the contrast's mean, its scaling) and run it
        # several times.
        dtype = images.dtype
        height, width = size
        work = images if dtype == tf.float32 else tf.cast(images, tf.float32)
        work = projective.apply_projective(
            work,
            projective.affine_parameters(height, width, **geometry),
            fill_mode=self.fill_mode,
            fill_value=self._fill_value(source_dtype),
            interpolation=self.interpolation,
            jit_compile=self.jit_compile,
            constant_edge="fill",  # Keras 2 (scipy's "constant"): no edge blending
        )
        return work if dtype == tf.float32 else tf.cast(work, dtype)

    def augment_images(self, images, seed, source_dtype=tf.float32):
        """Augments float images in [0, 1] with a stateless `seed`: a pure function.

        `transform_images(images, get_random_transformation(images, seed))`.

        Args:
            images: Float tensor `(H, W, C)` or `(N, H, W, C)` in [0, 1].
            seed: `[2]` int tensor.
            source_dtype: The dtype the images had before scaling (for `cval`).

        Returns:
            The augmented images, same shape and dtype.
        """
        single = images.shape.rank == 3
        if single:
            images = images[None]
        transformation = self.get_random_transformation(images, seed)
        images = self.transform_images(images, transformation, source_dtype)
        return images[0] if single else images

    # -- what other layers provide ---------------------------------------------------

    def checked(self, dataset, model=None, **kwargs):
        """Returns this augmentation without the steps that change classes, warning per step.

        Runs `kit.check_invariance(dataset, self, model=model, **kwargs)` and removes each
        flagged step (e.g. `horizontal_flip` for digits).

        Args:
            dataset: The un-augmented training data, as for `check_invariance`.
            model: Optional Keras classifier. Defaults to a small reference classifier fitted
                on `dataset`.
            **kwargs: More `check_invariance` arguments.

        Returns:
            A new `Augment`.
        """
        # The guard (`transforms/invariance.py`) imports this module, never the reverse: it
        # registers itself at import.
        return late_bound.call(
            "keras_accuracy_kit.transforms.invariance.without_flagged_steps",
            "Augment.checked",
            self,
            dataset,
            model=model,
            **kwargs,
        )

    def preview(self, dataset, logdir, num_images=8, num_copies=3, tag="augment/preview"):
        """Writes a grid of originals (first row) and augmented copies to TensorBoard.

        Args:
            dataset: A `tf.data.Dataset` (or array) of images, pairs or dicts, batched or not.
            logdir: Path. The TensorBoard log directory.
            num_images: Int. Number of images (columns). Defaults to `8`.
            num_copies: Int. Number of augmented rows. Defaults to `3`.
            tag: String. Summary tag. Defaults to `"augment/preview"`.

        Returns:
            The path of the PNG written next to the event file.
        """
        # Writing TensorBoard images is `reporting/`'s job (`reporting/previews.py`), which
        # registers the function when it is imported: no import against the arrow.
        return late_bound.call(
            "keras_accuracy_kit.reporting.previews.write_augment_preview",
            "Augment.preview",
            self,
            dataset,
            logdir,
            num_images=num_images,
            num_copies=num_copies,
            tag=tag,
        )

    # -- Keras plumbing --------------------------------------------------------------

    def build(self, input_shape=None):
        if self._policy_layer is not None and not self._policy_layer.built:
            self._policy_layer.build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({arg: getattr(self, arg) for arg in DEFAULTS})
        return config

    @classmethod
    def from_config(cls, config):
        """Builds an `Augment` from its `get_config()` or from Keras 2 ImageDataGenerator kwargs.

        A dict without the layer keys (`name`, `trainable`) is read as the keyword arguments
        of Keras 2's `ImageDataGenerator(...)`, verbatim
        (`transforms/image_data_generator.py`). Those it cannot honour raise a ValueError
        that says what to use instead.

        Example:

        >>> import keras_accuracy_kit as kit
        >>> augment = kit.augment.from_config(
        ...     {"rotation_range": 15, "zoom_range": [0.9, 1.2], "rescale": 1 / 255,
        ...      "horizontal_flip": True, "featurewise_center": False})
        >>> augment.value_range, augment.zoom_range
        ((0.0, 255.0), [0.9, 1.2])
        """
        if not isinstance(config, dict):
            raise ValueError(
                f"Augment.from_config: `config` must be a dict. Received: config={config!r}. "
                "Pass `augment.get_config()` or ImageDataGenerator keyword arguments."
            )
        if "name" in config or "trainable" in config:
            return super().from_config(config)
        return cls(**image_data_generator.augment_arguments(config))
