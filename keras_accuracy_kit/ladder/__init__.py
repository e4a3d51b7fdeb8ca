"""The accuracy ladder: `kit.improve` tries the tricks in order and keeps what pays."""

from keras_accuracy_kit.ladder.data import DataFacts
from keras_accuracy_kit.ladder.datasets import (
    digits_datasets,
    few_shot_digits,
    image_directory_datasets,
)
from keras_accuracy_kit.ladder.accuracy_ladder import TRICKS, ImproveResult, Step, improve
from keras_accuracy_kit.ladder.tutorial_cnn import tutorial_cnn

__all__ = [
    "DataFacts",
    "ImproveResult",
    "Step",
    "TRICKS",
    "digits_datasets",
    "few_shot_digits",
    "image_directory_datasets",
    "improve",
    "tutorial_cnn",
]
