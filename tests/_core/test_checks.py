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
