"""LRFinderResult.plot: the curve with both suggestions marked where they are, as a PNG."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.callbacks.lr_finder import LRFinderResult
from keras_accuracy_kit.reporting import lr_finder_plot


def scripted_result():
    rates = list(np.geomspace(1e-5, 1.0, 40))
    # Flat, then falling, then exploding: hand-made, so the suggestions are known.
    smoothed = [2.0] * 10 + list(np.linspace(2.0, 0.5, 20)) + list(np.geomspace(0.6, 20.0, 10))
    return LRFinderResult(
        learning_rates=rates,
        losses=[v * 1.1 for v in smoothed],
        smoothed_losses=smoothed,
        suggestion_steepest=rates[12],
        suggestion_valley=rates[20],
        diverged=True,
    )


def test_plot_marks_the_suggestions_at_their_rate_and_loss(tmp_path):
    result = scripted_result()
    figure = result.plot(path=tmp_path / "lr.png")
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "lr.png"))).numpy()
    assert decoded.shape == (lr_finder_plot.HEIGHT, lr_finder_plot.WIDTH, 3)
    low, high = figure.data["loss_range"]
    assert (low, high) == pytest.approx((0.5 - 0.075, 2.0 + 0.075))
    # Where the markers must be, from the axes' definition (log x, linear y).
    left, right = lr_finder_plot.LEFT, lr_finder_plot.WIDTH - lr_finder_plot.RIGHT
    top, bottom = lr_finder_plot.TOP, lr_finder_plot.HEIGHT - lr_finder_plot.BOTTOM
    for name, index, color in (
        ("valley", 20, lr_finder_plot.VALLEY_COLOR),
        ("steepest", 12, lr_finder_plot.STEEPEST_COLOR),
    ):
        fraction = (math.log10(result.learning_rates[index]) + 5) / 5
        y = bottom - (result.smoothed_losses[index] - low) / (high - low) * (bottom - top)
        assert figure.data["markers"][name] == (round(left + fraction * (right - left)), round(y))
        x, y = figure.data["markers"][name]
        assert tuple(decoded[y, x]) == color, name
    assert figure.data["suggestion_valley"] == result.suggestion_valley
    assert figure.data["learning_rates"] == result.learning_rates


def test_plot_of_a_real_find_lr_run():
    x = np.random.default_rng(0).normal(size=(128, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    result = kit.find_lr(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
                         num_steps=30)
    figure = result.plot()
    decoded = tf.io.decode_png(figure.png()).numpy()
    assert decoded.shape == (lr_finder_plot.HEIGHT, lr_finder_plot.WIDTH, 3)
    x_valley, y_valley = figure.data["markers"]["valley"]
    assert tuple(decoded[y_valley, x_valley]) == lr_finder_plot.VALLEY_COLOR
    assert figure.data["smoothed_losses"] == result.smoothed_losses


def test_loss_range_ignores_the_blow_up_after_the_minimum():
    assert lr_finder_plot.loss_range([3.0, 2.0, 1.0, 50.0, float("nan")]) == (1.0, 3.0)
    assert lr_finder_plot.loss_range([1.0, 1.0]) == (1.0, 2.0)


def test_plot_needs_two_positive_rates():
    result = scripted_result()
    result.learning_rates = [0.1]
    with pytest.raises(ValueError, match="at least 2 positive learning rates"):
        result.plot()
