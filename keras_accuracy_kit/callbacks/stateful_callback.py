"""StatefulCallback: a Keras callback whose state survives an interrupted run."""

import keras

from keras_accuracy_kit._core import checks, distribution
from keras_accuracy_kit._core.state_store import CallbackStateStore


class StatefulCallback(keras.callbacks.Callback):
    """Base of the kit's callbacks that carry state from epoch to epoch.

    Subclasses implement `state_dict()` (JSON-able) and `load_state_dict(state)`. Given a
    `backup_dir` -- the same directory as Keras' `BackupAndRestore(backup_dir)` -- the
    state after every epoch is written there (atomically, by the chief only), and when
    `fit` resumes at epoch `e` the state saved after epoch `e - 1` is loaded before that
    epoch starts. Every worker reads it; only the chief writes.

    Args:
        backup_dir: Optional path. Where to keep the per-epoch state. Defaults to `None`
            (no files).
    """

    def __init__(self, backup_dir=None):
        super().__init__()
        self.backup_dir = checks.check_path(
            type(self).__name__, "backup_dir", backup_dir,
            "Pass the `backup_dir` of your `keras.callbacks.BackupAndRestore`.", allow_none=True,
        )  # fmt: skip
        self._state_checked = False

    def state_dict(self):
        """The callback's state as a JSON-able dict."""
        raise NotImplementedError

    def load_state_dict(self, state):
        """Restores a state returned by `state_dict()`."""
        raise NotImplementedError

    def _store(self):
        if self.backup_dir is None:
            return None
        return CallbackStateStore(self.backup_dir, self.name_for_files)

    @property
    def name_for_files(self):
        return type(self).__name__

    def _is_chief(self):
        return distribution.is_chief(getattr(self.model, "distribute_strategy", None))

    def on_train_begin(self, logs=None):
        self._state_checked = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._state_checked:
            return
        self._state_checked = True
        store = self._store()
        if store is not None and epoch > 0:
            state = store.load(epoch - 1)
            if state is not None:
                self.load_state_dict(state)

    def save_state(self, epoch):
        """Writes the state after `epoch` to `backup_dir` (chief only)."""
        store = self._store()
        if store is not None and self._is_chief():
            store.save(epoch, self.state_dict())
