"""Argument and input checks that raise early with errors that say how to fix them.

Every message has the house shape::

    <Owner>: `<arg>` must <expectation>. Received: <arg>=<value!r>. <how to fix>
"""

import math
import numbers
import os

import numpy as np
import tensorflow as tf

#: Integer dtypes accepted as images, with the value their full scale maps to.
INTEGER_IMAGE_DTYPES = {tf.uint8: 255.0, tf.uint16: 65535.0}
#: Floating dtypes accepted as images.
FLOAT_IMAGE_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def _same_choice(value, choice):
    if isinstance(choice, str):
        return isinstance(value, str) and value == choice
    return type(value) is type(choice) and value == choice


def _is_allowed(value, allow):
    return any(_same_choice(value, other) for other in allow)


def _or_allowed(allow):
    """`"'auto' or "` for `allow=("auto",)`: the allowed values put before an expectation."""
    return "".join(f"{other!r} or " for other in allow)


def check_choice(owner, arg, value, choices):
    """Returns `value` if it is one of `choices`, else raises a ValueError listing them.

    Only values of the choice's own type match (`value in choices` would compare a numpy
    array element by element and fail with numpy's own error).
    """
    if not any(_same_choice(value, choice) for choice in choices):
        try:
            listed = sorted(choices)
        except TypeError:  # choices of several types ('auto', True, False): as given
            listed = list(choices)
        raise ValueError(
            f"{owner}: `{arg}` must be one of {listed}. "
            f"Received: {arg}={value!r}. Pick one of the listed values."
        )
    return value


#: Below this many values (e.g. one 32x32 image in a per-image `map`), launching an XLA
#: kernel inside `tf.data` costs more than the TensorFlow ops it replaces.
MIN_JIT_ELEMENTS = 1 << 16


def check_jit_compile(owner, jit_compile):
    """Returns `jit_compile` if it is `"auto"`, True or False, else raises a ValueError."""
    if isinstance(jit_compile, bool) or _same_choice(jit_compile, "auto"):
        return jit_compile
    raise ValueError(
        f"{owner}: `jit_compile` must be 'auto', True or False. Received: "
        f"jit_compile={jit_compile!r}. Leave it at 'auto' unless XLA fails on your "
        "platform; then pass False."
    )


def check_bool(owner, arg, value, error=TypeError, allow=()):
    """Returns `value` as a bool if it is True or False (numpy's too), else raises `error`.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check.
        error: The exception class raised. Defaults to `TypeError` (`ValueError` where a
            class has always raised that).
        allow: Tuple. Other values accepted and returned as they are, e.g. `("auto",)`.
            Defaults to `()`.

    Example:

    >>> check_bool("Demo", "save_last", True), check_bool("Demo", "cache", "auto", allow=("auto",))
    (True, 'auto')
    """
    if _is_allowed(value, allow):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    others = "".join(f"{other!r}, " for other in allow)
    passes = "".join(f"{arg}={other!r}, " for other in allow)
    raise error(
        f"{owner}: `{arg}` must be {others}True or False. Received: {arg}={value!r}. Pass "
        f"{passes}{arg}=True or {arg}=False."
    )


def check_int(owner, arg, value, minimum=1, example=None, allow=(), expectation=None):
    """Returns `value` as an int if it is an integer of at least `minimum`, else raises.

    The hint names this argument's own example (`e.g. epochs=10`), never a generic one.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check.
        minimum: Int. The smallest valid value. Defaults to `1`.
        example: Optional. A good value of this argument, shown in the error.
        allow: Tuple. Other values accepted and returned as they are, e.g. `("auto",)`
            or `(None,)`. Defaults to `()`.
        expectation: Optional string. What an int of `arg` means, e.g. `"a positive
            number of top layers"`. Defaults to "a positive integer" (or as `minimum`
            says).

    Example:

    >>> check_int("Demo", "min_blocks", 0, minimum=0)
    0
    >>> check_int("Demo", "head_epochs", "auto", minimum=0, allow=("auto",))
    'auto'
    """
    if _is_allowed(value, allow):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        if expectation is None:
            expectation = {1: "a positive integer", 0: "a non-negative integer"}.get(
                minimum, f"an integer of at least {minimum}"
            )
        hint = f", e.g. {arg}={example!r}" if example is not None else ""
        raise ValueError(
            f"{owner}: `{arg}` must be {_or_allowed(allow)}{expectation}. Received: "
            f"{arg}={value!r}. Pass {_or_allowed(allow)}a whole number of at least "
            f"{minimum}{hint}."
        )
    return int(value)


