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
    height = rendering.WORST_CELL_SIZE + rendering.WORST_CAPTION_HEIGHT + 2
    assert grid.shape == (1, 3 * height, 4 * (rendering.WORST_CELL_SIZE + 2), 3)
    # The caption strip under the first image holds dark text pixels.
    top = rendering.WORST_CELL_SIZE
    caption = grid[0, top : top + rendering.WORST_CAPTION_HEIGHT, :80]
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


def _caption_pixels(true, predicted, true_probability, predicted_probability):
    """`(red pixels, written pixels)` in each caption line of one worst-prediction cell."""
    item = WorstPrediction(np.full((8, 8, 1), 0.5), true, predicted, true_probability,
                           predicted_probability)  # fmt: skip
    cell = rendering.worst_cell(
        rendering.to_display_image(item.image), rendering.worst_caption(item, ["cat", "dog"])
    )
    pixels = np.round(cell * 255).astype(int)
    red = (pixels[..., 0] > 140) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    ink = pixels.min(axis=-1) < 160  # any written pixel, whatever its colour
    lines = []
    for row in range(3):
        top = rendering.WORST_CELL_SIZE + 2 + row * rendering.WORST_LINE_HEIGHT
        band = slice(top, top + rendering.WORST_LINE_HEIGHT)
        lines.append((int(red[band].sum()), int(ink[band].sum())))
    return lines


def test_captions_are_red_only_for_errors_not_for_correct_low_confidence_predictions():
    error = _caption_pixels(true=1, predicted=0, true_probability=0.1, predicted_probability=0.9)
    correct = _caption_pixels(true=1, predicted=1, true_probability=0.3, predicted_probability=0.3)
    assert error[1][0] > 20  # the wrong prediction's line is red
    assert correct[1][0] == 0  # a right one with 30 % confidence is not
    assert all(red == 0 for red, _ in error[:1] + error[2:] + correct)  # other lines: no red
    assert all(ink > 20 for _, ink in error + correct)  # three written lines in each


def test_captions_say_true_predicted_and_probabilities():
    item = WorstPrediction(None, 0, 1, 0.25, 0.75)
    assert [text for text, _ in rendering.worst_caption(item, ["cat", "dog"])] == [
        "true cat", "pred dog 75%", "p(true) 25%",
    ]  # fmt: skip


def test_caption_text_is_legible_at_card_size():
    """Letters at least 9 px tall (the bitmap default font draws 6-7 px capitals)."""
    cell = rendering.worst_cell(np.ones((8, 8, 3)), [("TRUE 8", rendering.TEXT_COLOR)])
    ink = (cell[rendering.WORST_CELL_SIZE :].max(axis=-1) < 0.5).any(axis=1)
    rows = np.flatnonzero(ink)
    assert rows.size and rows.max() - rows.min() + 1 >= 9
