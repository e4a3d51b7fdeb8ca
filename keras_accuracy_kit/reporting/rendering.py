"""Pictures for TensorBoard's Images tab: a confusion matrix and captioned worst predictions.

Drawn with Pillow (a dependency of TensorBoard) so that labels are readable without
matplotlib; laid out with `image_grid`.
"""

import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from keras_accuracy_kit.reporting.image_grid import image_grid

#: Pixels of one worst-prediction cell (the image, letterboxed) and of its two caption lines.
CELL_SIZE = 96
CAPTION_HEIGHT = 26
#: The worst-prediction grid: larger cells, three caption lines in a scalable font (legible
#: at the Images tab's card size): true class, predicted class with its probability (red
#: only for an error), the true class's probability.
WORST_CELL_SIZE = 112
WORST_LINE_HEIGHT = 16
WORST_CAPTION_HEIGHT = 3 * WORST_LINE_HEIGHT + 4
WORST_FONT_SIZE = 13
#: Caption colours: an error's predicted class, a correct one's, and the other lines.
ERROR_COLOR = (183, 28, 28)
CORRECT_COLOR = (27, 94, 32)
TEXT_COLOR = (33, 33, 33)
#: Pixels of one confusion-matrix cell.
MATRIX_CELL_SIZE = 34
#: Above this many classes the confusion matrix is too large to draw (its numbers are
#: still in the plugin's summary).
MAX_MATRIX_CLASSES = 50


def to_display_image(image):
    """Makes one example displayable: float RGB in [0, 1], or None if it is not an image.

    uint8/uint16 images are scaled by their full range; float images already in [0, 1]
    stay as they are; other float images (standardised, or in [0, 255]) are stretched
    from their own min to max. One channel becomes gray RGB; more than 3 keep the first 3.

    Args:
        image: Array `(H, W)` or `(H, W, C)`.

    Returns:
        Float32 array `(H, W, 3)`, or None for inputs of another rank (flat features).

    Example:

    >>> to_display_image(np.array([[0, 255]], np.uint8)).tolist()
    [[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]
    >>> to_display_image(np.zeros(64)) is None
    True
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] < 1:
        return None
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        image = image.astype(np.float32) / 65535.0
    else:
        image = image.astype(np.float32)
        low, high = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
        if low < 0.0 or high > 1.0:
            image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    if image.shape[-1] >= 3:
        image = image[..., :3]
    else:
        image = np.repeat(image[..., :1], 3, axis=-1)
    return np.clip(image, 0.0, 1.0)


@functools.lru_cache(maxsize=1)
def _font():
    return ImageFont.load_default()


@functools.lru_cache(maxsize=1)
def _caption_font():
    """Pillow's scalable default font at `WORST_FONT_SIZE` (its bitmap font without FreeType)."""
    try:
        return ImageFont.load_default(size=WORST_FONT_SIZE)
    except (TypeError, ImportError, OSError):  # an old Pillow, or one built without FreeType
        return ImageFont.load_default()


