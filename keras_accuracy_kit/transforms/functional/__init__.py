"""Pure tensor -> tensor functions behind the kit's transforms."""

from keras_accuracy_kit.transforms.functional.color import (
    GRAYSCALE_WEIGHTS,
    hsv_to_rgb,
    lab_to_rgb,
    rescale_channels,
    rgb_to_grayscale,
    rgb_to_hsv,
    rgb_to_lab,
    rgb_to_yuv,
    yuv_to_rgb,
)
from keras_accuracy_kit.transforms.functional.geometry import (
    RESIZE_INTERPOLATIONS,
    RESIZE_MODES,
    resize_geometry,
    resize_images,
)

__all__ = [
    "GRAYSCALE_WEIGHTS",
    "RESIZE_INTERPOLATIONS",
    "RESIZE_MODES",
    "hsv_to_rgb",
    "lab_to_rgb",
    "rescale_channels",
    "resize_geometry",
    "resize_images",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "rgb_to_lab",
    "rgb_to_yuv",
    "yuv_to_rgb",
]
