"""Image grids: layout derived by hand, letterboxed cells, errors."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from keras_accuracy_kit.reporting import image_grid, write_image_grid


def test_layout_and_cell_content():
    black = np.zeros((2, 4, 4, 1), np.float32)
    red = np.tile(np.array([1.0, 0.0, 0.0], np.float32), (3, 4, 8, 1))
    grid = image_grid([black, red], cell_size=(8, 8), spacing=1, background=0.5).numpy()
    # 2 rows x 3 columns of 8x8 cells, 1 px of spacing after each.
    assert grid.shape == (1, 18, 27, 3)
    # Black 4x4 scaled to fill the square cell; third cell of row one is blank.
    np.testing.assert_array_equal(grid[0, 0:8, 0:8], 0.0)
    np.testing.assert_array_equal(grid[0, 0:8, 18:26], 0.5)
    # The 4x8 red image is letterboxed: rows 2..5 of the 8x8 cell, bars above and below.
    np.testing.assert_array_equal(grid[0, 9 + 2 : 9 + 6, 0:8], [[[1.0, 0.0, 0.0]] * 8] * 4)
    np.testing.assert_array_equal(grid[0, 9:11, 0:8], 0.5)
    np.testing.assert_array_equal(grid[0, 8, :], 0.5)  # spacing row


def test_uint8_rows_are_scaled():
    grid = image_grid([np.full((1, 2, 2, 3), 255, np.uint8)], cell_size=(2, 2), spacing=0)
    np.testing.assert_array_equal(grid.numpy(), 1.0)


def test_rejects_empty_rows_and_wrong_channels():
    with pytest.raises(ValueError, match=r"image_grid: `rows` must hold at least one batch"):
        image_grid([])
    with pytest.raises(ValueError, match=r"1 or 3 channels.*images\[\.\.\., :3\]"):
        image_grid([np.zeros((1, 4, 4, 4), np.float32)])


def test_write_image_grid_to_tensorboard_and_png(tmp_path):
    grid = image_grid([np.random.default_rng(0).random((2, 5, 5, 3))], cell_size=(10, 10))
    path = write_image_grid(tmp_path, "kit/grid", grid, step=3, description="two cells")
    decoded = tf.io.decode_png(tf.io.read_file(path)).numpy()
    np.testing.assert_array_equal(decoded, np.round(grid[0].numpy() * 255))
    accumulator = event_accumulator.EventAccumulator(str(tmp_path))
    accumulator.Reload()
    events = accumulator.Tensors("kit/grid")
    assert [event.step for event in events] == [3]
