"""TensorBoard writers: what the kit shows a user about their data and training."""

from keras_accuracy_kit.reporting import previews, summary_schema
from keras_accuracy_kit.reporting.accuracy_report import AccuracyReport
from keras_accuracy_kit.reporting.image_grid import image_grid, write_image_grid

__all__ = ["AccuracyReport", "image_grid", "previews", "summary_schema", "write_image_grid"]
