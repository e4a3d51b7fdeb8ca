"""ReduceLROnPlateau: parity with Keras on a float rate, schedules Keras cannot reduce."""

import json

import keras
import numpy as np
import pytest

from keras_accuracy_kit.callbacks import ReduceLROnPlateau, ScaledSchedule
from tests.callbacks.scripted import run_scripted, tiny_model

LOSSES = [1.0, 0.9, 0.9, 0.9, 0.95, 0.85, 0.85, 0.85, 0.85, 0.84995, 0.85, 0.7, 0.7, 0.7, 0.7]
ACCURACIES = [0.1, 0.2, 0.2, 0.19, 0.3, 0.3, 0.3, 0.3, 0.3, 0.31, 0.31, 0.31]

PARITY_TABLE = [
    ("val_loss", LOSSES, {"factor": 0.5, "patience": 2}),
    ("val_loss", LOSSES, {"factor": 0.1, "patience": 1, "cooldown": 2}),
    ("val_loss", LOSSES, {"factor": 0.5, "patience": 1, "min_lr": 0.02}),
    ("val_loss", LOSSES, {"factor": 0.5, "patience": 0}),
    ("val_loss", LOSSES, {"factor": 0.5, "patience": 1, "min_delta": 0.06}),
    ("val_accuracy", ACCURACIES, {"factor": 0.2, "patience": 2, "mode": "auto"}),
    ("val_accuracy", ACCURACIES, {"factor": 0.2, "patience": 1, "mode": "max", "cooldown": 1}),
    ("val_loss", LOSSES, {"factor": 0.3, "patience": 2, "mode": "min", "min_delta": 0}),
]


