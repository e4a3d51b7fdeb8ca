"""ProgressiveEpochs: the budget decisions on scripted logs, restoring, resuming, errors."""

import json
import warnings

import keras
import numpy as np
import pytest

from keras_accuracy_kit.callbacks import ProgressiveEpochs
from tests.callbacks.scripted import run_scripted, tiny_model

# (callback arguments, monitored values, budgets after each epoch, stopped epoch, best epoch)
BUDGET_TABLE = [
    # Improves through two stages: 3 -> +2 -> +4 (the last extension repeats), then flat.
    (
        {"initial_epochs": 3, "extension": [2, 4]},
        [0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
        [3, 3, 5, 5, 9, 9, 9, 9, 9],
        8,
        4,
    ),
    # The first value only sets the reference: no later best, no extension.
    ({"initial_epochs": 3, "extension": 5}, [0.5, 0.4, 0.4, 0.9], [3, 3, 3], 2, 0),
    # Gains smaller than min_delta do not count.
    (
        {"initial_epochs": 3, "extension": 5, "min_delta": 0.01},
        [0.5, 0.505, 0.509, 0.9],
        [3, 3, 3],
        2,
        0,
    ),
    # A new best on the last epoch of a stage earns the extension.
    ({"initial_epochs": 3, "extension": 2}, [0.5, 0.4, 0.6, 0.6, 0.6, 0.9], [3, 3, 5, 5, 5], 4, 2),
    # Minimised metric: falls smaller than min_delta do not count either.
    (
        {"monitor": "val_loss", "initial_epochs": 3, "extension": 5, "min_delta": 0.01},
        [0.5, 0.495, 0.491, 0.1],
        [3, 3, 3],
        2,
        0,
    ),
    # Minimised metric.
    (
        {"monitor": "val_loss", "initial_epochs": 2, "extension": 1},
        [1.0, 0.9, 0.95, 0.1],
        [2, 3, 3],
        2,
        1,
    ),
    # NaN never improves.
    ({"initial_epochs": 2, "extension": 3}, [0.5, float("nan"), 0.9], [2, 2], 1, 0),
    # Three improving stages with two extensions: the last one (3) is granted again.
    (
        {"initial_epochs": 2, "extension": [1, 3]},
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6],
        [2, 3, 6, 6, 6, 9, 9, 9, 9],
        8,
        5,
    ),
    # The smallest budgets: one epoch, then one more per improving stage.
    ({"initial_epochs": 1, "extension": 1}, [0.5, 0.6], [1], 0, 0),
]


@pytest.mark.parametrize("arguments,values,budgets,stopped_epoch,best_epoch", BUDGET_TABLE)
def test_budget_decisions(arguments, values, budgets, stopped_epoch, best_epoch):
    callback = ProgressiveEpochs(**arguments)
    monitor = arguments.get("monitor", "val_accuracy")
    run = run_scripted(callback, values, monitor=monitor)
    assert [logs["epoch_budget"] for logs in run["logs"]] == budgets
    assert callback.stopped_epoch == stopped_epoch
    assert callback.best_epoch == best_epoch


def test_restores_the_best_weights_at_the_end():
    model = tiny_model()
    callback = ProgressiveEpochs(initial_epochs=2, extension=2)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate([0.1, 0.9, 0.5, 0.4]):
        model.set_weights([np.full((2, 1), epoch, "float32"), np.full((1,), epoch, "float32")])
        callback.on_epoch_end(epoch, {"val_accuracy": value})
        if model.stop_training:
            break
    callback.on_train_end()
    assert callback.best_epoch == 1
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((2, 1)))


