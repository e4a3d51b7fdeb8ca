"""ProgressiveEpochs: train in stages, granting more epochs while the model still improves."""

import os

from keras_accuracy_kit._core import atomic, checks
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit.callbacks.stateful_callback import StatefulCallback


class ProgressiveEpochs(StatefulCallback):
    """Grants more epochs in stages while the monitored metric still improves.

    The seed advice "train longer: +25 epochs, then +100 while it still improves", as a
    callback. Training runs in stages: the first lasts `initial_epochs`; when a stage ends,
    the callback grants the next extension if the monitored value reached a new best
    (by more than `min_delta`) during that stage, and stops training otherwise. With
    `extension=[25, 100]` the first grant is 25 epochs and every later one 100 (the last
    item repeats). `fit(epochs=...)` stays the hard ceiling: give it a generous number.
    Unlike `EarlyStopping`, which only cuts a run short, this grows the run in the steps
    you choose, and writes the granted budget into the epoch logs as `epoch_budget`.

    When training ends (stopped or at the ceiling) the weights of the best epoch are
    restored if `restore_best_weights`. With `backup_dir` (the directory given to Keras'
    `BackupAndRestore`) the budget, best value and best weights survive an interrupted run.

    Args:
        monitor: String. The log key to watch. Defaults to `"val_accuracy"`.
        initial_epochs: Positive int. Length of the first stage. Defaults to `25`.
        extension: Positive int, or a sequence of them. Epochs granted after each
            improving stage. Defaults to `25`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        min_delta: Float. Smallest change that counts as an improvement. Defaults to `0`.
        restore_best_weights: Bool. Restore the best epoch's weights at the end.
            Defaults to `True`.
        backup_dir: Optional path. Where to keep the state for resumed runs (only the
            chief writes). Defaults to `None`.

    Example:

    ```python
    budget = kit.callbacks.ProgressiveEpochs(initial_epochs=25, extension=[25, 100])
    model.fit(train, validation_data=val, epochs=1000, callbacks=[budget])
    ```
    """

    def __init__(
        self,
        monitor="val_accuracy",
        initial_epochs=25,
        extension=25,
        mode="auto",
        min_delta=0,
        restore_best_weights=True,
        backup_dir=None,
    ):
        super().__init__(backup_dir=backup_dir)
        owner = "ProgressiveEpochs"
        monitor_lib.check_monitor(owner, monitor)
        self.initial_epochs = checks.check_int(owner, "initial_epochs", initial_epochs, example=25)
        self.extension = _extensions(owner, extension)
        # mode="max" on "val_loss" would restore the weights of the worst epoch: it warns.
        self._tracked = monitor_lib.MonitoredBest(owner, monitor, mode, min_delta)
        self.monitor = monitor
        self.mode = mode
        self.min_delta = self._tracked.min_delta
        self.restore_best_weights = checks.check_bool(
            owner, "restore_best_weights", restore_best_weights
        )
        self._reset()

    @property
    def _best(self):
        """The `BestValue` of this fit (None before the mode is known)."""
        return self._tracked.best

    def _reset(self):
        self.budget = self.initial_epochs
        self.stage = 0
        self.stage_improved = False
        self.best_epoch = None
        self.stopped_epoch = None
        self.best_weights = None
        self._last_epoch = None

    def extension_for_stage(self, stage):
        """Epochs granted to start `stage` (1 = the first extension)."""
        return self.extension[min(stage - 1, len(self.extension) - 1)]

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        # Compiled metrics are built during the first epoch: if "auto" cannot tell the
        # direction from the name yet, decide at the first epoch end (as Keras does).
        self._tracked.on_train_begin(self.model)

    def on_epoch_end(self, epoch, logs=None):
        value = self._tracked.read(logs)
        self._last_epoch = epoch
        if self._tracked.update(value):
            if self.best_epoch is not None:
                self.stage_improved = True
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
                self._save_best_weights()
        if epoch + 1 >= self.budget:
            if self.stage_improved:
                self.stage += 1
                self.budget += self.extension_for_stage(self.stage)
                self.stage_improved = False
            else:
                self.stopped_epoch = epoch
                self.model.stop_training = True
        if logs is not None:
            logs["epoch_budget"] = self.budget
        self.save_state(epoch)

    def on_train_end(self, logs=None):
        if (
            self.restore_best_weights
            and self.best_weights is not None
            and self.best_epoch != self._last_epoch
        ):
            self.model.set_weights(self.best_weights)

    # -- resumable state ---------------------------------------------------------------

    def state_dict(self):
        return {
            "budget": self.budget,
            "stage": self.stage,
            "stage_improved": self.stage_improved,
            "best": None if self._best is None else self._best.value,
            "mode": None if self._best is None else self._best.mode,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }

    def load_state_dict(self, state):
        self.budget = int(state["budget"])
        self.stage = int(state["stage"])
        self.stage_improved = bool(state["stage_improved"])
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state.get("stopped_epoch")
        if self._best is None or self._best.mode != state["mode"]:
            self._tracked.mode = state["mode"]
            self._tracked.best = monitor_lib.BestValue(state["mode"], self.min_delta)
        self._best.value = float(state["best"])
        self._load_best_weights()

    def _best_weights_path(self):
        return os.path.join(self.backup_dir, f"{self.name_for_files}.best.weights.h5")

    def _save_best_weights(self):
        if self.backup_dir is None or not self._is_chief():
            return
        atomic.atomic_write(
            self._best_weights_path(), self.model.save_weights, suffix=".weights.h5"
        )

    def _load_best_weights(self):
        if self.backup_dir is None or not self.restore_best_weights:
            return
        path = self._best_weights_path()
        if os.path.exists(path):
            current = self.model.get_weights()
            self.model.load_weights(path)
            self.best_weights = self.model.get_weights()
            self.model.set_weights(current)


def _extensions(owner, extension):
    values = extension if isinstance(extension, (list, tuple)) else [extension]
    if not values:
        raise ValueError(
            f"{owner}: `extension` must be a positive integer or a non-empty list of them. "
            f"Received: extension={extension!r}. E.g. extension=[25, 100]."
        )
    try:
        return [checks.check_int(owner, "extension", value) for value in values]
    except ValueError:
        raise ValueError(
            f"{owner}: `extension` must be a positive integer or a non-empty list of them. "
            f"Received: extension={extension!r}. E.g. extension=[25, 100]."
        ) from None
