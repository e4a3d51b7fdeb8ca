"""`print(find_lr(...))` is one line with the suggestions, not the recorded curve."""

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit.callbacks.lr_finder import LRFinderResult, find_lr


def test_lr_finder_result_repr_shows_suggestions_and_the_range():
    result = LRFinderResult(
        learning_rates=list(np.geomspace(1e-7, 10.0, 100)),
        losses=[1.0] * 100,
        smoothed_losses=[1.0] * 100,
        suggestion_steepest=0.001234,
        suggestion_valley=0.003162,
        diverged=True,
    )
    assert repr(result) == (
        "LRFinderResult(suggestion=0.00316 (valley), steepest=0.00123, 100 steps from "
        "1e-07 to 10, diverged=True, reliable=True)"
    )


def test_print_of_a_real_find_lr_is_one_short_line():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    result = find_lr(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(16), num_steps=12)
    text = str(result)
    assert "\n" not in text and len(text) < 160
    assert text.startswith(f"LRFinderResult(suggestion={result.suggestion:.3g} (valley), ")
    assert f"{len(result.learning_rates)} steps from 1e-07 to" in text
