"""Property-based tests (hypothesis) of the list-, pair- and "auto"-valued argument checks."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keras_accuracy_kit._core import checks

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
#: Values that are neither an int nor a bool nor "auto"/None: what users pass by mistake.
not_an_int = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5).filter(lambda text: text != "auto"),
    st.lists(st.integers(), max_size=2),
)


@given(value=st.integers(-10, 10), minimum=st.integers(-2, 3))
def test_int_or_auto_accepts_exactly_the_integers_from_the_minimum(value, minimum):
    allow = ("auto",)
    assert checks.check_int("Demo", "head_epochs", "auto", minimum, allow=allow) == "auto"
    if value >= minimum:
        got = checks.check_int("Demo", "head_epochs", np.int64(value), minimum, allow=allow)
        assert type(got) is int and got == value
        return
    with pytest.raises(ValueError) as raised:
        checks.check_int("Demo", "head_epochs", value, minimum, example=20, allow=allow)
    message = str(raised.value)
    assert message.startswith("Demo: `head_epochs` must be 'auto' or ")
    assert f"Received: head_epochs={value!r}. Pass 'auto' or a whole number of at least " in (
        message
    )
    assert message.endswith(f"{minimum}, e.g. head_epochs=20.")


@given(value=not_an_int)
def test_int_or_none_refuses_everything_else(value):
    with pytest.raises(ValueError, match=r"^Demo: `keep_best` must be None or a positive integer"):
        checks.check_int("Demo", "keep_best", value, allow=(None,))
    assert checks.check_int("Demo", "keep_best", None, allow=(None,)) is None


@given(value=st.one_of(st.booleans(), not_an_int, st.integers()))
def test_bool_or_auto_takes_bools_and_auto_only(value):
    if isinstance(value, bool):
        assert checks.check_bool("Demo", "cache", np.bool_(value), ValueError, ("auto",)) is value
        return
    with pytest.raises(ValueError) as raised:
        checks.check_bool("Demo", "cache", value, ValueError, allow=("auto",))
    assert str(raised.value) == (
        f"Demo: `cache` must be 'auto', True or False. Received: cache={value!r}. Pass "
        "cache='auto', cache=True or cache=False."
    )


@given(value=st.one_of(finite, st.just(math.inf), st.just(math.nan), st.text(max_size=3)))
def test_number_or_auto_accepts_finite_numbers_in_bounds(value):
    accepted = isinstance(value, float) and math.isfinite(value) and value >= 0
    if value == "auto" or accepted:
        assert checks.check_number("Demo", "head_l2", value, low=0, allow=("auto",)) == value
        return
    with pytest.raises(ValueError, match=r"must be 'auto' or a finite number in \[0, inf\]\."):
        checks.check_number("Demo", "head_l2", value, low=0, allow=("auto",))


@given(
    low=finite,
    high=finite,
    minimum=st.sampled_from([-math.inf, 0.0, 1.0]),
    open_minimum=st.booleans(),
    strict=st.booleans(),
)
def test_pair_is_accepted_exactly_when_ordered_and_above_the_minimum(
    low, high, minimum, open_minimum, strict
):
    arguments = dict(minimum=minimum, open_minimum=open_minimum, strict=strict, example="(1, 2)")
    above = minimum < low if open_minimum else minimum <= low
    ordered = low < high if strict else low <= high
    if above and ordered:
        assert checks.check_pair("Demo", "pair", (low, high), **arguments) == [low, high]
        return
    with pytest.raises(ValueError) as raised:
        checks.check_pair("Demo", "pair", [low, high], **arguments)
    message = str(raised.value)
    assert f"Received: pair={[low, high]!r}. " in message
    assert f"low {'<' if strict else '<='} high." in message
    if minimum != -math.inf:
        assert f"with {minimum} {'<' if open_minimum else '<='} low" in message
    # Only an inverted pair is told to swap; a pair below the minimum gets the example.
    assert ("Swap an inverted pair" in message) == (low > high)
    assert message.lower().endswith("e.g. pair=(1, 2).")


@given(value=st.one_of(st.none(), finite, st.text(max_size=3), st.lists(finite, max_size=4)))
def test_pair_refuses_what_is_not_two_finite_numbers(value):
    if isinstance(value, list) and len(value) == 2 and value[0] <= value[1]:
        return
    with pytest.raises(ValueError, match=r"must be a pair \(low, high\) with low <= high\. "):
        checks.check_pair("Demo", "pair", value)


@given(low=st.integers(-5, 5), high=st.integers(-5, 5))
def test_ordered_raises_exactly_when_low_is_above_high_and_the_swap_passes(low, high):
    if low <= high:
        assert checks.check_ordered("Demo", "min_blocks", low, "max_blocks", high) is None
        return
    with pytest.raises(ValueError) as raised:
        checks.check_ordered("Demo", "min_blocks", low, "max_blocks", high)
    message = str(raised.value)
    assert message == (
        f"Demo: `min_blocks` must be at most `max_blocks`. Received: min_blocks={low}, "
        f"max_blocks={high}. Swap them, e.g. min_blocks={high}, max_blocks={low}."
    )
    swapped = re.search(r"min_blocks=(-?\d+), max_blocks=(-?\d+)\.$", message).groups()
    checks.check_ordered("Demo", "min_blocks", int(swapped[0]), "max_blocks", int(swapped[1]))


def _positive(size):
    return isinstance(size, int) and not isinstance(size, bool) and size > 0


@given(
    value=st.lists(st.integers(-3, 300), max_size=5),
    as_tuple=st.booleans(),
    allow_empty=st.booleans(),
)
def test_list_names_exactly_the_bad_items(value, as_tuple, allow_empty):
    given_value = tuple(value) if as_tuple else value
    arguments = dict(allow_empty=allow_empty)
    bad = [size for size in value if size <= 0]
    if not bad and (value or allow_empty):
        got = checks.check_list(
            "Demo", "sizes", given_value, _positive, "pixels", "(32,)", **arguments
        )
        assert got == value
        return
    with pytest.raises(ValueError) as raised:
        checks.check_list("Demo", "sizes", given_value, _positive, "pixels", "(32,)", **arguments)
    message = str(raised.value)
    emptiness = "" if allow_empty else "non-empty "
    assert message.startswith(f"Demo: `sizes` must be a {emptiness}list of pixels. ")
    assert f"Received: sizes={given_value!r}. " in message
    fix = f"Remove {bad!r}, or pass" if bad else "Pass"
    assert message.endswith(f"{fix} e.g. sizes=(32,).")


@given(value=st.one_of(st.integers(), st.text(max_size=3), st.none()), single=st.booleans())
def test_list_takes_one_item_as_a_list_of_one_only_if_single(value, single):
    if value is None:
        assert checks.check_list("Demo", "a", None, _positive, "x", "(1,)", allow_none=True) is None
    if single and _positive(value):
        assert checks.check_list("Demo", "a", value, _positive, "x", "(1,)", single=True) == [value]
        return
    with pytest.raises(ValueError, match=r"^Demo: `a` must be a non-empty list of x\. Received"):
        checks.check_list("Demo", "a", value, _positive, "x", "(1,)", single=single)


CHOICES = ("rgb", "grayscale", "hsv", "lab", "yuv")


@given(value=st.lists(st.sampled_from(CHOICES + ("cmyk", "RGB", 3)), max_size=4))
def test_choices_accepts_lists_of_the_choices_and_names_the_others(value):
    unknown = [name for name in value if name not in CHOICES or not isinstance(name, str)]
    if value and not unknown:
        assert checks.check_choices("Demo", "color_spaces", value, CHOICES, "('rgb',)") == value
        return
    with pytest.raises(ValueError) as raised:
        checks.check_choices("Demo", "color_spaces", value, CHOICES, "('rgb',)")
    message = str(raised.value)
    assert message.startswith(
        f"Demo: `color_spaces` must be a non-empty list of {sorted(CHOICES)}. "
    )
    assert (f"Remove {unknown!r}, or pass" in message) == bool(unknown)


def test_choices_does_not_compare_arrays_element_by_element():
    with pytest.raises(ValueError, match=r"Remove \[array\(\[1, 2\]\)\]"):
        checks.check_choices("Demo", "names", [np.array([1, 2])], CHOICES, "('rgb',)")


@given(value=st.one_of(st.integers(), st.text(max_size=3)))
def test_list_reads_any_ordered_iterable_but_a_string_as_its_items(value):
    assert checks.check_list("Demo", "a", range(1, 4), _positive, "x", "(1,)") == [1, 2, 3]
    with pytest.raises(ValueError, match=r"Received: a=\{5\}\. Pass e\.g\. a=\(1,\)\.$"):
        checks.check_list("Demo", "a", {5}, _positive, "x", "(1,)")  # no order
    assert checks.check_list("Demo", "a", iter([2, 1]), _positive, "x", "(1,)") == [2, 1]
    if isinstance(value, str):
        with pytest.raises(ValueError) as raised:
            checks.check_list("Demo", "a", value, lambda item: True, "x", "(1,)")
        assert f"Received: a={value!r}. Pass e.g. a=(1,)." in str(raised.value)


NAMES = ("height", "width", "channels")


@given(
    shape=st.lists(st.one_of(st.integers(-2, 40), st.none(), st.booleans()), max_size=5),
    names=st.sampled_from([None, NAMES]),
    allow_unknown=st.booleans(),
)
def test_shape_is_accepted_exactly_when_each_dimension_is_positive(shape, names, allow_unknown):
    def valid(d):
        if d is None:
            return allow_unknown
        return not isinstance(d, bool) and d > 0

    ok = shape and (names is None or len(shape) == 3) and all(map(valid, shape))
    arguments = dict(names=names, allow_unknown=allow_unknown, fix="E.g. input_shape=(8, 8, 1).")
    if ok:
        assert checks.check_shape("Demo", "input_shape", shape, **arguments) == tuple(shape)
        return
    with pytest.raises(ValueError) as raised:
        checks.check_shape("Demo", "input_shape", shape, **arguments)
    message = str(raised.value)
    kind = "positive integers or None" if allow_unknown else "positive integers"
    head = (
        f"(height, width, channels), the shape of one input: 3 {kind}"
        if names
        else f"a tuple of {kind}, the shape of one input"
    )
    assert message == (
        f"Demo: `input_shape` must be {head}. Received: input_shape={shape!r}. "
        "E.g. input_shape=(8, 8, 1)."
    )


def test_shape_reads_numpy_and_tensorflow_shapes_as_python_ints():
    import tensorflow as tf

    got = checks.check_shape("Demo", "input_shape", np.array([8, 8, 1]), names=NAMES)
    assert got == (8, 8, 1) and all(type(d) is int for d in got)
    shape = tf.TensorShape([None, 8, 3])
    got = checks.check_shape("Demo", "input_shape", shape, allow_unknown=True)
    assert got == (None, 8, 3)
    with pytest.raises(ValueError, match=r"Received: input_shape='8x8'\.$"):
        checks.check_shape("Demo", "input_shape", "8x8")
    with pytest.raises(ValueError, match=r"Received: input_shape=8\.$"):
        checks.check_shape("Demo", "input_shape", 8)


@given(value=st.one_of(st.text(max_size=4), st.binary(max_size=3), st.integers(), st.none()))
def test_path_is_a_non_empty_string_without_nul(value):
    import pathlib

    valid = isinstance(value, str) and value != "" and "\0" not in value
    for allow_none in (False, True):
        if valid or (value is None and allow_none):
            assert checks.check_path("Demo", "logdir", value, "Fix.", allow_none) == value
            continue
        with pytest.raises(TypeError) as raised:
            checks.check_path("Demo", "logdir", value, "Fix.", allow_none)
        assert str(raised.value) == (
            f"Demo: `logdir` must be {'None or ' if allow_none else ''}a path (a non-empty "
            f"string or os.PathLike). Received: logdir={value!r}. Fix."
        )
    if valid:
        assert checks.check_path("Demo", "logdir", pathlib.Path(value), "Fix.") == str(
            pathlib.Path(value)
        )


@given(
    seed=st.one_of(st.none(), st.integers(-(2**64), 2**64), st.booleans(), st.text(max_size=2)),
    allow_none=st.booleans(),
)
def test_seed_is_an_int64_and_none_only_if_allowed(seed, allow_none):
    is_int = isinstance(seed, int) and not isinstance(seed, bool)
    if (seed is None and allow_none) or (is_int and -(2**63) <= seed < 2**63):
        assert checks.check_seed("Demo", seed, allow_none=allow_none) == seed
        return
    with pytest.raises(ValueError) as raised:
        checks.check_seed("Demo", seed, allow_none=allow_none)
    message = str(raised.value)
    if is_int:
        assert message.startswith("Demo: `seed` must be an int64 (from -2**63 to 2**63 - 1).")
    else:
        assert message == (
            f"Demo: `seed` must be {'None or ' if allow_none else ''}an int. Received: "
            f"seed={seed!r}. E.g. seed=0."
        )
