"""Keras callbacks: more epochs while the model improves, then the learning rate, and a
versioned checkpoint of every configuration (`CheckpointOnChange`, owned by `history/`)."""

from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange

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
