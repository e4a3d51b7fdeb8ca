"""Per-epoch callback state on disk, so that a run resumed by `BackupAndRestore` continues.

The store keeps the states of the last few epochs in one JSON file written atomically, so
that the state matching the epoch Keras' `BackupAndRestore` resumes from is always there,
even if the process died between the two callbacks' writes.
"""

import json
import os

from keras_accuracy_kit._core import atomic

_NUM_KEPT = 3


class CallbackStateStore:
    """JSON states of one callback, keyed by the epoch after which they were taken.

    Args:
        directory: Path. Where the file lives (the `backup_dir` of `BackupAndRestore`).
        name: String. The callback's name; the file is `<directory>/<name>.state.json`.

    Example:

    >>> import tempfile
    >>> store = CallbackStateStore(tempfile.mkdtemp(), "ProgressiveEpochs")
    >>> store.save(4, {"budget": 30})
    >>> store.load(4), store.load(3)
    ({'budget': 30}, None)
    """

    def __init__(self, directory, name):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, f"{name}.state.json")

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def save(self, epoch, state):
        """Records `state` as the state after `epoch` (0-based); keeps the last few."""
        states = self._read()
        states[str(int(epoch))] = state
        kept = sorted(states, key=int)[-_NUM_KEPT:]
        os.makedirs(self.directory, exist_ok=True)
        payload = json.dumps({key: states[key] for key in kept}, sort_keys=True)
        atomic.atomic_write_bytes(self.path, payload.encode("utf-8"))

    def load(self, epoch):
        """The state recorded after `epoch`, or None."""
        return self._read().get(str(int(epoch)))
