"""Property tests over the constructor arguments of every public callback (issue 15).

Any value, valid or not, of any argument either gives a clear `ValueError`/`TypeError`
that names a changed argument (`<Owner>: `arg` ...`), at construction or at the first
epoch, or the callback works: driven through a few epochs of scripted logs it raises
nothing and leaves finite numbers behind (learning rate, budget, suggestion). No raw error
escapes.
"""

import contextlib
import math
import os
import re
import tempfile
import warnings

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import keras_accuracy_kit as kit
from tests.callbacks.scripted import tiny_model


def named_function():
    return 0.01


class Opaque:
    """An object with no stable description and no useful behaviour."""


#: Values of every kind: wrong types, edge numbers, containers, callables, arrays.
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet="abcxyz_-.", max_size=6),
    st.binary(max_size=3),
    st.lists(st.integers(min_value=-3, max_value=300), max_size=3),
    st.tuples(st.integers(min_value=-3, max_value=3)),
    st.dictionaries(st.text(alphabet="ab", max_size=2), st.integers(), max_size=2),
    st.sampled_from(
        [
            np.float32(0.5),
            np.float64("nan"),
            np.int64(3),
            np.int32(-1),
            np.bool_(True),
            np.array([1, 2]),
            np.array(0.5),
            Opaque(),
            named_function,
            lambda: 1,
            "auto",
            "min",
            "max",
            "val_loss",
            "val_accuracy",
            "loss",
            "",
            "\0",
            [25, 100],
            [],
            (1e-3, 1.0),
            float("inf"),
            -0.0,
            1e-300,
            10**30,
        ]
    ),
)

#: Per callback: valid defaults for the required arguments and, per argument, values that
#: are plausible for it (drawn alongside ANY so that valid corners are covered too).
PLAUSIBLE = {
    "monitor": st.sampled_from(["val_loss", "val_accuracy", "loss", "score", "val_auc"]),
    "mode": st.sampled_from(["auto", "min", "max"]),
    "factor": st.floats(min_value=0.0, max_value=1.0),
    "patience": st.integers(min_value=-1, max_value=4),
    "cooldown": st.integers(min_value=-1, max_value=3),
    "min_lr": st.floats(min_value=-1.0, max_value=1.0),
    "min_delta": st.floats(min_value=-1.0, max_value=1.0),
    "verbose": st.integers(min_value=-1, max_value=2),
    "initial_epochs": st.integers(min_value=-1, max_value=4),
    "extension": st.one_of(
        st.integers(min_value=-1, max_value=3), st.lists(st.integers(-1, 3), max_size=3)
    ),
    "restore_best_weights": st.booleans(),
    "min_lr_finder": st.floats(min_value=1e-9, max_value=1.0),  # LRFinder's `min_lr`
    "max_lr": st.floats(min_value=1e-6, max_value=1e3),
    "num_steps": st.integers(min_value=0, max_value=8),
    "smoothing": st.floats(min_value=-0.5, max_value=1.5),
    "divergence_threshold": st.floats(min_value=0.0, max_value=10.0),
    "restore": st.booleans(),
    "keep_best": st.integers(min_value=-1, max_value=3),
    "save_last": st.booleans(),
    "hparams": st.dictionaries(st.sampled_from(["a", "b"]), ANY, max_size=2),
    "data_config": st.one_of(st.lists(ANY, max_size=2), st.dictionaries(st.just("x"), ANY)),
    "scale": st.floats(min_value=-1.0, max_value=2.0),
    "num_worst": st.integers(min_value=-1, max_value=3),
    "batch_size": st.integers(min_value=-1, max_value=3),
    "order": st.integers(min_value=-1, max_value=3),
    "change": st.text(max_size=5),
    "class_names": st.lists(st.text(alphabet="ab", max_size=2), max_size=3),
    "validation_data": st.sampled_from(
        [
            None,
            (np.zeros((4, 2), "float32"), np.zeros(4)),
            (np.zeros((4, 2), "float32"), np.zeros(3)),
            (np.zeros((0, 2), "float32"), np.zeros(0)),
            (1e-3, 1.0),
            ([1, 2], [3]),
        ]
    ),
    # Paths: relative names only (the test runs in a fresh temporary directory).
    "path": st.text(alphabet="abc_-.", min_size=0, max_size=5).filter(
        lambda name: ".." not in name
    ),
}


