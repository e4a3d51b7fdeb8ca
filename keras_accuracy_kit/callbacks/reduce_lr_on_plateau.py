"""ReduceLROnPlateau: Keras' callback, also for learning-rate schedules, and resumable."""

import numbers

import keras
import numpy as np

from keras_accuracy_kit._core import checks
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit._core.announce import announce
from keras_accuracy_kit.callbacks.scaled_schedule import ScaledSchedule
from keras_accuracy_kit.callbacks.stateful_callback import StatefulCallback


class ReduceLROnPlateau(StatefulCallback):
    """Lowers the learning rate when a metric stops improving; works with schedules too.

    Same arguments and decisions as `keras.callbacks.ReduceLROnPlateau` (it reduces on the
    same epochs to the same values for a float learning rate: values compared in float32
    as Keras does, the first value taken as `best` even if NaN or inf), plus what Keras' cannot do:
    when the optimizer's learning rate is a `LearningRateSchedule` (warm-up, cosine decay)
    or a callable, Keras fails at the first reduction; this callback wraps it in a
    `ScaledSchedule` and multiplies it by the accumulated factor, keeping its shape. The effective learning
    rate is written into the epoch logs as `learning_rate`, as Keras does; a schedule's
    accumulated factor also goes in as `learning_rate_scale`. With `backup_dir` the wait,
    cooldown, best value and reduction survive an interrupted run. One deliberate
    difference: a `monitor` missing from the logs raises a `ValueError` listing the
    available names at the first epoch end, where Keras warns and never reduces.

    Args:
        monitor: String. The log key to watch. Defaults to `"val_loss"`.
        factor: Float in (0, 1). New rate = rate * factor. Defaults to `0.1`.
        patience: Non-negative int. Epochs without improvement before a reduction.
            Defaults to `10`.
        verbose: Int. 1 logs each reduction. Defaults to `0`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        min_delta: Float. Smallest change that counts as an improvement. Defaults to
            `1e-4`.
        cooldown: Non-negative int. Epochs to wait after a reduction before counting
            again. Defaults to `0`.
        min_lr: Non-negative float. Lower bound on the (effective) learning rate.
            Defaults to `0.0`.
        backup_dir: Optional path. Where to keep the state for resumed runs (only the
            chief writes). Defaults to `None`.

    Example:

    ```python
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=10_000)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=..., metrics=[...])
    model.fit(train, validation_data=val, epochs=50,
              callbacks=[kit.callbacks.ReduceLROnPlateau(factor=0.5, patience=3)])
    ```
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        backup_dir=None,
    ):
        super().__init__(backup_dir=backup_dir)
        owner = "ReduceLROnPlateau"
        self.monitor = monitor_lib.check_monitor(owner, monitor)
        self.factor = checks.check_number(
            owner, "factor", factor, low=0, high=1, open_low=True, open_high=True,
            expectation="a number in (0, 1)",
            fix="The new rate is rate * factor, so factor=0.5 halves it.",
        )  # fmt: skip
        self.patience = checks.check_int(owner, "patience", patience, minimum=0, example=3)
        self.cooldown = checks.check_int(owner, "cooldown", cooldown, minimum=0, example=3)
        self.min_lr = checks.check_number(
            owner, "min_lr", min_lr, low=0, expectation="a finite non-negative number",
            fix="0 lets the rate fall freely; e.g. min_lr=1e-6 stops it there.",
        )  # fmt: skip
        self._tracked = monitor_lib.MonitoredBest(owner, monitor, mode, min_delta)
        self.mode = mode
        self.min_delta = self._tracked.min_delta
        self.verbose = _verbosity(owner, verbose)
        self.wait = 0
        self.cooldown_counter = 0
        #: The best monitored value so far (None before the first epoch), as Keras' `best`
        #: (compared as Keras does, `monitor_lib.improves_as_keras`).
        self.best = None

    @property
    def _mode(self):
        """The resolved mode, "min" or "max" (None until known)."""
        return self._tracked.mode

    @_mode.setter
    def _mode(self, mode):
        self._tracked.mode = mode

    # -- the learning rate, float or schedule --------------------------------------------

    def _optimizer(self):
        """The optimizer that owns the rate (inside a mixed-precision LossScaleOptimizer)."""
        optimizer = self.model.optimizer
        return getattr(optimizer, "inner_optimizer", optimizer)

    def _schedule(self):
        """The optimizer's schedule or callable learning rate (None for a float rate)."""
        schedule = getattr(self._optimizer(), "_learning_rate", None)
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            return schedule
        if callable(schedule) and not isinstance(schedule, keras.Variable):
            return schedule  # `Adam(learning_rate=lambda: 0.01)`: scaled like a schedule
        return None

    def _install_scaled_schedule(self):
        schedule = self._schedule()
        if schedule is None or isinstance(schedule, ScaledSchedule):
            return
        with self.model.distribute_strategy.scope():
            self._optimizer().learning_rate = ScaledSchedule(schedule)
        # The training step may have been traced with the bare schedule: trace it again.
        self.model.make_train_function(force=True)

    def current_learning_rate(self):
        """The effective learning rate at the optimizer's current step."""
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def _scale_learning_rate(self, ratio):
        schedule = self._schedule()
        if isinstance(schedule, ScaledSchedule):
            schedule.scale.assign(float(keras.ops.convert_to_numpy(schedule.scale)) * ratio)
        else:
            old = self.current_learning_rate()
            self._optimizer().learning_rate = old * ratio

    # -- decisions ---------------------------------------------------------------------

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        # As Keras: if "auto" cannot tell the direction before the metrics are built,
        # decide at the first epoch end.
        self._tracked.on_train_begin(self.model)
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0
        self._install_scaled_schedule()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = self.current_learning_rate()
        schedule = self._schedule()
        if isinstance(schedule, ScaledSchedule):
            logs["learning_rate_scale"] = float(keras.ops.convert_to_numpy(schedule.scale))
        current = self._tracked.read(logs)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        # Keras' comparison (float32, the first value always taken, NaN included).
        if monitor_lib.improves_as_keras(current, self.best, self._mode, self.min_delta):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = self.current_learning_rate()
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self._scale_learning_rate(new_lr / old_lr)
                    if self.verbose > 0:
                        announce(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                            f"rate to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
        self.save_state(epoch)

    # -- resumable state ---------------------------------------------------------------

    def state_dict(self):
        schedule = self._schedule() if self.model is not None else None
        state = {
            "wait": self.wait,
            "cooldown_counter": self.cooldown_counter,
            "best": self.best,
            "mode": self._mode,
        }
        if isinstance(schedule, ScaledSchedule):
            state["learning_rate_scale"] = float(keras.ops.convert_to_numpy(schedule.scale))
        elif self.model is not None:
            state["learning_rate"] = self.current_learning_rate()
        return state

    def load_state_dict(self, state):
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self._mode = state["mode"]
        self.best = None if state["best"] is None else float(state["best"])
        schedule = self._schedule()
        if "learning_rate_scale" in state and isinstance(schedule, ScaledSchedule):
            schedule.scale.assign(float(state["learning_rate_scale"]))
        elif "learning_rate" in state and schedule is None:
            self._optimizer().learning_rate = float(state["learning_rate"])


def _verbosity(owner, verbose):
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise ValueError(
            f"{owner}: `verbose` must be 0 (silent) or 1 (log each reduction). Received: "
            f"verbose={verbose!r}."
        )
    return int(verbose)
