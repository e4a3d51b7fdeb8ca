"""Pictures for the Images tab: display scaling, captioned grid, confusion-matrix shading."""

import numpy as np
import pytest

from keras_accuracy_kit.reporting import rendering
from keras_accuracy_kit.reporting.evaluation import WorstPrediction


@pytest.mark.parametrize(
    "image, expected",
    [
        (np.array([[0, 255]], np.uint8), [0.0, 1.0]),
        (np.array([[0, 65535]], np.uint16), [0.0, 1.0]),
        (np.array([[0.25, 0.5]], np.float32), [0.25, 0.5]),  # already in [0, 1]
        (np.array([[-2.0, 2.0]], np.float32), [0.0, 1.0]),  # standardised: stretched
        (np.array([[0.0, 16.0]], np.float32), [0.0, 1.0]),  # digits' 0..16
        (np.array([[5.0, 5.0]], np.float32), [0.0, 0.0]),  # flat out of range
    ],
)
def test_to_display_image(image, expected):
    display = rendering.to_display_image(image)
    assert display.shape == (1, 2, 3)
    np.testing.assert_allclose(display[0, :, 0], expected)
    np.testing.assert_array_equal(display[..., 0], display[..., 2])


def test_more_than_three_channels_keep_the_first_three():
    image = np.zeros((2, 2, 4), np.float32)
    image[..., 3] = 1.0
    assert rendering.to_display_image(image).max() == 0.0


def test_worst_grid_layout_and_none_for_flat_features():
    worst = [WorstPrediction(np.ones((8, 8, 1)), 1, 0, 0.1, 0.9) for _ in range(10)]
    grid = rendering.worst_predictions_grid(worst, ["zero", "one"], num_columns=4)
    height = rendering.CELL_SIZE + rendering.CAPTION_HEIGHT + 2
    assert grid.shape == (1, 3 * height, 4 * (rendering.CELL_SIZE + 2), 3)
    # The caption strip under the first image holds dark text pixels.
    caption = grid[0, rendering.CELL_SIZE : rendering.CELL_SIZE + rendering.CAPTION_HEIGHT, :80]
    assert caption.numpy().min() < 0.3
    flat = [WorstPrediction(np.ones(64), 1, 0, 0.1, 0.9)]
    assert rendering.worst_predictions_grid(flat, ["zero", "one"]) is None
    assert rendering.worst_predictions_grid([], ["zero", "one"]) is None


def test_confusion_matrix_cells_are_darker_for_a_larger_share():
    image = rendering.confusion_matrix_image(np.array([[3, 1], [0, 4]]), ["cat", "dog"])[0]
    size = rendering.MATRIX_CELL_SIZE
    left, top = 8 + 6 * 3, 30

    def corner(row, column):  # a pixel inside the cell, away from its number
        return image[top + row * size + 3, left + column * size + 3]

    assert corner(0, 0)[0] < corner(0, 1)[0] < corner(1, 0)[0]
    np.testing.assert_allclose(corner(1, 0), 1.0)  # a zero share is white


def test_encode_png_round_trips():
    from PIL import Image
    import io

    image = np.array([[0, 128, 255]], np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(rendering.encode_png(image))))
    np.testing.assert_array_equal(decoded[..., 0], image)
