"""The accuracy ladder: `kit.improve` tries the tricks in order and keeps what pays."""

from keras_accuracy_kit.ladder.data import DataFacts
from keras_accuracy_kit.ladder.datasets import (
    digits_datasets,
    few_shot_digits,
    image_directory_datasets,
)
from keras_accuracy_kit.ladder.accuracy_ladder import improve
from keras_accuracy_kit.ladder.distributed import Distributed
from keras_accuracy_kit.ladder.evidence import Decision, decide
from keras_accuracy_kit.ladder.reference_cnn import reference_cnn
from keras_accuracy_kit.ladder.result import ImproveResult, Step
from keras_accuracy_kit.ladder.rungs import RUNGS, TRICKS, Config, Rung
from keras_accuracy_kit.ladder.test_time_augmentation import TestTimeAugmentation, ensemble, tta
from keras_accuracy_kit.ladder.tutorial_cnn import tutorial_cnn

__all__ = [
    "Config",
    "DataFacts",
    "Decision",
    "Distributed",
    "RUNGS",
    "Rung",
    "TestTimeAugmentation",
    "decide",
    "ensemble",
    "tta",
    "ImproveResult",
    "Step",
    "TRICKS",
    "digits_datasets",
    "few_shot_digits",
    "image_directory_datasets",
    "improve",
    "reference_cnn",
    "tutorial_cnn",
]
