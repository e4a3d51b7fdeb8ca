"""ReduceLROnPlateau against Keras' own on scripted logs: float32 ties, `.best`, NaN/inf.

Issue 18 item 7: "same decisions as Keras" failed when an improvement equalled `min_delta`
exactly (Keras compares in float32), there was no `.best`, and a NaN or inf first value was
handled differently.
"""

import math

import keras
import numpy as np
import pytest

from keras_accuracy_kit._core.monitor import improves_as_keras
from keras_accuracy_kit.callbacks import ReduceLROnPlateau
from tests.callbacks.scripted import tiny_model


def _trace(callback, values, monitor="val_loss", model=None):
    """Learning rate and `best` after each epoch of scripted `values`.

    `model`: one to reuse (its learning rate is set back to 0.1 first), else a new one.
    """
    if model is None:
        model = tiny_model(learning_rate=0.1)
    else:
        model.optimizer.learning_rate = 0.1
    callback.set_model(model)
    callback.on_train_begin()
    trace = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
        best = None if callback.best is None else float(callback.best)
        trace.append((float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), best))
    return trace


def _same(ours, theirs):
    for (our_lr, our_best), (their_lr, their_best) in zip(ours, theirs):
        assert our_lr == their_lr
        assert (our_best is None) == (their_best is None)
        if our_best is not None:
            assert our_best == their_best or (math.isnan(our_best) and math.isnan(their_best))


def _float64_decisions(values, mode, min_delta):
    """How the kit used to decide (float64, NaN skipped): to show the table has ties."""
    best, decisions = None, []
    for value in values:
        if best is None:
            better = not math.isnan(value)
        elif mode == "min":
            better = value < best - min_delta
        else:
            better = value > best + min_delta
        decisions.append(better)
        best = value if better else best
    return decisions


def _keras_decisions(values, mode, min_delta):
    best, decisions = None, []
    for value in values:
        better = improves_as_keras(value, best, mode, min_delta)
        decisions.append(better)
        best = value if better else best
    return decisions


@pytest.mark.parametrize("mode", ["min", "max"])
def test_random_sequences_with_ties_at_min_delta_decide_as_keras(mode):
    rng = np.random.default_rng(18)
    monitor = "val_loss" if mode == "min" else "val_accuracy"
    # Two models for the 400 traces (a float rate: nothing but the rate carries over).
    our_model, their_model = tiny_model(), tiny_model()
    differing = 0
    for _ in range(200):
        # Values on a 0.1 grid with min_delta=0.1: many improvements of exactly min_delta.
        values = [round(0.1 * float(k), 10) for k in rng.integers(1, 10, size=12)]
        arguments = dict(monitor=monitor, mode=mode, factor=0.5, patience=1, min_delta=0.1)
        ours = _trace(ReduceLROnPlateau(**arguments), values, monitor, our_model)
        theirs = _trace(
            keras.callbacks.ReduceLROnPlateau(**arguments), values, monitor, their_model
        )
        assert ours[0][0] == theirs[0][0] == np.float32(0.1)  # each trace starts afresh
        _same(ours, theirs)
        differing += _float64_decisions(values, mode, 0.1) != _keras_decisions(values, mode, 0.1)
    # The sequences must contain ties that float64 decides otherwise, or this proves nothing.
    assert differing >= 10, differing


@pytest.mark.parametrize(
    "values, mode",
    [
        ([math.nan, 0.5, 0.4, 0.4, 0.3, 0.3, 0.3], "min"),
        ([math.inf, 0.5, 0.5, 0.4, 0.4, 0.4], "min"),
        ([-math.inf, 0.5, 0.4, 0.3, 0.3], "min"),
        ([math.nan, 0.5, 0.6, 0.6, 0.6], "max"),
        ([-math.inf, 0.5, 0.5, 0.5, 0.6], "max"),
        ([0.5, math.nan, 0.4, math.inf, 0.4, 0.4], "min"),
        ([0.5, 0.4, 3e38, 0.4, 0.3, 0.3], "min"),
    ],
)
def test_non_finite_values_decide_as_keras(values, mode):
    monitor = "val_loss" if mode == "min" else "val_accuracy"
    arguments = dict(monitor=monitor, mode=mode, factor=0.5, patience=1)
    ours = _trace(ReduceLROnPlateau(**arguments), values, monitor)
    theirs = _trace(keras.callbacks.ReduceLROnPlateau(**arguments), values, monitor)
    _same(ours, theirs)


def test_best_is_none_before_training_and_reset_by_a_new_fit():
    callback = ReduceLROnPlateau(monitor="val_loss", patience=2)
    assert callback.best is None
    _trace(callback, [0.5, 0.4])
    assert callback.best == 0.4
    callback.on_train_begin()
    assert callback.best is None  # as Keras' `_reset`


def test_best_survives_a_resumed_run(tmp_path):
    first = ReduceLROnPlateau(monitor="val_loss", patience=2, backup_dir=str(tmp_path))
    _trace(first, [0.5, 0.4, math.nan])
    state = first.state_dict()
    second = ReduceLROnPlateau(monitor="val_loss", patience=2)
    second.set_model(tiny_model())
    second.load_state_dict(state)
    assert second.best == 0.4 and second.wait == 1