def check_positive_int(owner, arg, value, example=None):
    """`check_int` with `minimum=1`: returns `value` as an int if it is a positive integer."""
    return check_int(owner, arg, value, minimum=1, example=example)


def is_finite_number(value):
    """Whether `value` is a finite real number (numpy's too), bools excluded."""
    return (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    )


def check_number(owner, arg, value, low=None, high=None, open_low=False, open_high=False,
                 expectation=None, fix="", allow=()):  # fmt: skip
    """Returns `value` as a float if it is a finite real number within the bounds, else
    raises a ValueError with this argument's own expectation and fix.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check (bools are refused).
        low, high: Optional floats. The bounds.
        open_low, open_high: Bools. Whether the bound itself is excluded.
        expectation: Optional string, e.g. `"a number in (0, 1)"`. Defaults to one built
            from the bounds (and `allow`).
        fix: String. How to fix it, e.g. `"E.g. factor=0.5 halves the rate."`.
        allow: Tuple. Other values accepted and returned as they are, e.g. `("auto",)`.
            Defaults to `()`.

    Example:

    >>> check_number("Demo", "factor", 0.5, low=0, high=1, open_low=True, open_high=True)
    0.5
    """
    if _is_allowed(value, allow):
        return value
    ok = is_finite_number(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    if ok and high is not None:
        ok = value < high if open_high else value <= high
    if ok:
        return float(value)
    if expectation is None:
        left = "(" if open_low else "["
        right = ")" if open_high else "]"
        expectation = f"{_or_allowed(allow)}a finite number in {left}"
        expectation += f"{low if low is not None else '-inf'}, "
        expectation += f"{high if high is not None else 'inf'}{right}"
    raise ValueError(
        f"{owner}: `{arg}` must be {expectation}. Received: {arg}={value!r}. {fix}".rstrip()
    )


def _is_number_pair(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(is_finite_number(v) for v in value)
    )


def check_pair(owner, arg, value, minimum=-math.inf, example=None, allow_none=False,
               open_minimum=False, strict=False, expectation=None):  # fmt: skip
    """Returns `value` as a list `[low, high]` of floats if it is a pair of finite numbers
    with `minimum <= low <= high` (or None, if `allow_none`), else raises a ValueError.

    An inverted pair is told to swap its ends; any other bad pair gets `example`.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check: a list or tuple of two numbers.
        minimum: Float. The smallest valid `low`. Defaults to no bound.
        example: Optional string. A good value of this argument, shown in the error.
        allow_none: Bool. Whether None is valid (and returned). Defaults to `False`.
        open_minimum: Bool. Whether `low` must be above `minimum` (`minimum < low`).
            Defaults to `False`.
        strict: Bool. Whether `low < high` (an increasing pair, e.g. a search range).
            Defaults to `False` (`low <= high`).
        expectation: Optional string. What `arg` must be, e.g. `"a positive float or a
            pair (low, high) with 0 < low < high"` where a single number is valid too.
            Defaults to one built from the bounds.

    Example:

    >>> check_pair("Demo", "brightness_range", (0.8, 1.2), minimum=0)
    [0.8, 1.2]
    >>> check_pair("Demo", "learning_rate", (1e-4, 1e-2), minimum=0, open_minimum=True,
    ...            strict=True)
    [0.0001, 0.01]
    """
    if value is None and allow_none:
        return None
    if _is_number_pair(value):
        low, high = value
        above_minimum = minimum < low if open_minimum else minimum <= low
        if above_minimum and (low < high if strict else low <= high):
            return [float(low), float(high)]
    if expectation is None:
        first = "" if minimum == -math.inf else f"{minimum} {'<' if open_minimum else '<='} "
        bound = f"{first}low {'<' if strict else '<='} high"
        expectation = f"{'None or ' if allow_none else ''}a pair (low, high) with {bound}"
    inverted = _is_number_pair(value) and value[0] > value[1]
    if inverted:
        fix = "Swap an inverted pair" + (f"; e.g. {arg}={example}" if example else "")
    else:
        fix = f"E.g. {arg}={example}" if example else "Pass two finite numbers"
    raise ValueError(
        f"{owner}: `{arg}` must be {expectation}. Received: {arg}={value!r}. {fix}."
    )


def check_ordered(owner, low_arg, low, high_arg, high, fix=None):
    """Checks that the argument `low_arg` is at most the argument `high_arg`.

    For two arguments bounding one range, each checked on its own before (e.g.
    `min_blocks` and `max_blocks`).

    Args:
        owner: String. Name used in error messages.
        low_arg, high_arg: Strings. The arguments' names.
        low, high: Numbers. Their values.
        fix: Optional string. How to fix it. Defaults to swapping the two values.

    Example:

    >>> check_ordered("Demo", "min_blocks", 1, "max_blocks", 6)
    """
    if low <= high:
        return
    if fix is None:
        fix = f"Swap them, e.g. {low_arg}={high!r}, {high_arg}={low!r}."
    raise ValueError(
        f"{owner}: `{low_arg}` must be at most `{high_arg}`. Received: {low_arg}={low!r}, "
        f"{high_arg}={high!r}. {fix}"
    )


def check_list(owner, arg, value, is_item, items, example, allow_none=False,
               allow_empty=False, single=False):  # fmt: skip
    """Returns `value` as a list if it is a list, tuple (or other ordered iterable: not a
    string, set or dict) whose every item passes `is_item`.

    The error names the items that fail, so the fix is to remove them.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check.
        is_item: Function `item -> bool`. Whether one item is valid.
        items: String. What the items must be, e.g. `"positive integers (pixels)"`.
        example: String. A good value of this argument, shown in the error.
        allow_none: Bool. Whether None is valid (and returned). Defaults to `False`.
        allow_empty: Bool. Whether an empty list is valid. Defaults to `False`.
        single: Bool. Whether one item (a string, or anything not iterable) stands for a
            list of one (`sizes=32` as `sizes=[32]`). Defaults to `False`.

    Example:

    >>> check_list("Demo", "sizes", 32, lambda s: s > 0, "positive sizes", "(32, 64)",
    ...            single=True)
    [32]
    """
    if value is None and allow_none:
        return None
    try:  # a set's order changes from run to run (string hashing): not a list
        values = None if isinstance(value, (str, bytes, set, frozenset, dict)) else list(value)
    except TypeError:  # not iterable
        values = None
    if values is None and single:
        values = [value]
    bad = [item for item in values if not is_item(item)] if values is not None else []
    if values is not None and not bad and (values or allow_empty):
        return values
    expectation = f"{'None or ' if allow_none else ''}a {'' if allow_empty else 'non-empty '}"
    remove = f"Remove {bad!r}, or pass" if bad else "Pass"
    raise ValueError(
        f"{owner}: `{arg}` must be {expectation}list of {items}. Received: {arg}={value!r}. "
        f"{remove} e.g. {arg}={example}."
    )


def check_choices(owner, arg, value, choices, example, items=None, **options):
    """`check_list` whose items must each be one of `choices` (listed in the error).

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check.
        choices: Sequence. The valid items.
        example: String. A good value of this argument, shown in the error.
        items: Optional string. What the items are, naming `choices`, e.g. `"names from
            ['color', 'cutout']"`. Defaults to the sorted `choices`.
        **options: `allow_none`, `allow_empty`, `single`, as in `check_list`.

    Example:

    >>> check_choices("Demo", "color_spaces", ("rgb", "lab"), ("rgb", "lab", "hsv"), "('rgb',)")
    ['rgb', 'lab']
    """
    return check_list(
        owner,
        arg,
        value,
        lambda item: _is_allowed(item, choices),
        f"{sorted(choices)}" if items is None else items,
        example,
        **options,
    )


def _is_dimension(value, allow_unknown):
    if value is None:
        return allow_unknown
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def check_shape(owner, arg, value, names=None, fix="", allow_unknown=False):
    """Returns `value` as a tuple if it is the shape of one input: positive ints, one per
    name in `names` if given.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check: a list, tuple or other sequence of ints.
        names: Optional tuple of strings, e.g. `("height", "width", "channels")`. The
            dimensions, in order; their number is the required rank. Defaults to any rank.
        fix: String. How to fix it, e.g. `"E.g. input_shape=(32, 32, 3)."`.
        allow_unknown: Bool. Whether a dimension may be None (any size). Defaults to
            `False`.

    Example:

    >>> check_shape("Demo", "input_shape", [32, 32, 3], names=("height", "width", "channels"))
    (32, 32, 3)
    """
    try:
        shape = None if isinstance(value, (str, bytes)) else tuple(value)
    except TypeError:
        shape = None
    if (
        shape
        and (names is None or len(shape) == len(names))
        and all(_is_dimension(d, allow_unknown) for d in shape)
    ):
        return tuple(None if d is None else int(d) for d in shape)
    kind = "positive integers or None" if allow_unknown else "positive integers"
    if names:
        expectation = f"({', '.join(names)}), the shape of one input: {len(names)} {kind}"
    else:
        expectation = f"a tuple of {kind}, the shape of one input"
    raise ValueError(
        f"{owner}: `{arg}` must be {expectation}. Received: {arg}={value!r}. {fix}".rstrip()
    )


#: The largest image height or width the kit resizes to (the largest JPEG side).
MAX_IMAGE_SIDE = 1 << 16


def check_image_side(owner, arg, value):
    """Returns `value` as an int if it is a height or width in [1, `MAX_IMAGE_SIDE`] pixels.

    Example:

    >>> check_image_side("Demo", "height", 224)
    224
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise ValueError(
            f"{owner}: `{arg}` must be a positive integer. Received: {arg}={value!r}. "
            f"Pass a whole number of pixels, e.g. {arg}=224."
        )
    if int(value) > MAX_IMAGE_SIDE:
        raise ValueError(
            f"{owner}: `{arg}` must be at most {MAX_IMAGE_SIDE} pixels. Received: "
            f"{arg}={value!r}. Pass the model's input size, e.g. {arg}=224; cut larger "
            "images into tiles first."
        )
    return int(value)


#: Seeds are int64 values (`tf.data.Dataset.random`, the stateless random ops).
_SEED_LIMIT = 1 << 63


def check_seed(owner, seed, arg="seed", allow_none=True):
    """Returns `seed` as an int (or None) if it is an int64 (or None, if `allow_none`),
    else raises ValueError.

    Args:
        owner: String. Name used in error messages.
        seed: The value to check.
        arg: String. The argument's name (`"seed"`, `"shuffle_seed"`, ...). Defaults to
            `"seed"`.
        allow_none: Bool. Whether None is valid (and returned). Defaults to `True`.

    Example:

    >>> check_seed("Demo", 7), check_seed("Demo", None)
    (7, None)
    """
    if seed is None and allow_none:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            f"{owner}: `{arg}` must be {'None or ' if allow_none else ''}an int. Received: "
            f"{arg}={seed!r}. E.g. {arg}=0."
        )
    if not -_SEED_LIMIT <= int(seed) < _SEED_LIMIT:
        raise ValueError(
            f"{owner}: `{arg}` must be an int64 (from -2**63 to 2**63 - 1). Received: "
            f"{arg}={seed!r}. Pick a smaller seed, e.g. {arg}=0."
        )
    return int(seed)


#: Bounds that keep `value_range` arithmetic finite and resolvable in float32.
_MAX_RANGE_MAGNITUDE = 1e30
_MIN_RANGE_WIDTH = 1e-30
_MIN_RELATIVE_RANGE_WIDTH = 1e-4


def check_value_range(owner, value_range):
    """Returns `value_range` as a `(low, high)` float pair with `low < high`.

    Both ends must be finite and at most 1e30 in magnitude, and the width at least
    1e-4 of the larger magnitude (and 1e-30): images are scaled in float32, which must
    tell the two ends apart and keep `1 / (high - low)` finite.
    """
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError, OverflowError):
        low = high = None
    if low is not None and np.isfinite([low, high]).all() and low < high:
        magnitude = max(abs(low), abs(high))
        width = high - low
        if (
            magnitude <= _MAX_RANGE_MAGNITUDE
            and width >= _MIN_RANGE_WIDTH
            and width >= _MIN_RELATIVE_RANGE_WIDTH * magnitude
        ):
            return (low, high)
    raise ValueError(
        f"{owner}: `value_range` must be a pair of finite numbers (low, high) with "
        "low < high, both within [-1e30, 1e30], and high - low at least 1e-4 of the larger "
        f"magnitude (float32 must resolve the range). Received: value_range={value_range!r}. "
        "Use (0, 1) for float images in [0, 1] or (0, 255) for float images in [0, 255]."
    )


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
    try:
        if isinstance(images, list):  # keeps the images' dtype (a nested list gives int32)
            images = tf.stack([tf.convert_to_tensor(image) for image in images])
        else:
            images = tf.convert_to_tensor(images)
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
        raise ValueError(
            f"{owner}: `images` must be a tensor, an array or a list of images of one size "
            f"and dtype. Received: images of type {type(images).__name__} ({error}). Resize "
            "images of different sizes one by one, e.g. `[transform(image) for image in "
            "images]`, or map the transform over a `tf.data` pipeline."
        ) from error
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
    if 0 in shape[-3:-1]:
        raise ValueError(
            f"{owner}: `images` must be at least 1 pixel high and wide. Received: "
            f"images.shape={shape}. {_EMPTY_IMAGE_FIX}"
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


_EMPTY_IMAGE_FIX = (
    "Drop empty images first, e.g. `dataset.filter(lambda image, label: "
    "tf.reduce_all(tf.shape(image)[:2] > 0))`."
)
_VALUE_RANGE_FIX = (
    "`keras.utils.image_dataset_from_directory` (and Keras' other image loaders) yield "
    "float32 in [0, 255]: pass value_range=(0, 255). Declare the range of other float "
    "images with value_range=(low, high)."
)
_NON_FINITE_FIX = (
    "Replace NaN and inf pixels before the transform, e.g. "
    "`tf.where(tf.math.is_finite(images), images, 0.0)`."
)


def check_image_values(owner, images, value_range):
    """Checks that images are not empty and that float pixels are finite and in range.

    Float pixels must lie in `value_range`, give or take its width: resampling with
    bicubic or Lanczos kernels overshoots in-range images by less (Lanczos-5, the most,
    by 0.93 of the range on a checkerboard), while images in [0, 255] read as [0, 1] (the
    default) exceed it as soon as one pixel is above 2. Integer images are always valid.
    Eagerly a failed check raises a ValueError; in a graph (`dataset.map`, a model), an
    `InvalidArgumentError` with the same message when the batch runs. XLA drops these
    assertions: a model compiled with `jit_compile=True` runs without them.

    Args:
        owner: String. Name used in error messages.
        images: Tensor `(H, W, C)` or `(N, H, W, C)`, checked by `as_image_tensor`.
        value_range: Pair of floats from `check_value_range`.

    Returns:
        `images` (in a graph, with the checks as control dependencies).

    Example:

    >>> import tensorflow as tf
    >>> try:
    ...     check_image_values("Demo", tf.fill([2, 2, 3], 200.0), (0.0, 1.0))
    ... except ValueError as error:
    ...     print(str(error).split(". ")[1])
    Received: values from 200.0 to 200.0
    """
    rank = images.shape.rank
    size_known = None not in images.shape[rank - 3 : rank - 1]
    is_float = images.dtype not in INTEGER_IMAGE_DTYPES
    if size_known and not is_float:
        return images
    low, high = (float(v) for v in value_range)
    lowest, highest = low - (high - low), high + (high - low)
    expectation = (
        f"{owner}: float `images` must be finite and within value_range="
        f"{tuple(value_range)!r}, give or take its width. Received: values from"
    )
    if tf.executing_eagerly():
        if is_float and tf.size(images) > 0:
            _raise_if_out_of_range(images, lowest, highest, expectation)
        return images
    assertions = []
    if not size_known:
        assertions.append(_assert_not_empty(owner, images))
    if is_float:
        assertions.append(_assert_in_range(images, lowest, highest, expectation))
    with tf.control_dependencies(assertions):
        return tf.identity(images)


def _raise_if_out_of_range(images, lowest, highest, expectation):
    minimum = float(tf.reduce_min(images))
    maximum = float(tf.reduce_max(images))
    if not lowest <= minimum <= maximum <= highest:  # False for NaN
        finite = math.isfinite(minimum) and math.isfinite(maximum)
        raise ValueError(
            f"{expectation} {minimum!r} to {maximum!r}. "
            f"{_VALUE_RANGE_FIX if finite else _NON_FINITE_FIX}"
        )


def _assert_not_empty(owner, images):
    rank = images.shape.rank
    height_and_width = tf.shape(images)[rank - 3 : rank - 1]
    return tf.debugging.Assert(
        tf.reduce_all(height_and_width > 0),
        [
            f"{owner}: `images` must be at least 1 pixel high and wide. Received: "
            "images.shape=",
            tf.shape(images),
            _EMPTY_IMAGE_FIX,
        ],
        summarize=4,
    )


def _assert_in_range(images, lowest, highest, expectation):
    minimum, maximum = tf.reduce_min(images), tf.reduce_max(images)
    in_range = (tf.cast(minimum, tf.float64) >= lowest) & (
        tf.cast(maximum, tf.float64) <= highest
    )
    return tf.debugging.Assert(
        (tf.size(images) == 0) | in_range,
        [expectation, minimum, "to", maximum, _VALUE_RANGE_FIX, _NON_FINITE_FIX],
        summarize=4,
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


def check_path(owner, arg, value, fix, allow_none=False):
    """Returns `value` as a string path if it is a non-empty string or `os.PathLike` (or
    None, if `allow_none`), else raises a TypeError.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name.
        value: The value to check.
        fix: String. How to fix it, e.g. `"E.g. logdir='runs/lr'."`.
        allow_none: Bool. Whether None is valid (and returned). Defaults to `False`.

    Example:

    >>> import pathlib
    >>> check_path("Demo", "logdir", pathlib.Path("runs") / "lr", fix="E.g. logdir='runs/lr'.")
    'runs/lr'
    """
    if value is None and allow_none:
        return None
    path = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(path, str) and path and "\0" not in path:
        return path
    raise TypeError(
        f"{owner}: `{arg}` must be {'None or ' if allow_none else ''}a path (a non-empty "
        f"string or os.PathLike). Received: {arg}={value!r}. {fix}"
    )


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
