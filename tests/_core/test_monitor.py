"""Mode and monitor checks shared by the callbacks."""

import warnings

import numpy as np
import pytest

from keras_accuracy_kit._core import checks, monitor


@pytest.mark.parametrize(
    "name, mode, warns",
    [
        ("val_loss", "max", True),  # D13: the worst epoch would count as the best
        ("loss", "max", True),
        ("val_mean_squared_error", "max", True),
        ("val_accuracy", "min", True),
        ("val_sparse_categorical_accuracy", "min", True),
        ("val_loss", "min", False),
        ("val_accuracy", "max", False),
        ("val_loss", "auto", False),
        ("learning_rate", "max", False),  # the name says nothing: no opinion
    ],
)
def test_a_mode_that_contradicts_the_monitor_name_warns(name, mode, warns):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.warn_if_mode_contradicts("Demo", name, mode)
    messages = [str(w.message) for w in caught]
    if warns:
        assert len(messages) == 1 and f"mode={mode!r} with monitor={name!r}" in messages[0]
        assert f"Pass mode={'min' if mode == 'max' else 'max'!r}" in messages[0]
    else:
        assert messages == []


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_accepts_booleans(value):
    assert checks.check_bool("Demo", "flag", value) is bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.array([True, False]), 1.0])
def test_check_bool_names_the_argument(value):
    with pytest.raises(TypeError, match=r"Demo: `flag` must be True or False\. Received: flag="):
        checks.check_bool("Demo", "flag", value)


# -- MonitoredBest: the helper ProgressiveEpochs, ReduceLROnPlateau, CheckpointOnChange use --


class _Metric:
    def __init__(self, name, direction):
        self.name, self._direction = name, direction


class _Model:
    def __init__(self, metrics):
        self.metrics = metrics


def test_monitored_best_resolves_a_silent_name_at_the_first_epoch_from_the_built_metrics():
    tracked = monitor.MonitoredBest("Demo", "val_custom", "auto", min_delta=0.1)
    model = _Model([])  # metrics are not built before the first epoch
    tracked.on_train_begin(model)
    assert tracked.mode is None and tracked.best is None
    model.metrics.append(_Metric("custom", "up"))
    assert tracked.read({"val_custom": 0.5}) == 0.5
    assert tracked.mode == "max"
    # min_delta 0.1: 0.55 does not improve on 0.5, 0.65 does.
    assert [tracked.update(v) for v in (0.5, 0.55, 0.65)] == [True, False, True]
    tracked.on_train_begin(model)  # a new fit forgets the best
    assert tracked.best.value == -np.inf


def test_monitored_best_refuses_what_it_cannot_resolve_and_missing_keys():
    tracked = monitor.MonitoredBest("Demo", "val_custom", "auto")
    tracked.on_train_begin(None)
    missing = r"Demo: `monitor` must name a value.*available: \['loss'\]"
    with pytest.raises(ValueError, match=missing):
        tracked.read({"loss": 1.0})
    silent = r"Demo: `mode` must be 'min' or 'max' for monitor='val_custom'"
    with pytest.raises(ValueError, match=silent):
        tracked.read({"val_custom": 1.0})
    with pytest.raises(ValueError, match=r"Demo: `mode` must be one of"):
        monitor.MonitoredBest("Demo", "val_loss", "up")
    with pytest.raises(ValueError, match=r"Demo: `min_delta` must be a finite number"):
        monitor.MonitoredBest("Demo", "val_loss", "min", min_delta="x")


def test_a_contradicting_mode_warns_at_the_line_that_builds_the_callback():
    from keras_accuracy_kit.callbacks import ProgressiveEpochs, ReduceLROnPlateau

    for cls in (ProgressiveEpochs, ReduceLROnPlateau):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cls(monitor="val_loss", mode="max")
        assert [w.filename for w in caught] == [__file__], cls
