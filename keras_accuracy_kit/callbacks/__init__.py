"""Keras callbacks: more epochs while the model improves, then the learning rate, a
versioned checkpoint of every configuration (`CheckpointOnChange`, owned by `history/`) and
the TensorBoard report of a run (`AccuracyReport`, owned by `reporting/`).

`history/` and `reporting/` sit above this package (imports flow one way, see
`tests/test_layering.py`), so `kit.callbacks.CheckpointOnChange` and
`kit.callbacks.AccuracyReport` are placed here by the facade, `keras_accuracy_kit/__init__.py`,
which every import of the kit runs first.
"""

from keras_accuracy_kit.callbacks.lr_finder import (
    LRFinder,
    LRFinderResult,
    find_lr,
    steepest_suggestion,
    valley_suggestion,
)
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from keras_accuracy_kit.callbacks.scaled_schedule import ScaledSchedule
from keras_accuracy_kit.callbacks.stateful_callback import StatefulCallback

__all__ = [
    "AccuracyReport",
    "CheckpointOnChange",
    "LRFinder",
    "LRFinderResult",
    "ProgressiveEpochs",
    "ReduceLROnPlateau",
    "ScaledSchedule",
    "StatefulCallback",
    "find_lr",
    "steepest_suggestion",
    "valley_suggestion",
]
