"""Tracking the best value of a monitored metric: mode, `min_delta` and the best so far.

Shared by the kit's callbacks so that "improved" means the same thing everywhere, and the
same as in Keras' own `EarlyStopping`/`ReduceLROnPlateau`.
"""

import math
import warnings

import keras
import numpy as np

MODES = ("auto", "min", "max")
# Substrings of metric names that are maximised when `mode="auto"`.
_MAXIMISED = ("acc", "auc", "precision", "recall", "f1", "iou", "top_k", "r2")


def check_mode(owner, mode):
    """Returns `mode` if it is "auto", "min" or "max", else raises a ValueError."""
    if mode not in MODES:
        raise ValueError(
            f"{owner}: `mode` must be one of {list(MODES)}. Received: mode={mode!r}. "
            "Use 'min' for losses and errors, 'max' for accuracies and scores, or 'auto'."
        )
    return mode


def check_monitor(owner, monitor):
    """Returns `monitor` if it is a non-empty string (a log key), else raises a ValueError."""
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            f"{owner}: `monitor` must be a log key such as 'val_accuracy' or 'val_loss'. "
            f"Received: monitor={monitor!r}."
        )
    return monitor


def check_min_delta(owner, min_delta):
    """Returns `min_delta` as a non-negative float (its sign is ignored, as in Keras)."""
    try:
        value = abs(float(min_delta))
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(
            f"{owner}: `min_delta` must be a finite number. Received: min_delta={min_delta!r}. "
            "Pass the smallest change that counts as an improvement, e.g. 1e-4."
        )
    return value


def mode_from_name(monitor):
    """"min" for losses and errors, "max" for accuracies and scores, None if the name is silent.

    Example:

    >>> mode_from_name("val_loss"), mode_from_name("val_accuracy"), mode_from_name("lr")
    ('min', 'max', None)
    """
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("loss") or "error" in name:
        return "min"
    if any(marker in name for marker in _MAXIMISED):
        return "max"
    return None


def warn_if_mode_contradicts(owner, monitor, mode, stacklevel=3):
    """Warns when `mode` contradicts what the monitor's name says (mode="max" on a loss).

    Such a callback would keep the worst epoch as its best. A warning, not an error: a
    custom metric may be named against its direction on purpose. `stacklevel` 3 points
    at the code that constructs the callback calling this from its `__init__`.
    """
    expected = mode_from_name(monitor) if isinstance(monitor, str) else None
    if mode in ("min", "max") and expected is not None and mode != expected:
        kind = "a loss or error, which goes down" if expected == "min" else "a score, which goes up"
        warnings.warn(
            f"{owner}: `mode` contradicts `monitor`. Received: mode={mode!r} with "
            f"monitor={monitor!r}, {kind} as training improves, so the worst epoch would "
            f"count as the best. Pass mode={expected!r} (or 'auto') unless this metric is "
            "named against its direction on purpose.",
            stacklevel=stacklevel,
        )


def resolve_mode(owner, monitor, mode, model=None):
    """Resolves `mode="auto"` to "min" or "max" for `monitor`.

    Losses and errors are minimised; accuracies, AUC, precision, recall, F1 and IoU are
    maximised. A compiled Keras metric that declares a direction (`_direction`) wins.

    Args:
        owner: String. Name used in error messages.
        monitor: String. The monitored log key, e.g. `"val_accuracy"`.
        mode: One of "auto", "min", "max".
        model: Optional Keras model whose compiled metrics may declare a direction.

    Returns:
        "min" or "max".

    Example:

    >>> resolve_mode("Demo", "val_accuracy", "auto"), resolve_mode("Demo", "loss", "auto")
    ('max', 'min')
    """
    check_mode(owner, mode)
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("loss") or "error" in name:
        return "min"
    for metric in _compiled_metrics(model):
        if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
            return "max" if metric._direction == "up" else "min"
    if any(marker in name for marker in _MAXIMISED):
        return "max"
    raise ValueError(
        f"{owner}: `mode` must be 'min' or 'max' for monitor={monitor!r}: 'auto' cannot "
        f"tell whether it should go up or down. Received: mode={mode!r}. Pass mode='min' "
        "or mode='max'."
    )


def _compiled_metrics(model):
    if model is None:
        return []
    metrics = []
    for metric in getattr(model, "metrics", []) or []:
        metrics.append(metric)
        metrics.extend(getattr(metric, "metrics", []) or [])  # CompileMetrics wrappers
    return metrics


def try_resolve_mode(owner, monitor, mode, model=None):
    """`resolve_mode`, or None when "auto" cannot tell yet (metrics may not be built)."""
    try:
        return resolve_mode(owner, monitor, mode, model)
    except ValueError:
        return None