def strategy_for(argument, plausible_only=False):
    key = {"backup_dir": "path", "logdir": "path", "directory": "path"}.get(argument, argument)
    plausible = PLAUSIBLE.get(key)
    if plausible is None:
        return ANY
    # Plausible values twice as often as arbitrary ones, so the "works" branch is well
    # covered too.
    return plausible if plausible_only else st.one_of(plausible, plausible, ANY)


def arguments_for(names, required=()):
    """Either one argument changed to any value, or several to plausible values at once.

    `required` arguments always get a value (plausible, or any when it is the one changed).
    """
    single = st.sampled_from(sorted(set(names) | set(required))).flatmap(
        lambda changed: st.fixed_dictionaries(
            {
                name: strategy_for(name, plausible_only=name != changed)
                for name in {changed, *required}
            }
        )
    )
    several = st.fixed_dictionaries(
        {name: strategy_for(name, plausible_only=True) for name in required},
        optional={
            name: strategy_for(name, plausible_only=True)
            for name in names
            if name not in required
        },
    )
    return st.one_of(single, several)


@contextlib.contextmanager
def in_fresh_directory():
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)
        try:
            yield directory
        finally:
            os.chdir(previous)


def check_clear_error(error, owner, changed):
    """The error is a ValueError/TypeError of `owner` naming one of the changed arguments."""
    message = str(error)
    assert isinstance(error, (ValueError, TypeError)), f"raw {type(error).__name__}: {message}"
    assert message.startswith(f"{owner}:"), message
    named = [
        arg for arg in changed if re.search(rf"`{re.escape(arg)}\b|\b{re.escape(arg)}=", message)
    ]
    assert named, f"names none of {sorted(changed)}: {message}"
    event(f"refused: {named[0]}")


