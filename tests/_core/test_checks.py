"""Argument checks raise early with the house error shape."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit._core import checks


def test_to_unit_float_scales_integers_by_full_scale():
    np.testing.assert_allclose(
        checks.to_unit_float(tf.constant([0, 51, 255], tf.uint8)), [0, 0.2, 1]
    )
    np.testing.assert_allclose(checks.to_unit_float(tf.constant([65535], tf.uint16)), [1.0])


def test_to_unit_float_maps_value_range():
    out = checks.to_unit_float(tf.constant([-1.0, 0.0, 1.0]), value_range=(-1, 1))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


def test_writable_directory_is_created(tmp_path):
    path = checks.ensure_writable_directory("Demo", "logdir", tmp_path / "a" / "b")
    assert os.path.isdir(path)


def test_path_under_a_file_is_rejected(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(
        ValueError,
        match=r"Demo: `logdir` must be a directory the kit can write to\. "
        r"Received: logdir=.*file/sub",
    ):
        checks.ensure_writable_directory("Demo", "logdir", blocker / "sub")


@pytest.mark.parametrize(
    "value_range,accepted",
    [
        ((0, 1), True),
        ((0, 255), True),
        ((-1e30, 1e30), True),
        ((0, 1e-30), True),
        ((1e4, 1e4 + 2), True),
        ((-1e308, 1e308), False),  # D21: gave all-NaN images
        ((0, 2e30), False),
        ((0, 1e-31), False),
        ((1e9, 1e9 + 1), False),  # float32 cannot tell the ends apart
        ((1, 1), False),
        ((0, float("nan")), False),
        ((0, 2**1024), False),  # float() overflows
        ("0-1", False),
    ],
)
def test_value_range_must_be_resolvable_in_float32(value_range, accepted):
    if accepted:
        low, high = checks.check_value_range("Demo", value_range)
        assert np.float32(low) < np.float32(high)
        assert np.isfinite(np.float32(1.0) / (np.float32(high) - np.float32(low)))
    else:
        with pytest.raises(ValueError, match=r"Demo: `value_range` must be a pair of finite"):
            checks.check_value_range("Demo", value_range)


def test_positive_int_hint_gives_the_example_not_pixels():
    # D22: every count was told "Pass a whole number of pixels, e.g. group_size=224".
    with pytest.raises(ValueError, match=r"Received: num_images=0\. Pass a whole number of at "
                       r"least 1, e\.g\. num_images=8\.$"):
        checks.check_positive_int("Demo", "num_images", 0, example=8)
    with pytest.raises(ValueError, match=r"Received: batch_size=-4\. Pass a whole number of at "
                       r"least 1\.$"):
        checks.check_positive_int("Demo", "batch_size", -4)


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "224", (1 << 16) + 1, 1 << 40])
def test_image_side_is_a_positive_int_up_to_65536(value):
    # D19
    with pytest.raises(ValueError, match=r"Demo: `height` must be (a positive int|at most 65536)"):
        checks.check_image_side("Demo", "height", value)


@pytest.mark.parametrize("seed", [2**63, -(2**63) - 1, 1.5, "0", True])
def test_seed_must_be_an_int64(seed):
    # D18
    with pytest.raises(ValueError, match=r"Demo: `seed` must be (an int64|None or an int)"):
        checks.check_seed("Demo", seed)
    assert checks.check_seed("Demo", np.int64(2**63 - 1)) == 2**63 - 1


def test_image_values_check_in_a_graph_names_the_values_and_the_fix():
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def check(images):
        return checks.check_image_values("Demo", images, (0.0, 1.0))

    np.testing.assert_array_equal(check(tf.fill([1, 2, 2, 3], 2.0)), 2.0)  # within the margin
    assert check(tf.zeros([0, 2, 2, 3])).shape == (0, 2, 2, 3)  # an empty batch is fine
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Demo: float `images` must be "
                       r"finite.*\[0\] \[to\] \[255\].*value_range=\(0, 255\)"):
        check(tf.constant([[[[0.0, 255.0, 7.0]]]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at least 1 pixel .*\[1 0 2 3\]"):
        check(tf.zeros([1, 0, 2, 3]))
    uint8 = tf.function(lambda x: checks.check_image_values("Demo", x, (0.0, 1.0)))
    assert uint8(tf.fill([2, 2, 3], tf.constant(255, tf.uint8))).dtype == tf.uint8


@pytest.mark.parametrize(
    "arg, value, minimum, example, message",
    [
        ("epochs", 0, 1, 10, r"^Demo: `epochs` must be a positive integer\. Received: epochs=0\. "
         r"Pass a whole number of at least 1, e\.g\. epochs=10\.$"),
        ("min_blocks", -1, 0, 1, r"`min_blocks` must be a non-negative integer\. Received: "
         r"min_blocks=-1\. Pass a whole number of at least 0, e\.g\. min_blocks=1\.$"),
        ("num_classes", 1, 2, 10, r"`num_classes` must be an integer of at least 2\. Received: "
         r"num_classes=1\. Pass a whole number of at least 2, e\.g\. num_classes=10\.$"),
        ("channels", 3.0, 1, 3, r"Received: channels=3\.0\. .* e\.g\. channels=3\.$"),
        ("batch_size", True, 1, 32, r"Received: batch_size=True\. .* e\.g\. batch_size=32\.$"),
    ],
)
def test_check_int_hint_is_the_argument_s_own_example(arg, value, minimum, example, message):
    with pytest.raises(ValueError, match=message):
        checks.check_int("Demo", arg, value, minimum=minimum, example=example)


def test_check_int_returns_a_python_int_at_and_above_the_minimum():
    assert checks.check_int("Demo", "min_blocks", np.int64(0), minimum=0) == 0
    assert type(checks.check_int("Demo", "epochs", np.int32(7))) is int


def test_check_choice_lists_choices_of_several_types_as_given():
    choices = ("auto", True, False)
    assert checks.check_choice("Demo", "refit", True, choices) is True
    with pytest.raises(ValueError, match=r"`refit` must be one of \['auto', True, False\]\. "
                       r"Received: refit='yes'"):  # fmt: skip
        checks.check_choice("Demo", "refit", "yes", choices)
    with pytest.raises(ValueError, match=r"Received: refit=1\."):  # 1 == True, but not a bool
        checks.check_choice("Demo", "refit", 1, choices)
    with pytest.raises(ValueError, match=r"one of \['a', 'b'\]"):  # one type: sorted
        checks.check_choice("Demo", "mode", "c", ("b", "a"))