class BestValue:
    """The best value of a metric so far and whether a new value improves on it.

    A value improves on the best when it is lower than `best - min_delta` ("min") or
    higher than `best + min_delta` ("max"), as in Keras' `ReduceLROnPlateau`. NaN never
    improves.

    Args:
        mode: "min" or "max".
        min_delta: Non-negative float. Defaults to `0.0`.

    Example:

    >>> best = BestValue("max", min_delta=0.01)
    >>> [best.update(v) for v in [0.5, 0.505, 0.52]]
    [True, False, True]
    >>> best.value
    0.52
    """

    def __init__(self, mode, min_delta=0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"BestValue: `mode` must be 'min' or 'max'. Received: mode={mode!r}.")
        self.mode = mode
        self.min_delta = float(min_delta)
        self.value = math.inf if mode == "min" else -math.inf

    def improves(self, current):
        """Whether `current` beats the best by more than `min_delta`."""
        current = float(current)
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.value - self.min_delta
        return current > self.value + self.min_delta

    def update(self, current):
        """Takes `current` as the new best if it improves; returns whether it did."""
        if self.improves(current):
            self.value = float(current)
            return True
        return False

    def reset(self):
        self.value = math.inf if self.mode == "min" else -math.inf


def improves_as_keras(current, best, mode, min_delta=0.0):
    """Keras' `MonitorCallback._is_improvement`, decision for decision.

    Keras shifts the value by `min_delta` in Python (float64), then compares it with the
    best in float32 (its `ops.less`/`ops.greater` convert Python floats to float32
    tensors). So an improvement of exactly `min_delta` may count in float64 and not in
    float32 (0.8 -> 0.7 with `min_delta=0.1`), and the first value is always the best, even NaN or inf (after a NaN
    nothing improves). `ReduceLROnPlateau` uses this to make Keras' decisions.

    Args:
        current: Float. The new value.
        best: Float or None. The best so far (None before the first value).
        mode: "min" or "max".
        min_delta: Non-negative float. Defaults to `0.0`.

    Returns:
        Bool.

    Example:

    >>> improves_as_keras(0.7, 0.8, "min", min_delta=0.1)  # 0.7 < 0.8 - 0.1 in float64
    False
    >>> improves_as_keras(float("nan"), None, "min"), improves_as_keras(0.1, float("nan"), "min")
    (True, False)
    """
    if best is None:
        return True
    shifted = float(current) + min_delta if mode == "min" else float(current) - min_delta
    with np.errstate(over="ignore", invalid="ignore"):
        shifted, best = np.float32(shifted), np.float32(best)
    return bool(shifted < best) if mode == "min" else bool(shifted > best)


def monitored_value(owner, monitor, logs):
    """Reads `logs[monitor]` as a float, or raises a ValueError listing the available keys."""
    logs = logs or {}
    if monitor not in logs:
        hint = (
            " `val_*` metrics exist only when `fit` gets `validation_data` (or `validation_split`)."
            if monitor.startswith("val_")
            else ""
        )
        raise ValueError(
            f"{owner}: `monitor` must name a value in the epoch logs. Received: "
            f"monitor={monitor!r}; available: {sorted(logs)}.{hint} Pick one of the "
            "available names."
        )
    return float(keras.ops.convert_to_numpy(logs[monitor]))


class MonitoredBest:
    """A callback's monitored metric: checked arguments, the mode, the best value so far.

    What `ProgressiveEpochs`, `ReduceLROnPlateau`, `CheckpointOnChange` and `AccuracyReport`
    share: `mode="auto"` is resolved at `on_train_begin` when the metric's name tells the
    direction, else at the first epoch end, once compiled metrics are built (as Keras
    does); a mode that contradicts the name warns at construction.

    Args:
        owner: String. Name used in error messages.
        monitor: String. The monitored log key, e.g. `"val_accuracy"`.
        mode: `"auto"`, `"min"` or `"max"`.
        min_delta: Number. The smallest change that counts as an improvement (its sign is
            ignored). Defaults to `0.0`.

    Example:

    >>> tracked = MonitoredBest("Demo", "val_accuracy", "auto")
    >>> tracked.on_train_begin(model=None)
    >>> [tracked.update(tracked.read({"val_accuracy": v})) for v in (0.5, 0.4, 0.6)]
    [True, False, True]
    >>> tracked.mode, tracked.best.value
    ('max', 0.6)
    """

    def __init__(self, owner, monitor, mode, min_delta=0.0):
        self.owner = owner
        self.monitor = check_monitor(owner, monitor)
        self.requested_mode = check_mode(owner, mode)
        # From the callback's `__init__`: the warning points at the code that builds it.
        warn_if_mode_contradicts(owner, monitor, mode, stacklevel=4)
        self.min_delta = check_min_delta(owner, min_delta)
        self.mode = None
        self.best = None
        self._model = None

    def on_train_begin(self, model):
        """Forgets the best value; resolves the mode if the name tells it already."""
        self._model = model
        self.mode = try_resolve_mode(self.owner, self.monitor, self.requested_mode, model)
        self.best = None if self.mode is None else BestValue(self.mode, self.min_delta)

    def read(self, logs):
        """`logs[monitor]` as a float (a ValueError listing the keys if absent); resolves
        the mode on the first call if `on_train_begin` could not."""
        value = monitored_value(self.owner, self.monitor, logs)
        if self.mode is None:
            self.mode = resolve_mode(self.owner, self.monitor, self.requested_mode, self._model)
        if self.best is None:
            self.best = BestValue(self.mode, self.min_delta)
        return value

    def update(self, value):
        """Takes `value` as the new best if it improves by more than `min_delta`."""
        return self.best.update(value)
