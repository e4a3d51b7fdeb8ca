"""Property-based tests (hypothesis) over the constructor arguments of every public transform.

Issue 15: whatever value an argument gets, the transform either refuses it with a clear
`ValueError`/`TypeError` that names the argument, or gives a finite result; no raw
TensorFlow error escapes. The transforms come from the registry (plus the label-mixing
transforms, which are not layers), so a new transform is covered without a new test.
"""

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_accuracy_kit.transforms import CutMix, MixUp, registered_transforms
from keras_accuracy_kit.transforms.augment import POLICIES
from keras_accuracy_kit.transforms.color_transform import OUTPUT_RANGES
from keras_accuracy_kit.transforms.functional.geometry import RESIZE_INTERPOLATIONS, RESIZE_MODES
from keras_accuracy_kit.transforms.functional.projective import FILL_MODES
from tests.transforms.conftest import REQUIRED_ARGUMENTS
from tests.transforms.test_registry import NON_DEFAULT_ARGUMENTS

PUBLIC_TRANSFORMS = {**registered_transforms(), "MixUp": MixUp, "CutMix": CutMix}
MIXING = (MixUp, CutMix)
# The machine is small and shared: few examples per transform, each on tiny images.
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # reproducible, like every other test (conftest seeds everything)
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Per argument of every transform (47 of them): fewer examples each.
ONE_ARGUMENT_SETTINGS = settings(SETTINGS, max_examples=15)
# Resize outputs above this many pixels are not computed (65536 x 65536 is allowed).
MAX_OUTPUT_PIXELS = 256 * 256

CHOICES = sorted(
    {*POLICIES, *OUTPUT_RANGES, *RESIZE_MODES, *RESIZE_INTERPOLATIONS, *FILL_MODES}
    | {"rec601", "rec709", "auto"}
)
# Numbers where float32 arithmetic breaks (tiny, huge, non-finite) often, ordinary ones too.
EDGE_NUMBERS = [0, 1, -1, 0.5, 2, 5, 90, 360, -0.0, 1e-7, 1e-30, 1e-300, 5e-324, 1e6, 1e30,
                3.4e38, 1e300, 1.7e308, float("inf"), -float("inf"), float("nan"), -1e300,
                2**31, 2**63, 1 << 40]
NUMBERS = st.one_of(
    st.integers(-3, 300),
    st.floats(-3, 300),
    st.floats(0, 1),
    st.sampled_from(EDGE_NUMBERS),
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
)
SCALARS = st.one_of(
    NUMBERS, st.none(), st.booleans(), st.sampled_from(CHOICES), st.text(max_size=6)
)
VALUES = st.one_of(
    SCALARS,
    st.tuples(NUMBERS, NUMBERS),
    st.lists(NUMBERS, max_size=4),
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=3), NUMBERS, max_size=2),
    st.builds(np.array, st.lists(NUMBERS.filter(lambda v: abs(v) < 2**62), max_size=3)),
)


