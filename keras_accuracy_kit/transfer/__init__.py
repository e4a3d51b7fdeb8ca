"""Transfer learning: SavedModel feature extractors, named `keras.applications` backbones,
end-to-end classifiers, cached features and the fine-tuning recipe (never worse than its head
on the frozen backbone)."""

from keras_accuracy_kit.transfer.backbone_spec import (
    BACKBONES,
    BackboneSpec,
    backbone,
    get_backbone_spec,
    list_backbones,
)
from keras_accuracy_kit.transfer.cache_features import cache_features
from keras_accuracy_kit.transfer.classifier import classifier
from keras_accuracy_kit.transfer.discriminative_optimizer import DiscriminativeOptimizer
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor
from keras_accuracy_kit.transfer.fine_tune import fine_tune
from keras_accuracy_kit.transfer.fine_tune_history import FineTuneHistory
from keras_accuracy_kit.transfer.graph_safety import (
    UnsafeOp,
    find_unsafe_ops,
    saved_model_unsafe_ops,
)
from keras_accuracy_kit.transfer.safe_ops import SAFE_OPS

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "DiscriminativeOptimizer",
    "FeatureExtractor",
    "FineTuneHistory",
    "SAFE_OPS",
    "UnsafeOp",
    "backbone",
    "cache_features",
    "classifier",
    "find_unsafe_ops",
    "fine_tune",
    "get_backbone_spec",
    "list_backbones",
    "saved_model_unsafe_ops",
]
