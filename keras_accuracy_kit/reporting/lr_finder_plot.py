"""The learning-rate range test as a picture: the loss against the rate, suggestions marked.

The body of `LRFinderResult.plot` (`callbacks/` sits below `reporting/`, so the method calls
this function through `_core.late_bound`; it registers itself when imported, which
`import keras_accuracy_kit` does). Drawn with Pillow, no matplotlib.
"""

import math

import numpy as np
from PIL import Image, ImageDraw

from keras_accuracy_kit._core import late_bound
from keras_accuracy_kit.reporting import rendering
from keras_accuracy_kit.reporting.figure import finish

#: Picture size and the plot area's margins, in pixels.
WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 40
#: Colours of the curves and of the two suggestions' markers.
RAW_COLOR = (190, 190, 190)
SMOOTHED_COLOR = (31, 119, 180)
VALLEY_COLOR = (214, 39, 40)
STEEPEST_COLOR = (255, 127, 14)
MARKER_RADIUS = 5


def loss_range(smoothed_losses):
    """The loss range drawn: from the lowest smoothed loss to the highest before it.

    The blow-up after the minimum (up to `divergence_threshold` times the best) would
    flatten the part that matters; it is clipped at the top of the plot.

    Example:

    >>> loss_range([2.0, 2.2, 1.0, 9.0])
    (1.0, 2.2)
    """
    losses = np.asarray(smoothed_losses, np.float64)
    finite = np.where(np.isfinite(losses), losses, np.inf)
    lowest = int(np.argmin(finite))
    low = float(finite[lowest])
    before = losses[: lowest + 1]
    high = float(np.max(before[np.isfinite(before)]))
    if not high > low:
        high = low + 1.0
    return low, high


def plot_lr_finder(result, path=None):
    """Draws an `LRFinderResult`: raw and smoothed loss against the rate (log scale).

    The valley suggestion (the recommended rate) is a red dot with a red line, the
    steepest-descent one an orange dot; their values are written at the top.

    Args:
        result: An `LRFinderResult` (what `find_lr` returns).
        path: Optional path. Also write the PNG there. Defaults to `None`.

    Returns:
        A `Figure` whose `data` holds `learning_rates`, `losses`, `smoothed_losses`,
        `suggestion_valley`, `suggestion_steepest`, `loss_range` and `markers`
        (`{"valley": (x, y), "steepest": (x, y)}`, the markers' centres in pixels).
    """
    rates = np.asarray(result.learning_rates, np.float64)
    if rates.size < 2 or not np.all(rates > 0):
        raise ValueError(
            "LRFinderResult.plot: the result must hold at least 2 positive learning rates. "
            f"Received: learning_rates={list(result.learning_rates)[:5]!r}. Run `find_lr` "
            "with num_steps >= 2."
        )
    smoothed = np.asarray(result.smoothed_losses, np.float64)
    raw = np.asarray(result.losses, np.float64)
    low, high = loss_range(smoothed)
    margin = 0.05 * (high - low)
    low, high = low - margin, high + margin
    x_low, x_high = math.log10(rates.min()), math.log10(rates.max())
    x_of, y_of = _scales(x_low, x_high, low, high)

    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    font = rendering._font()
    _draw_frame(draw, font, x_of, y_of, (x_low, x_high), (low, high))
    for values, color, width in ((raw, RAW_COLOR, 1), (smoothed, SMOOTHED_COLOR, 2)):
        points = [(x_of(rate), y_of(loss)) for rate, loss in zip(rates, values)]
        draw.line(points, fill=color, width=width)
    markers = _draw_suggestions(draw, font, result, rates, smoothed, x_of, y_of)

    data = {
        "learning_rates": rates.tolist(),
        "losses": raw.tolist(),
        "smoothed_losses": smoothed.tolist(),
        "suggestion_valley": float(result.suggestion_valley),
        "suggestion_steepest": float(result.suggestion_steepest),
        "loss_range": (low, high),
        "markers": markers,
    }
    image = np.asarray(canvas, np.float32) / 255.0
    return finish(image, data, "learning-rate range test", path)


def _scales(x_low, x_high, low, high):
    """(x_of, y_of): a rate to its pixel column (log scale), a loss to its pixel row.

    A loss above the range, or not finite, is drawn at the top of the plot.
    """
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_of(rate):
        return LEFT + (math.log10(rate) - x_low) / (x_high - x_low) * (right - LEFT)

    def y_of(loss):
        if not math.isfinite(loss):
            return TOP
        return min(max(bottom - (loss - low) / (high - low) * (bottom - TOP), TOP), bottom)

    return x_of, y_of


def _draw_frame(draw, font, x_of, y_of, x_range, y_range):
    """The plot area's box, a tick per decade of rate, five loss ticks and the axis titles."""
    (x_low, x_high), (low, high) = x_range, y_range
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    draw.rectangle((LEFT, TOP, right, bottom), outline=(120, 120, 120))
    for decade in range(math.ceil(x_low), math.floor(x_high) + 1):
        x = x_of(10.0**decade)
        draw.line((x, bottom, x, bottom + 4), fill="black")
        draw.text((x - 14, bottom + 6), f"1e{decade:+03d}", fill="black", font=font)
    for fraction in np.linspace(0.0, 1.0, 5):
        loss = low + fraction * (high - low)
        y = y_of(loss)
        draw.line((LEFT - 4, y, LEFT, y), fill="black")
        draw.text((4, y - 6), f"{loss:.3g}", fill="black", font=font)
    draw.text((LEFT + (right - LEFT) // 2 - 50, HEIGHT - 16), "learning rate (log)", fill="black",
              font=font)
    draw.text((4, 4), "loss (gray: per batch, blue: smoothed)", fill="black", font=font)


def _draw_suggestions(draw, font, result, rates, smoothed, x_of, y_of):
    """Marks both suggestions (and a divergence note); returns their centres in pixels."""
    bottom = HEIGHT - BOTTOM
    markers = {}
    suggestions = (
        ("steepest", result.suggestion_steepest, STEEPEST_COLOR),
        ("valley", result.suggestion_valley, VALLEY_COLOR),
    )
    for name, rate, color in suggestions:
        index = int(np.argmin(np.abs(np.log(rates) - math.log(rate))))
        x, y = round(x_of(rates[index])), round(y_of(smoothed[index]))
        if name == "valley":
            draw.line((x, TOP, x, bottom), fill=color, width=1)
        draw.ellipse(
            (x - MARKER_RADIUS, y - MARKER_RADIUS, x + MARKER_RADIUS, y + MARKER_RADIUS),
            fill=color,
        )
        markers[name] = (x, y)
    draw.text((WIDTH - 250, 4), f"valley {result.suggestion_valley:.3g}", fill=VALLEY_COLOR,
              font=font)
    draw.text((WIDTH - 130, 4), f"steepest {result.suggestion_steepest:.3g}",
              fill=STEEPEST_COLOR, font=font)
    if result.diverged or not result.reliable:
        note = "diverged" if result.reliable else "unreliable: too few points"
        draw.text((LEFT + 6, TOP + 4), note, fill="black", font=font)
    return markers


late_bound.register(f"{__name__}.plot_lr_finder", plot_lr_finder)
