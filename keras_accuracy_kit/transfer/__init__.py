"""Transfer learning: SavedModel feature extractors and named `keras.applications` backbones."""

from keras_accuracy_kit.transfer.backbone_spec import (
    BACKBONES,
    BackboneSpec,
    backbone,
    get_backbone_spec,
    list_backbones,
)
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "FeatureExtractor",
    "backbone",
    "get_backbone_spec",
    "list_backbones",
]