def like(value):
    """Values of the kind of a valid `value` (numbers for a number, pairs for a pair)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, str):
        return st.sampled_from(CHOICES)
    if isinstance(value, (int, float)):
        return NUMBERS
    if isinstance(value, (list, tuple)) and value:
        items = like(value[0])
        return st.one_of(
            st.lists(items, min_size=len(value), max_size=len(value)),
            st.lists(items, min_size=len(value), max_size=len(value)).map(tuple),
        )
    return VALUES


def argument_values(name, cls, argument, anything=True):
    """Valid values (the default, the round-trip test's), values of their kind and, unless
    `anything=False`, values of any kind."""
    default = inspect.signature(cls.__init__).parameters[argument].default
    examples = [default] if default is not inspect.Parameter.empty else []
    if argument in NON_DEFAULT_ARGUMENTS.get(name, {}):
        examples.append(NON_DEFAULT_ARGUMENTS[name][argument])
    if argument in REQUIRED_ARGUMENTS.get(name, {}):
        examples.append(REQUIRED_ARGUMENTS[name][argument])
    valid = st.sampled_from(examples or [None])
    kinds = [like(example) for example in examples if example is not None]
    if argument == "seed":
        kinds.append(NUMBERS)
    if not anything:
        return st.one_of(valid, *kinds, *kinds)
    return st.one_of(valid, valid, valid, *kinds, VALUES)


def constructor_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return sorted(
        p.name
        for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    )


def test_every_public_transform_has_arguments_to_draw():
    assert set(registered_transforms()) < set(PUBLIC_TRANSFORMS)
    for name, cls in PUBLIC_TRANSFORMS.items():
        assert "value_range" in constructor_arguments(cls), name


def inputs_for(transform, rng):
    """Tiny uint8 images and float images inside the transform's `value_range`."""
    uint8 = rng.integers(0, 256, (2, 8, 9, 3)).astype(np.uint8)
    low, high = transform.value_range
    floats = (low + (high - low) * (uint8 / 255.0)).astype(np.float32)
    return [uint8, floats]


def call(transform, images):
    if isinstance(transform, MIXING):
        labels = np.eye(2, dtype=np.float32)
        mixed, labels = transform(images, labels)
        return [np.asarray(mixed), np.asarray(labels)]
    return [np.asarray(transform(images))]


def assert_names_an_argument(error, owner, arguments):
    message = str(error)
    assert message.startswith(f"{owner}: "), message
    assert any(f"`{argument}`" in message for argument in arguments), message
    assert "Received:" in message, message


def check_arguments(name, drawn, data, anything):
    """Draws values for the `drawn` arguments: a clear error naming one, or finite outputs."""
    cls = PUBLIC_TRANSFORMS[name]
    arguments = {
        argument: data.draw(argument_values(name, cls, argument, anything), label=argument)
        for argument in drawn
    }
    arguments = {**REQUIRED_ARGUMENTS.get(name, {}), **arguments}
    try:
        transform = cls(**arguments)
    except (ValueError, TypeError) as error:
        assert_names_an_argument(error, name, drawn)
        return
    if name == "Resize" and transform.height * transform.width > MAX_OUTPUT_PIXELS:
        return  # accepted; too large to compute here
    rng = np.random.default_rng(0)
    for images in inputs_for(transform, rng):
        try:
            outputs = call(transform, images)
        except (ValueError, TypeError) as error:
            # Only what depends on the images may be refused on the first call (e.g. a
            # `cval` outside the range of uint8 images, one `pad_value` per channel).
            assert_names_an_argument(error, name, drawn)
            continue
        for output in outputs:
            assert np.isfinite(output).all(), (arguments, images.dtype)


TRANSFORM_ARGUMENTS = [
    (name, argument)
    for name, cls in sorted(PUBLIC_TRANSFORMS.items())
    for argument in constructor_arguments(cls)
]


@pytest.mark.parametrize("name,argument", TRANSFORM_ARGUMENTS)
@ONE_ARGUMENT_SETTINGS
@given(data=st.data())
def test_any_value_gives_a_clear_error_or_a_finite_result(name, argument, data):
    check_arguments(name, [argument], data, anything=True)


@pytest.mark.parametrize("name,argument", TRANSFORM_ARGUMENTS)
@ONE_ARGUMENT_SETTINGS
@given(data=st.data())
def test_extreme_values_of_the_right_kind_give_a_clear_error_or_a_finite_result(
    name, argument, data
):
    # Numbers where float32 breaks (1e300, 5e-324, 2**63, ...) in place of valid ones.
    check_arguments(name, [argument], data, anything=False)


@pytest.mark.parametrize("name", sorted(PUBLIC_TRANSFORMS))
@SETTINGS
@given(data=st.data())
def test_combinations_of_arguments_give_a_clear_error_or_a_finite_result(name, data):
    arguments = constructor_arguments(PUBLIC_TRANSFORMS[name])
    drawn = data.draw(
        st.lists(st.sampled_from(arguments), min_size=2, max_size=4, unique=True),
        label="arguments",
    )
    check_arguments(name, drawn, data, anything=data.draw(st.booleans(), label="anything"))


@pytest.mark.parametrize("name", sorted(PUBLIC_TRANSFORMS))
@SETTINGS
@given(
    pixels=st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=6
    ),
    value_range=st.sampled_from([(0, 1), (0, 255), (-1, 1)]),
)
def test_any_float_pixels_give_a_clear_error_or_a_finite_result(name, pixels, value_range):
    cls = PUBLIC_TRANSFORMS[name]
    transform = cls(**REQUIRED_ARGUMENTS.get(name, {}), value_range=value_range)
    images = np.resize(np.asarray(pixels, np.float32), (2, 4, 5, 3))
    low, high = value_range
    valid = np.isfinite(images).all() and 2 * low - high <= images.min() <= images.max() <= (
        2 * high - low
    )
    try:
        outputs = call(transform, images)
    except ValueError as error:
        message = str(error)
        assert message.startswith(f"{name}: float `images` must be finite and within "), message
        assert "Received: values from" in message
        assert not valid, message
        return
    assert valid
    for output in outputs:
        assert np.isfinite(output).all()
