"""tf.data transforms that are also Keras layers.

Every transform maps over bare images, `(image, label)` pairs and `{"images": ...}` dicts,
single images or batches, uint8 or float, and sits inside a model as a layer.
"""

from keras_accuracy_kit.transforms import functional
from keras_accuracy_kit.transforms.augment import Augment
from keras_accuracy_kit.transforms.invariance import (
    InvarianceReport,
    InvarianceRow,
    check_invariance,
)
from keras_accuracy_kit.transforms.color_transform import OUTPUT_RANGES, ColorTransform
from keras_accuracy_kit.transforms.cut_mix import CutMix
from keras_accuracy_kit.transforms.image_transform import ImageTransform
from keras_accuracy_kit.transforms.mix_up import MixUp
from keras_accuracy_kit.transforms.registry import registered_transforms
from keras_accuracy_kit.transforms.resize import Resize
from keras_accuracy_kit.transforms.to_grayscale import ToGrayscale
from keras_accuracy_kit.transforms.to_hsv import ToHSV
from keras_accuracy_kit.transforms.to_lab import ToLab
from keras_accuracy_kit.transforms.to_yuv import ToYUV

__all__ = [
    "OUTPUT_RANGES",
    "Augment",
    "ColorTransform",
    "CutMix",
    "ImageTransform",
    "InvarianceReport",
    "InvarianceRow",
    "MixUp",
    "Resize",
    "ToGrayscale",
    "ToHSV",
    "ToLab",
    "ToYUV",
    "check_invariance",
    "functional",
    "registered_transforms",
]
