"""TensorBoard writers: what the kit shows a user about their data and training."""

from keras_accuracy_kit.reporting.image_grid import image_grid, write_image_grid

__all__ = ["image_grid", "write_image_grid"]
