"""TensorBoard writers, and the same views for notebooks: what the kit shows a user about
their data and training."""

from keras_accuracy_kit.reporting import lr_finder_plot, previews, summary_schema
from keras_accuracy_kit.reporting.accuracy_report import AccuracyReport
from keras_accuracy_kit.reporting.figure import Figure
from keras_accuracy_kit.reporting.generated_samples import GeneratedSamples
from keras_accuracy_kit.reporting.image_grid import image_grid, write_image_grid
from keras_accuracy_kit.reporting.interpretation import Interpretation, interpret
from keras_accuracy_kit.reporting.lr_finder_plot import plot_lr_finder
from keras_accuracy_kit.reporting.show_batch import show_batch

__all__ = [
    "AccuracyReport",
    "Figure",
    "GeneratedSamples",
    "Interpretation",
    "image_grid",
    "interpret",
    "lr_finder_plot",
    "plot_lr_finder",
    "previews",
    "show_batch",
    "summary_schema",
    "write_image_grid",
]