#: `KAK_PROPERTY_EXAMPLES=2000` searches longer, with fresh random examples each run.
_EXAMPLES = int(os.environ.get("KAK_PROPERTY_EXAMPLES", "0"))
PROPERTY_SETTINGS = settings(
    max_examples=_EXAMPLES or 80,
    deadline=None,
    derandomize=not _EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def run_epochs(callback, model, monitor, values):
    callback.set_model(model)
    callback.set_params({"epochs": len(values), "steps": 1, "verbose": 0})
    callback.on_train_begin()
    logs_seen = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        logs = {"loss": 1.0, "val_loss": value, "val_accuracy": 1 - value, "score": value}
        if isinstance(monitor, str):
            logs.setdefault(monitor, value)
        callback.on_epoch_end(epoch, logs)
        logs_seen.append(logs)
        if model.stop_training:
            break
    callback.on_train_end()
    return logs_seen


VALUES = [0.9, 0.8, 0.8, 0.85, 0.8, 0.7, 0.7, 0.7]

# -- ReduceLROnPlateau --------------------------------------------------------------------

RLROP = ["monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown",
         "min_lr", "backup_dir"]  # fmt: skip


@PROPERTY_SETTINGS
@given(arguments=arguments_for(RLROP))
def test_reduce_lr_on_plateau_arguments(arguments):
    with in_fresh_directory(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            callback = kit.callbacks.ReduceLROnPlateau(**arguments)
            model = tiny_model(0.1)
            run_epochs(callback, model, arguments.get("monitor", "val_loss"), VALUES)
        except Exception as error:  # noqa: BLE001 - the property is about any error
            check_clear_error(error, "ReduceLROnPlateau", arguments)
            return
    event("worked")
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    # Never below min_lr (unless it started there: then it is left alone, as in Keras).
    assert math.isfinite(rate) and min(callback.min_lr, 0.1) - 1e-7 <= rate <= 0.1 + 1e-7


# -- ProgressiveEpochs --------------------------------------------------------------------

PROGRESSIVE = ["monitor", "initial_epochs", "extension", "mode", "min_delta",
               "restore_best_weights", "backup_dir"]  # fmt: skip


@PROPERTY_SETTINGS
@given(arguments=arguments_for(PROGRESSIVE))
def test_progressive_epochs_arguments(arguments):
    with in_fresh_directory(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            callback = kit.callbacks.ProgressiveEpochs(**arguments)
            logs = run_epochs(
                callback, tiny_model(), arguments.get("monitor", "val_accuracy"), VALUES
            )
        except Exception as error:  # noqa: BLE001
            check_clear_error(error, "ProgressiveEpochs", arguments)
            return
    event("worked")
    budgets = [entry["epoch_budget"] for entry in logs]
    assert all(isinstance(b, int) and b >= callback.initial_epochs for b in budgets)
    assert budgets == sorted(budgets)


# -- LRFinder -----------------------------------------------------------------------------

FINDER = ["min_lr_finder", "max_lr", "num_steps", "smoothing", "divergence_threshold",
          "restore", "logdir"]  # fmt: skip


@PROPERTY_SETTINGS
@given(arguments=arguments_for(FINDER))
def test_lr_finder_arguments(arguments):
    arguments = {("min_lr" if k == "min_lr_finder" else k): v for k, v in arguments.items()}
    with in_fresh_directory(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            finder = kit.callbacks.LRFinder(**arguments)
            model = tiny_model(0.1)
            finder.set_model(model)
            finder.on_train_begin()
            finder.on_epoch_begin(0)
            for step in range(min(finder.num_steps, 12)):
                finder.on_train_batch_begin(step)
                finder.on_train_batch_end(step, {"loss": 1.0 / (step + 1)})
                if model.stop_training:
                    break
            finder.on_train_end()
        except Exception as error:  # noqa: BLE001
            check_clear_error(error, "LRFinder", arguments)
            return
    event("worked")
    result = finder.result
    assert finder.min_lr <= result.suggestion <= finder.max_lr
    assert math.isfinite(result.suggestion_steepest)
    if finder.restore:
        assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(
            0.1
        )


# -- ScaledSchedule -----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    schedule=st.one_of(
        ANY,
        st.sampled_from(
            [
                keras.optimizers.schedules.CosineDecay(0.1, decay_steps=10),
                keras.optimizers.schedules.PiecewiseConstantDecay([2], [0.1, 0.01]),
                named_function,
            ]
        ),
        st.sampled_from(
            [
                keras.optimizers.schedules.CosineDecay(0.1, decay_steps=10),
                keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5),
                named_function,
                lambda: 0.05,
            ]
        ),
    ),
    scale=strategy_for("scale"),
)
def test_scaled_schedule_arguments(schedule, scale):
    try:
        scaled = kit.callbacks.ScaledSchedule(schedule, scale=scale)
        value = float(keras.ops.convert_to_numpy(scaled(3)))
    except Exception as error:  # noqa: BLE001
        check_clear_error(error, "ScaledSchedule", {"schedule": schedule, "scale": scale})
        return
    event("worked")
    assert math.isfinite(value) and value >= 0


# -- CheckpointOnChange -------------------------------------------------------------------

CHECKPOINT = ["monitor", "mode", "hparams", "data_config", "keep_best", "save_last"]


@settings(PROPERTY_SETTINGS, max_examples=_EXAMPLES or 40)
@given(arguments=arguments_for(CHECKPOINT, required=["directory"]))
def test_checkpoint_on_change_arguments(arguments):
    with in_fresh_directory(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            callback = kit.callbacks.CheckpointOnChange(**arguments)
            run_epochs(callback, tiny_model(), arguments.get("monitor", "val_accuracy"), [0.5, 0.4])
        except Exception as error:  # noqa: BLE001
            check_clear_error(error, "CheckpointOnChange", arguments)
            return
        event("worked")
        with kit.History(callback.directory) as history:
            (version,) = history.versions()
            assert version.epochs == 2 and math.isfinite(version.best)
            assert set(version.file_status.values()) == {"ok"}


# -- AccuracyReport -----------------------------------------------------------------------

REPORT = ["hparams", "class_names", "tricks", "change", "order", "monitor", "mode",
          "num_worst", "batch_size", "validation_data"]  # fmt: skip


@settings(PROPERTY_SETTINGS, max_examples=_EXAMPLES or 40)
@given(arguments=arguments_for(REPORT, required=["logdir"]))
def test_accuracy_report_arguments(arguments):
    with in_fresh_directory(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = kit.callbacks.AccuracyReport(**arguments)
            run_epochs(report, tiny_model(), arguments.get("monitor", "val_accuracy"), [0.5, 0.4])
        except Exception as error:  # noqa: BLE001
            check_clear_error(error, "AccuracyReport", arguments)
            return
        event("worked")
        assert os.listdir(report.logdir)