def accuracy_model():
    """A model whose compiled accuracy metric is built, so Keras can resolve mode='auto'."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(np.zeros((2, 2)), np.zeros((2,)), verbose=0)
    model.optimizer.learning_rate = 0.1
    return model


@pytest.mark.parametrize("monitor,values,arguments", PARITY_TABLE)
def test_same_reductions_as_keras_on_a_float_learning_rate(monitor, values, arguments):
    ours = run_scripted(
        ReduceLROnPlateau(monitor=monitor, **arguments), values, monitor, accuracy_model()
    )
    theirs = run_scripted(
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, **arguments),
        values,
        monitor,
        accuracy_model(),
    )
    assert ours["learning_rates"] == theirs["learning_rates"]
    assert [logs["learning_rate"] for logs in ours["logs"]] == [
        logs["learning_rate"] for logs in theirs["logs"]
    ]
    # The table must exercise reductions, or the parity says nothing.
    assert len(set(ours["learning_rates"])) > 1


def cosine_model(initial=0.1):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.CosineDecay(initial, decay_steps=1000)
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    return model


def test_keras_cannot_reduce_a_cosine_schedule_but_the_kit_can():
    values = [1.0, 1.0, 1.0, 1.0, 1.0]
    with pytest.raises(TypeError):
        run_scripted(
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5),
            values,
            "val_loss",
            model=cosine_model(),
        )
    model = cosine_model()
    run = run_scripted(
        ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5), values, "val_loss", model
    )
    # No step was taken, so cosine(0) = 0.1; one reduction per non-improving epoch.
    np.testing.assert_allclose(run["learning_rates"], [0.1, 0.05, 0.025, 0.0125, 0.00625])
    np.testing.assert_allclose(
        [logs["learning_rate_scale"] for logs in run["logs"]], [1, 1, 0.5, 0.25, 0.125]
    )
    assert isinstance(model.optimizer._learning_rate, ScaledSchedule)


def test_reduced_schedule_keeps_its_shape_during_fit_and_is_saved(tmp_path):
    model = cosine_model(initial=0.1)
    x, y = np.ones((32, 2), "float32"), np.zeros((32, 1), "float32")
    callback = ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=1e9)
    history = model.fit(x, y, batch_size=8, epochs=4, callbacks=[callback], verbose=0)
    # Epoch e ran with cosine(4 e) * 0.5 ** (e - 1) after the first improvement.
    cosine = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=1000)
    expected = [float(cosine(4 * (epoch + 1))) * 0.5 ** max(epoch - 1, 0) for epoch in range(4)]
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-5)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    schedule = loaded.optimizer._learning_rate
    assert isinstance(schedule, ScaledSchedule)
    assert float(schedule.scale.numpy()) == pytest.approx(0.5**3)


def test_the_traced_training_step_reads_the_scale():
    model = cosine_model(initial=0.5)
    x, y = np.ones((16, 2), "float32"), np.ones((16, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ReduceLROnPlateau(monitor="loss")])
    schedule = model.optimizer._learning_rate
    schedule.scale.assign(0.0)
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    schedule.scale.assign(1.0)
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before[0], model.get_weights()[0])


@pytest.mark.parametrize("learning_rate", ["float", "schedule"])
def test_state_dict_round_trip_restores_the_reduction(learning_rate):
    values = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    make_model = tiny_model if learning_rate == "float" else cosine_model
    arguments = {"monitor": "val_loss", "patience": 1, "factor": 0.5, "cooldown": 1}
    reference = run_scripted(ReduceLROnPlateau(**arguments), values, "val_loss", make_model())

    first = ReduceLROnPlateau(**arguments)
    run_scripted(first, values[:3], "val_loss", make_model())
    state = json.loads(json.dumps(first.state_dict()))
    model = make_model()
    second = ReduceLROnPlateau(**arguments)
    second.set_model(model)
    second.on_train_begin()
    second.load_state_dict(state)
    rates = []
    for epoch in range(3, len(values)):
        second.on_epoch_end(epoch, {"val_loss": values[epoch]})
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    np.testing.assert_allclose(rates, reference["learning_rates"][3:], rtol=1e-6)


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"factor": 1.0}, r"`factor` must be a number in \(0, 1\)\. Received: factor=1\.0"),
        ({"factor": 0}, r"`factor` must be a number in \(0, 1\)\. Received: factor=0"),
        ({"patience": -1}, r"`patience` must be a non-negative integer\. Received: patience=-1"),
        ({"cooldown": 1.5}, r"`cooldown` must be a non-negative integer\. Received: cooldown=1.5"),
        ({"mode": "down"}, r"`mode` must be one of \['auto', 'min', 'max'\]"),
        ({"min_lr": -1e-3}, r"`min_lr` must be a finite non-negative number"),
        # D10: a NaN floor was accepted and never let the rate fall.
        ({"min_lr": float("nan")}, r"`min_lr` must be a finite non-negative number\. "
         r"Received: min_lr=nan"),
        ({"min_lr": float("inf")}, r"`min_lr` must be a finite .*Received: min_lr=inf"),
        ({"min_lr": True}, r"`min_lr` must be a finite .*Received: min_lr=True"),
        ({"verbose": "loud"}, r"`verbose` must be 0 \(silent\) or 1"),
    ],
)
def test_bad_arguments_are_rejected(arguments, message):
    with pytest.raises(ValueError, match=rf"ReduceLROnPlateau: {message}"):
        ReduceLROnPlateau(**arguments)


def test_missing_monitor_lists_available_names():
    with pytest.raises(
        ValueError, match=r"monitor='val_loss'; available: \['learning_rate', 'loss'\]"
    ):
        callback = ReduceLROnPlateau()
        callback.set_model(tiny_model())
        callback.on_train_begin()
        callback.on_epoch_end(0, {"loss": 1.0})


def test_schedule_inside_a_loss_scale_optimizer_is_reduced():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=1000)
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(schedule))
    model.compile(optimizer=optimizer, loss="mse")
    run = run_scripted(
        ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5),
        [1.0, 1.0, 1.0],
        "val_loss",
        model,
    )
    np.testing.assert_allclose(run["learning_rates"], [0.1, 0.05, 0.025])


def test_a_callable_learning_rate_is_reduced_like_a_float_one():
    # D9: `Adam(learning_rate=lambda: 0.01)` crashed at the first cut ("'function' object
    # has no attribute 'assign'"). Keras itself reduces only a float rate: compare with it.
    def model_with(learning_rate):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
        return model

    arguments = {"monitor": "val_loss", "factor": 0.5, "patience": 1, "min_lr": 0.002}
    ours = run_scripted(ReduceLROnPlateau(**arguments), LOSSES, "val_loss", model_with(named_rate))
    theirs = run_scripted(
        keras.callbacks.ReduceLROnPlateau(**arguments), LOSSES, "val_loss", model_with(0.01)
    )
    np.testing.assert_allclose(ours["learning_rates"], theirs["learning_rates"], rtol=1e-6)
    assert len(set(theirs["learning_rates"])) > 2
    assert ours["logs"][-1]["learning_rate_scale"] == pytest.approx(0.2)  # min_lr / 0.01


def test_a_lambda_learning_rate_is_reduced_during_fit():
    # D9, wired through fit: the traced step reads the scaled callable.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lambda: 0.01), loss="mse")

    class Flat(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = 1.0

    x = np.random.default_rng(0).random((32, 2)).astype("float32")
    history = model.fit(
        x, x[:, :1], epochs=4, verbose=0,
        callbacks=[Flat(), ReduceLROnPlateau(factor=0.5, patience=1)],
    )  # fmt: skip
    np.testing.assert_allclose(history.history["learning_rate"], [0.01, 0.01, 0.005, 0.0025])
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(
        0.00125
    )


def named_rate():
    return 0.01


def test_a_mode_that_contradicts_the_monitor_warns():
    # D13 (the same check as ProgressiveEpochs'): mode="max" on a loss.
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau: `mode` contradicts `monitor`"):
        ReduceLROnPlateau(monitor="val_loss", mode="max")


def test_auto_mode_decided_at_the_first_epoch_end_once_metrics_are_built():
    # At train begin the compiled metrics are not built: "auto" cannot read the direction
    # MeanAbsoluteError declares ("down") under a name that says nothing. It is read at the
    # first epoch end: a minimised metric, reduced when it rises, as Keras' decides.
    def model_with_unbuilt_metric():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss="mse",
            metrics=[keras.metrics.MeanAbsoluteError(name="deviation")],
        )
        return model

    values = [0.5, 0.4, 0.45, 0.3]
    rates = {}
    for name, cls in (("kit", ReduceLROnPlateau), ("keras", keras.callbacks.ReduceLROnPlateau)):
        model = model_with_unbuilt_metric()
        callback = cls(monitor="val_deviation", factor=0.5, patience=1, min_delta=0)
        callback.set_model(model)
        callback.on_train_begin()
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)  # builds them
        model.optimizer.learning_rate = 0.1
        rates[name] = []
        for epoch, value in enumerate(values):
            callback.on_epoch_end(epoch, {"val_deviation": value, "loss": 1.0})
            rates[name].append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    assert rates["kit"] == rates["keras"] == pytest.approx([0.1, 0.1, 0.05, 0.05])


def test_verbose_announces_each_reduction_with_its_epoch(capsys):
    callback = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, verbose=1)
    run_scripted(callback, [1.0, 1.0, 1.0], monitor="val_loss")
    output = capsys.readouterr().out
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05" in output
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.025" in output
    silent = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    run_scripted(silent, [1.0, 1.0, 1.0], monitor="val_loss")
    assert "ReduceLROnPlateau" not in capsys.readouterr().out


def test_a_float_rate_state_leaves_a_schedule_alone():
    # A state saved with a float rate, resumed on a model with a cosine schedule: the
    # counters and best come back, the schedule stays (scaled, not replaced by a float).
    first = ReduceLROnPlateau(monitor="val_loss", patience=2, factor=0.5)
    run_scripted(first, [1.0, 1.0], "val_loss", tiny_model())
    state = json.loads(json.dumps(first.state_dict()))
    assert "learning_rate" in state and "learning_rate_scale" not in state
    model = cosine_model()
    second = ReduceLROnPlateau(monitor="val_loss", patience=2, factor=0.5)
    second.set_model(model)
    second.on_train_begin()
    second.load_state_dict(state)
    assert isinstance(model.optimizer._learning_rate, ScaledSchedule)
    assert (second.wait, second.best) == (1, 1.0)
