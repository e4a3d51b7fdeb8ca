"""Versioned model store: checkpoint-on-change, a readable history, rollback."""

from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.history.fingerprint import diff, fingerprint, model_configuration
from keras_accuracy_kit.history.errors import CorruptIndexError, HistoryWriteError, NewerSchemaError
from keras_accuracy_kit.history.history import History, Restored, Version

__all__ = [
    "CheckpointOnChange",
    "CorruptIndexError",
    "History",
    "HistoryWriteError",
    "NewerSchemaError",
    "Restored",
    "Version",
    "diff",
    "fingerprint",
    "model_configuration",
]
