"""Transfer learning: TF2 SavedModels (TF-Hub, tf.Module, Keras export) as Keras 3 layers."""

from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor

__all__ = ["FeatureExtractor"]