def test_state_dict_round_trip_continues_the_same_decisions():
    values = [0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    arguments = {"initial_epochs": 3, "extension": [2, 4]}
    reference = run_scripted(ProgressiveEpochs(**arguments), values)

    first = ProgressiveEpochs(**arguments)
    run_scripted(first, values[:4])
    state = json.loads(json.dumps(first.state_dict()))  # JSON-able
    second = ProgressiveEpochs(**arguments)
    model = tiny_model()
    second.set_model(model)
    second.on_train_begin()
    second.load_state_dict(state)
    budgets = []
    for epoch in range(4, len(values)):
        logs = {"val_accuracy": values[epoch]}
        second.on_epoch_end(epoch, logs)
        budgets.append(logs["epoch_budget"])
        if model.stop_training:
            break
    assert budgets == [logs["epoch_budget"] for logs in reference["logs"]][4:]
    assert second.stopped_epoch == 8


def test_fit_stops_when_the_budget_is_spent_and_logs_it():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),  # nothing changes: no stage improves
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callback = ProgressiveEpochs(initial_epochs=3, extension=10)
    history = model.fit(x, y, validation_split=0.25, epochs=50, callbacks=[callback], verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["epoch_budget"] == [3, 3, 3]


def test_fit_epochs_is_the_hard_ceiling():
    x = np.zeros((8, 2), "float32")
    model = tiny_model()
    callback = ProgressiveEpochs(monitor="loss", initial_epochs=100)
    history = model.fit(x, np.zeros((8, 1)), epochs=2, callbacks=[callback], verbose=0)
    assert len(history.history["loss"]) == 2


def test_missing_monitor_lists_available_names_and_explains_val():
    callback = ProgressiveEpochs(monitor="val_accuracy")
    with pytest.raises(
        ValueError,
        match=r"ProgressiveEpochs: `monitor` must name a value in the epoch logs\. Received: "
        r"monitor='val_accuracy'; available: \['accuracy', 'loss'\]\. `val_\*` metrics exist "
        r"only when `fit` gets `validation_data`",
    ):
        callback.set_model(tiny_model())
        callback.on_train_begin()
        callback.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})


def test_missing_monitor_fails_in_the_first_epoch_of_fit():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"available: \['loss'\]"):
        model.fit(
            np.zeros((8, 2)),
            np.zeros((8, 1)),
            epochs=40,
            callbacks=[ProgressiveEpochs(monitor="val_accuracy")],
            verbose=0,
        )


@pytest.mark.parametrize(
    "arguments,message",
    [
        (
            {"initial_epochs": 0},
            r"`initial_epochs` must be a positive integer\. Received: initial_epochs=0",
        ),
        ({"extension": []}, r"`extension` must be a positive integer or a non-empty list"),
        ({"extension": [25, -1]}, r"`extension` must .*Received: extension=\[25, -1\]"),
        ({"extension": 0}, r"`extension` must .*Received: extension=0\."),
        ({"mode": "up"}, r"`mode` must be one of \['auto', 'min', 'max'\]\. Received: mode='up'"),
        (
            {"min_delta": "small"},
            r"`min_delta` must be a finite number\. Received: min_delta='small'",
        ),
        ({"monitor": ""}, r"`monitor` must be a log key"),
    ],
)
def test_bad_arguments_are_rejected(arguments, message):
    with pytest.raises(ValueError, match=rf"ProgressiveEpochs: {message}"):
        ProgressiveEpochs(**arguments)


def test_auto_mode_that_cannot_be_resolved_asks_for_min_or_max():
    callback = ProgressiveEpochs(monitor="val_custom_score")
    callback.set_model(tiny_model())
    callback.on_train_begin()
    with pytest.raises(
        ValueError, match=r"`mode` must be 'min' or 'max' for monitor='val_custom_score'"
    ):
        callback.on_epoch_end(0, {"val_custom_score": 1.0})


@pytest.mark.parametrize(
    "monitor, mode, warns",
    [("val_loss", "max", True), ("val_accuracy", "min", True), ("val_loss", "min", False)],
)
def test_a_mode_that_contradicts_the_monitor_warns(monitor, mode, warns):
    # D13: mode="max" on "val_loss" restored the weights of the worst epoch, silently.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ProgressiveEpochs(monitor=monitor, mode=mode)
    messages = [str(w.message) for w in caught if "ProgressiveEpochs" in str(w.message)]
    assert len(messages) == int(warns)
    if warns:
        assert f"mode={mode!r} with monitor={monitor!r}" in messages[0]
        kind = "a loss or error, which goes down" if mode == "max" else "a score, which goes up"
        assert f"{kind} as training improves" in messages[0]
        assert caught[0].filename == __file__  # points at the caller's line


