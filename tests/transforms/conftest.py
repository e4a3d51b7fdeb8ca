"""Example constructor arguments for every registered transform.

A registered transform that is not default-constructible must appear here, so the
round-trip and element-layout tests cover every transform the kit registers.
"""

import pytest

from keras_accuracy_kit.transforms import registered_transforms

REQUIRED_ARGUMENTS = {
    "Resize": {"height": 12, "width": 10},
    # Not required, but without them Augment would be the identity: the shared tests must
    # exercise a random transform.
    "Augment": {
        "rotation_range": 20,
        "width_shift_range": 0.1,
        "zoom_range": 0.1,
        "horizontal_flip": True,
        "brightness_range": [0.8, 1.2],
        "seed": 0,
    },
}
# Transforms whose output keeps the input's height and width.
OUTPUT_SHAPE = {"Resize": lambda shape: shape[:-3] + (12, 10, shape[-1])}


def make_transform(name, **overrides):
    cls = registered_transforms()[name]
    return cls(**{**REQUIRED_ARGUMENTS.get(name, {}), **overrides})


def is_deterministic(name):
    """Random transforms (`deterministic = False`) give new outputs on every call, so the
    shared tests check their layout, dtype and range instead of exact values."""
    return getattr(registered_transforms()[name], "deterministic", True)


def expected_shape(name, input_shape, transform=None):
    input_shape = tuple(input_shape)
    if name in OUTPUT_SHAPE:
        return OUTPUT_SHAPE[name](input_shape)
    if name == "ToGrayscale":
        return input_shape[:-1] + (transform.keep_channels if transform else 1,)
    return input_shape


@pytest.fixture(params=sorted(registered_transforms()))
def transform_name(request):
    return request.param
