"""The examples run end to end (they are what `make demo` shows a newcomer)."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tests.conftest import load_script


def test_transform_gallery_writes_the_grid_to_tensorboard(tmp_path, capsys):
    gallery = load_script("examples", "transform_gallery")
    result = gallery.main(["--logdir", str(tmp_path), "--num-images", "5"])
    printed = capsys.readouterr().out
    assert f"tensorboard --logdir {tmp_path}" in printed

    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    assert "transforms/before_after" in accumulator.Tags()["tensors"]
    event = accumulator.Tensors("transforms/before_after")[0]
    width, height = (int(v) for v in tf.make_ndarray(event.tensor_proto)[:2])
    # 8 rows (original + 7 transforms) and 5 columns of 48x80 cells plus 2 px spacing.
    assert (height, width) == (8 * 50, 5 * 82)

    png = tf.io.decode_png(tf.io.read_file(result["png"])).numpy()
    assert png.shape == (8 * 50, 5 * 82, 3)
    np.testing.assert_array_equal(png, np.round(result["grid"][0].numpy() * 255))
    # The letterbox row (second) has gray bars of pad_value 0.5 left and right of the digit.
    assert (png[50 + 10, 0:10] == 128).all()


def test_transform_gallery_rejects_an_unwritable_logdir(tmp_path):
    gallery = load_script("examples", "transform_gallery")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"`logdir` must be a directory the kit can write to"):
        gallery.main(["--logdir", str(blocker / "runs")])


def test_augment_digits_flags_label_changing_steps(tmp_path, capsys):
    example = load_script("examples", "augment_digits")
    result = example.main(["--logdir", str(tmp_path), "--num-images", "600"])
    printed = capsys.readouterr().out
    assert sorted(result["report"].flagged) == ["horizontal_flip", "rotation_range=180"]
    assert result["checked"].rotation_range == 0 and not result["checked"].horizontal_flip
    assert result["checked"].width_shift_range == 0.1
    assert "Augment.checked: removed `horizontal_flip`" in printed
    assert f"tensorboard --logdir {tmp_path}" in printed
    grid = tf.io.decode_png(tf.io.read_file(result["preview"])).numpy()
    assert grid.shape == (4 * 66, 8 * 66, 3)