@pytest.mark.parametrize("value", [1, "yes", None, np.array([True, False])])
def test_restore_best_weights_must_be_a_bool(value):
    with pytest.raises(TypeError, match=r"ProgressiveEpochs: `restore_best_weights` must be "
                       r"True or False"):  # fmt: skip
        ProgressiveEpochs(restore_best_weights=value)


def test_no_best_at_all_restores_nothing_and_raises_nothing():
    model = tiny_model()
    weights = [np.full((2, 1), 3.0, "float32"), np.full((1,), 3.0, "float32")]
    model.set_weights(weights)
    callback = ProgressiveEpochs(initial_epochs=2, extension=2)
    run = run_scripted(callback, [float("nan")] * 4, model=model)
    assert run["epochs"] == 2 and callback.best_epoch is None
    for got, expected in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, expected)


def test_a_state_loaded_before_any_training_continues_the_decisions():
    # Resuming into a fresh callback (no `on_train_begin` yet): the state's mode and best.
    values = [1.0, 0.9, 0.8, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    arguments = {"monitor": "val_loss", "initial_epochs": 3, "extension": [2, 4]}
    reference = run_scripted(ProgressiveEpochs(**arguments), values, monitor="val_loss")
    first = ProgressiveEpochs(**arguments)
    run_scripted(first, values[:4], monitor="val_loss")
    second = ProgressiveEpochs(**arguments)
    second.set_model(tiny_model())
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    budgets = []
    for epoch in range(4, len(values)):
        logs = {"val_loss": values[epoch]}
        second.on_epoch_end(epoch, logs)
        budgets.append(logs["epoch_budget"])
        if second.model.stop_training:
            break
    assert budgets == [logs["epoch_budget"] for logs in reference["logs"]][4:]
    assert (second.best_epoch, second.stopped_epoch) == (4, reference["epochs"] - 1)


def test_the_loaded_state_decides_the_direction():
    # The state was saved by a run that minimised; this callback resolved "max" at train
    # begin (monitor "val_accuracy"): the state's mode wins, so 0.45 < 0.5 is a new best.
    callback = ProgressiveEpochs(initial_epochs=3, extension=2)
    callback.set_model(tiny_model())
    callback.on_train_begin()
    state = {"budget": 3, "stage": 0, "stage_improved": False, "best": 0.5, "mode": "min",
             "best_epoch": 0, "stopped_epoch": None}  # fmt: skip
    callback.load_state_dict(state)
    callback.on_epoch_end(1, {"val_accuracy": 0.45})
    assert callback.best_epoch == 1 and callback.stage_improved


@pytest.mark.parametrize("monitor, mode", [("val_deviation", "min"), ("val_separation", "max")])
def test_auto_mode_follows_the_direction_a_compiled_metric_declares(monitor, mode):
    # Names that say nothing; Keras' metrics declare "down" (MAE) and "up" (AUC). The
    # mode is resolved at train begin, the metrics being built by a first fit.
    rng = np.random.default_rng(0)
    x = rng.random((32, 2)).astype("float32")
    y = (x[:, :1] > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss="binary_crossentropy",
        metrics=[
            keras.metrics.AUC(name="separation"),
            keras.metrics.MeanAbsoluteError(name="deviation"),
        ],
    )
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    callback = ProgressiveEpochs(monitor=monitor, initial_epochs=3, extension=1)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {monitor: 0.5})
    callback.on_epoch_end(1, {monitor: 0.4})  # a new best only when minimising
    assert callback.best_epoch == (1 if mode == "min" else 0)
