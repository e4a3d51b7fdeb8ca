"""Transfer learning: SavedModel feature extractors, named `keras.applications` backbones,
end-to-end classifiers and the two-phase fine-tuning recipe."""

from keras_accuracy_kit.transfer.backbone_spec import (
    BACKBONES,
    BackboneSpec,
    backbone,
    get_backbone_spec,
    list_backbones,
)
from keras_accuracy_kit.transfer.classifier import classifier
from keras_accuracy_kit.transfer.discriminative_optimizer import DiscriminativeOptimizer
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor
from keras_accuracy_kit.transfer.fine_tune import fine_tune

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "DiscriminativeOptimizer",
    "FeatureExtractor",
    "backbone",
    "classifier",
    "fine_tune",
    "get_backbone_spec",
    "list_backbones",
]
