"""find_lr / LRFinder on load_digits: a sensible suggestion, and the model left as it was."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator

import keras_accuracy_kit as kit
from keras_accuracy_kit.callbacks import LRFinder, steepest_suggestion, valley_suggestion


def digits_dataset(batch_size=32):
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return (
        tf.data.Dataset.from_tensor_slices((x, digits.target))
        .shuffle(2000, seed=0)
        .batch(batch_size)
    )


def digits_model(optimizer):
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_suggestion_lies_where_the_loss_falls_and_the_model_is_restored(tmp_path):
    model = digits_model(keras.optimizers.SGD(0.01, momentum=0.9))
    dataset = digits_dataset()
    model.fit(dataset.take(2), verbose=0)  # optimizer state exists and must come back
    weights = model.get_weights()
    optimizer_state = [v.numpy().copy() for v in model.optimizer.variables]

    result = kit.find_lr(model, dataset, min_lr=1e-5, max_lr=10.0, num_steps=80, logdir=tmp_path)

    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    for before, after in zip(optimizer_state, model.optimizer.variables):
        np.testing.assert_array_equal(before, after.numpy())
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)

    lrs, smoothed = np.array(result.learning_rates), np.array(result.smoothed_losses)
    lowest = int(np.argmin(smoothed))
    for suggestion in (result.suggestion_valley, result.suggestion_steepest):
        index = int(np.argmin(np.abs(lrs - suggestion)))
        assert 1e-5 < suggestion < lrs[lowest]
        assert smoothed[index] < smoothed[0]
        # Falling: the loss is lower a little further on.
        assert smoothed[min(index + 5, lowest)] < smoothed[index]
    assert result.suggestion == result.suggestion_valley

    accumulator = event_accumulator.EventAccumulator(str(tmp_path / "lr_find"))
    accumulator.Reload()
    assert {"lr_find/loss", "lr_find/smoothed_loss", "lr_find/learning_rate"} <= set(
        accumulator.Tags()["tensors"]
    )
    # fit can follow directly, with the suggestion.
    model.optimizer.learning_rate = result.suggestion
    history = model.fit(dataset, epochs=3, verbose=0)
    assert history.history["accuracy"][-1] > 0.8


def test_stops_early_when_the_loss_diverges():
    model = digits_model(keras.optimizers.SGD(0.01))
    result = kit.find_lr(model, digits_dataset(), min_lr=1e-3, max_lr=1e4, num_steps=60)
    assert result.diverged
    assert len(result.losses) < 60
    assert all(np.isfinite(model.get_weights()[0]).ravel())


def test_schedule_is_put_back_after_the_test():
    schedule = keras.optimizers.schedules.CosineDecay(0.05, decay_steps=500)
    model = digits_model(keras.optimizers.Adam(schedule))
    kit.find_lr(model, digits_dataset(), num_steps=20, max_lr=1.0)
    assert model.optimizer._learning_rate is schedule
    assert int(model.optimizer.iterations.numpy()) == 0
    model.fit(digits_dataset(), epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 57


def test_callback_records_per_batch_losses_from_running_means():
    model = digits_model(keras.optimizers.SGD(0.0))  # no learning: constant loss per batch
    finder = LRFinder(min_lr=1e-9, max_lr=1e-8, num_steps=10, smoothing=0.0)
    model.fit(digits_dataset().take(10), epochs=1, callbacks=[finder], verbose=0)
    expected = [float(model.evaluate(x, y, verbose=0)[0]) for x, y in digits_dataset().take(10)]
    np.testing.assert_allclose(finder.result.losses, expected, rtol=1e-4)
    np.testing.assert_allclose(
        finder.result.learning_rates, np.geomspace(1e-9, 1e-8, 10), rtol=1e-9
    )


def test_suggestion_functions_on_hand_made_curves():
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert steepest_suggestion(lrs, [2.0, 1.9, 1.0, 0.9, 5.0]) == 1e-3
    # Decreasing run over indices 0..6: s = 6 - 7 = -1, (e - s) / 3 = 2.33 -> -1 + 2 + 1 = 2.
    losses = [3.0, 2.9, 2.5, 2.0, 1.5, 1.0, 0.9, 4.0]
    assert valley_suggestion([1, 2, 3, 4, 5, 6, 7, 8], losses) == 3


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"min_lr": 0}, r"`min_lr` must be a positive finite number"),
        ({"min_lr": 1e-3, "max_lr": 1e-4}, r"`max_lr` must be a finite number larger than "
         r"min_lr=0.001"),
        ({"max_lr": float("inf")}, r"`max_lr` must be a finite number .*Received: max_lr=inf"),
        ({"num_steps": 1}, r"`num_steps` must be an integer of at least 2\. Received: num_steps=1\. "
         r"Pass a whole number of at least 2, e.g. num_steps=100"),
        ({"smoothing": 1.0}, r"`smoothing` must be in \[0, 1\)"),
        ({"divergence_threshold": 1}, r"`divergence_threshold` must be a finite number > 1"),
    ],
)
def test_bad_arguments_are_rejected(arguments, message):
    with pytest.raises(ValueError, match=rf"LRFinder: {message}"):
        LRFinder(**arguments)


def test_find_lr_rejects_empty_datasets_and_uncompiled_models():
    model = digits_model("sgd")
    with pytest.raises(ValueError, match=r"find_lr: `dataset` must not be empty"):
        kit.find_lr(model, digits_dataset().take(0))
    with pytest.raises(ValueError, match=r"find_lr: `dataset` must be a tf.data.Dataset"):
        kit.find_lr(model, np.zeros((4, 64)))
    uncompiled = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"find_lr: `model` must be compiled"):
        kit.find_lr(uncompiled, digits_dataset())


def test_model_is_restored_when_fit_raises_mid_test():
    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 5:
                raise RuntimeError("interrupted")

    model = digits_model(keras.optimizers.SGD(0.01))
    weights = model.get_weights()
    finder = LRFinder(num_steps=20)
    with pytest.raises(RuntimeError, match="interrupted"):  # the fit must really raise
        model.fit(
            digits_dataset().repeat(),
            epochs=1,
            steps_per_epoch=20,
            callbacks=[finder, Boom()],
            verbose=0,
        )
    # A bare callback cannot know: find_lr restores in a finally block.
    assert not np.array_equal(weights[0], model.get_weights()[0])

    model = digits_model(keras.optimizers.SGD(0.01))
    weights = model.get_weights()
    # Five good batches (weights move), then a batch of inf that check_numerics rejects.
    dataset = (
        digits_dataset()
        .enumerate()
        .map(
            lambda i, batch: (
                tf.debugging.check_numerics(batch[0] / tf.cast(i < 5, tf.float32), "x"),
                batch[1],
            )
        )
    )
    with pytest.raises(tf.errors.InvalidArgumentError):
        kit.find_lr(model, dataset, num_steps=20)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_find_lr_on_a_dataset_empty_only_when_it_runs_says_so():
    # D11: `ds.filter(lambda x, y: False)` has an unknown size, passed the check, and
    # find_lr returned None.
    model = digits_model(keras.optimizers.SGD(0.01))
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"find_lr: `dataset` must yield at least one batch"):
        kit.find_lr(model, digits_dataset().filter(lambda x, y: False), num_steps=10)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_a_sweep_that_diverges_at_once_warns_that_the_suggestion_is_unreliable():
    # D12: it suggested a rate from 2 points, silently.
    model = digits_model(keras.optimizers.SGD(0.01))
    with pytest.warns(UserWarning, match=r"LRFinder: the suggestion .* is unreliable: the loss "
                      r"diverged after \d of 100 steps.*Start lower, e\.g\. min_lr="):  # fmt: skip
        result = kit.find_lr(model, digits_dataset(), min_lr=1e3, max_lr=1e9)
    assert result.diverged and not result.reliable and len(result.losses) < 10
    # A healthy sweep is reliable and does not warn.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        healthy = kit.find_lr(digits_model("sgd"), digits_dataset(), num_steps=30)
    assert healthy.reliable


def test_a_loss_that_is_nan_from_the_start_is_called_broken():
    # A NaN in the output layer's bias (NaN inputs are not enough: oneDNN's relu maps NaN
    # to 0 on TensorFlow 2.21, and the loss stays finite).
    model = digits_model(keras.optimizers.SGD(0.01))
    model.layers[-1].bias.assign(np.full(10, np.nan, "float32"))
    with pytest.warns(UserWarning, match=r"not finite from the first step \(loss=nan\): the "
                      r"model or the data are broken"):  # fmt: skip
        result = kit.find_lr(model, digits_dataset(), num_steps=20)
    assert not result.reliable


def test_a_callable_learning_rate_is_swept_and_put_back():
    # D9's sibling: LRFinder set a float on a callable rate.
    model = digits_model(keras.optimizers.SGD(lambda: 0.01))
    result = kit.find_lr(model, digits_dataset(), num_steps=20)
    assert len(result.learning_rates) == 20 and result.learning_rates[-1] == pytest.approx(10)
    assert callable(model.optimizer._learning_rate)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