def _short(text, length):
    text = str(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def captioned_cell(image, lines):
    """One image letterboxed into a `CELL_SIZE` square above two caption lines.

    Args:
        image: Float array `(H, W, 3)` in [0, 1].
        lines: Two strings.

    Returns:
        Float32 array `(CELL_SIZE + CAPTION_HEIGHT, CELL_SIZE, 3)` in [0, 1].
    """
    height, width = image.shape[:2]
    scale = CELL_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize(
        size, Image.Resampling.NEAREST
    )
    canvas = Image.new("RGB", (CELL_SIZE, CELL_SIZE + CAPTION_HEIGHT), "white")
    canvas.paste(picture, ((CELL_SIZE - size[0]) // 2, (CELL_SIZE - size[1]) // 2))
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines[:2]):
        draw.text((2, CELL_SIZE + 1 + 12 * row), _short(line, 16), fill="black", font=_font())
    return np.asarray(canvas, np.float32) / 255.0


def worst_caption(item, class_names):
    """The caption lines of one worst prediction: `[(text, RGB colour)]`, three lines.

    The predicted class is red only when it is wrong: the worst predictions are those with
    the lowest probability of the true class, and some of them are right (with low
    confidence), which is not an error.

    Example:

    >>> from keras_accuracy_kit.reporting.evaluation import WorstPrediction
    >>> worst_caption(WorstPrediction(None, 1, 1, 0.4, 0.4), ["cat", "dog"])
    [('true dog', (33, 33, 33)), ('pred dog 40%', (27, 94, 32)), ('p(true) 40%', (33, 33, 33))]
    >>> worst_caption(WorstPrediction(None, 1, 0, 0.1, 0.9), ["cat", "dog"])[1]
    ('pred cat 90%', (183, 28, 28))
    """
    correct = item.true == item.predicted
    return [
        (f"true {class_names[item.true]}", TEXT_COLOR),
        (
            f"pred {class_names[item.predicted]} {item.predicted_probability:.0%}",
            CORRECT_COLOR if correct else ERROR_COLOR,
        ),
        (f"p(true) {item.true_probability:.0%}", TEXT_COLOR),
    ]


def worst_cell(image, lines):
    """One image letterboxed into a `WORST_CELL_SIZE` square above coloured caption lines.

    Args:
        image: Float array `(H, W, 3)` in [0, 1].
        lines: List of `(text, RGB colour)`, at most three (`worst_caption`).

    Returns:
        Float32 array `(WORST_CELL_SIZE + WORST_CAPTION_HEIGHT, WORST_CELL_SIZE, 3)` in
        [0, 1].
    """
    size = WORST_CELL_SIZE
    canvas = Image.new("RGB", (size, size + WORST_CAPTION_HEIGHT), "white")
    canvas.paste(_letterboxed(image, size), (0, 0))
    draw = ImageDraw.Draw(canvas)
    font = _caption_font()
    for row, (text, color) in enumerate(lines[:3]):
        y = size + 2 + WORST_LINE_HEIGHT * row
        draw.text((3, y), _short(text, 17), fill=color, font=font)
    return np.asarray(canvas, np.float32) / 255.0


def _letterboxed(image, size):
    height, width = image.shape[:2]
    scale = size / max(height, width)
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(np.round(image * 255).astype(np.uint8)).resize(
        shape, Image.Resampling.NEAREST
    )
    box = Image.new("RGB", (size, size), "white")
    box.paste(picture, ((size - shape[0]) // 2, (size - shape[1]) // 2))
    return box


def worst_predictions_grid(worst, class_names, num_columns=8):
    """The worst predictions as one grid image, each captioned with true and predicted
    class and the probabilities (`worst_caption`: red only for errors).

    Args:
        worst: List of `evaluation.WorstPrediction`.
        class_names: List of strings, one per class.
        num_columns: Positive int. Images per row. Defaults to `8`.

    Returns:
        A float32 tensor `(1, height, width, 3)` for `tf.summary.image`, or None when the
        examples are not images (flat features) or there are none.
    """
    cells = []
    for item in worst:
        image = to_display_image(item.image)
        if image is None:
            return None
        cells.append(worst_cell(image, worst_caption(item, class_names)))
    if not cells:
        return None
    rows = [np.stack(cells[i : i + num_columns]) for i in range(0, len(cells), num_columns)]
    return image_grid(
        rows,
        cell_size=(WORST_CELL_SIZE + WORST_CAPTION_HEIGHT, WORST_CELL_SIZE),
        background=1.0,
    )


def confusion_matrix_image(matrix, class_names):
    """A confusion matrix as a picture: counts in cells shaded by the row's share.

    Rows are true classes, columns predicted ones; a darker blue cell holds a larger share
    of its true class.

    Args:
        matrix: Int array `(num_classes, num_classes)`.
        class_names: List of strings, one per class.

    Returns:
        A float32 array `(1, height, width, 3)` in [0, 1] for `tf.summary.image`.
    """
    matrix = np.asarray(matrix)
    num_classes = matrix.shape[0]
    cell = MATRIX_CELL_SIZE
    left, top = 8 + 6 * min(10, max(len(str(n)) for n in class_names)), 30
    canvas = Image.new("RGB", (left + cell * num_classes + 4, top + cell * num_classes + 4))
    canvas.paste("white", (0, 0, *canvas.size))
    draw = ImageDraw.Draw(canvas)
    font = _font()
    draw.text((left, 2), "predicted ->", fill="black", font=font)
    totals = matrix.sum(axis=1)
    for row in range(num_classes):
        y = top + row * cell
        draw.text((2, y + cell // 2 - 6), _short(class_names[row], 10), fill="black", font=font)
        for column in range(num_classes):
            x = left + column * cell
            if row == 0:
                draw.text(
                    (x + 2, top - 13), _short(class_names[column], 5), fill="black", font=font
                )
            share = matrix[row, column] / totals[row] if totals[row] else 0.0
            shade = (
                round(255 - 200 * share),
                round(255 - 150 * share),
                255,
            )
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=shade, outline=(200, 200, 200))
            text = str(int(matrix[row, column]))
            draw.text(
                (x + cell // 2 - 3 * len(text), y + cell // 2 - 6),
                text,
                fill="white" if share > 0.6 else "black",
                font=font,
            )
    return (np.asarray(canvas, np.float32) / 255.0)[None]


def encode_png(image):
    """PNG bytes of a float image `(H, W, 3)` in [0, 1] (or any `to_display_image` input)."""
    display = to_display_image(image)
    buffer = io.BytesIO()
    Image.fromarray(np.round(display * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
