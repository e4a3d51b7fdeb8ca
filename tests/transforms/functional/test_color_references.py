"""Colour conversions: the gaps the mutation check found in test_color.py (issue 22).

Each test was written for mutants of `transforms/functional/color.py` that the other tests let
through (docs/development.md lists them).
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transforms import functional as F


def test_a_single_rgba_pixel_is_refused_with_its_channel_count():
    # A rank-1 `[r, g, b, a]` pixel has 4 channels: the message says so (not "None").
    with pytest.raises(ValueError, match=r"images\.shape=\(4,\) with 4 channel\(s\)"):
        F.rgb_to_lab(np.array([0.1, 0.2, 0.3, 1.0], np.float32))
    with pytest.raises(ValueError, match=r"images\.shape=\(\) with None channel\(s\)"):
        F.rgb_to_lab(np.float32(0.5))


def xla_compiled_calls(function, jit_compile, shape):
    """How each call in the traced graph of `function` is compiled: a list of booleans."""
    traced = tf.function(lambda images: function(images, jit_compile=jit_compile))
    graph = traced.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    calls = [op for op in graph.get_operations() if op.type.endswith("PartitionedCall")]
    return [bool(op.node_def.attr["_XlaMustCompile"].b) for op in calls]


@pytest.mark.parametrize("function", [F.rgb_to_lab, F.lab_to_rgb])
def test_jit_compile_chooses_the_xla_kernel_as_documented(function):
    """`True`: one XLA kernel; `False`: never XLA; `"auto"`: XLA for fully known shapes only."""
    static, dynamic = [2, 4, 4, 3], [None, None, 3]
    assert xla_compiled_calls(function, True, static) == [True]
    assert xla_compiled_calls(function, True, dynamic) == [True]
    assert xla_compiled_calls(function, False, static) == []
    assert xla_compiled_calls(function, False, dynamic) == []
    assert xla_compiled_calls(function, "auto", static) == [True]
    assert xla_compiled_calls(function, "auto", dynamic) == []


def test_weights_with_a_negative_one_are_refused_even_when_they_sum_to_one():
    # (1.2, -0.1, -0.1) sums to 1 but is no weighted mean: gray could leave [0, 1].
    with pytest.raises(
        ValueError, match=r"non-negative floats that sum to 1.*weights=\(1\.2, -0\.1, -0\.1\)"
    ):
        F.rgb_to_grayscale(np.zeros((2, 2, 3), np.float32), weights=(1.2, -0.1, -0.1))


def test_a_zero_weight_is_allowed_and_leaves_its_channel_out():
    rgb = np.array([[0.2, 0.4, 0.8]], np.float32)
    gray = F.rgb_to_grayscale(rgb, weights=(0.0, 0.5, 0.5)).numpy()
    np.testing.assert_allclose(gray, [[0.6]], atol=1e-6)  # (0.4 + 0.8) / 2, by hand


@pytest.mark.parametrize("weights", [(0.5, 0.3, 0.3), (0.3, 0.3, 0.3), (0.4, 0.4, 0.19)])
def test_weights_that_do_not_sum_to_one_are_refused(weights):
    # Sums 1.1, 0.9 and 0.99: gray would leave the input's range (or darken it).
    with pytest.raises(ValueError, match=r"non-negative floats that sum to 1"):
        F.rgb_to_grayscale(np.ones((2, 2, 3), np.float32), weights=weights)


def test_weights_within_rounding_of_one_are_taken_as_given():
    # tf.image's Rec.601 weights sum to 0.9999: accepted (and used unchanged, by hand).
    rgb = np.array([[1.0, 1.0, 1.0]], np.float32)
    gray = F.rgb_to_grayscale(rgb, weights=(0.2989, 0.5870, 0.1140)).numpy()
    np.testing.assert_allclose(gray, [[0.9999]], atol=1e-6)


@pytest.mark.parametrize("keep_channels", [2, 0, True, 3.0, "3"])
def test_keep_channels_other_than_1_or_3_is_refused(keep_channels):
    # True is an int to Python and 3.0 equals 3: both refused all the same, by type.
    with pytest.raises(
        ValueError,
        match=rf"rgb_to_grayscale: `keep_channels` must be 1 or 3\. Received: "
        rf"keep_channels={re.escape(repr(keep_channels))}\. Use 3",
    ):
        F.rgb_to_grayscale(np.ones((2, 2, 3), np.float32), keep_channels=keep_channels)
