"""Interpretation: what a classifier gets wrong on a dataset, from Python (fastai's
`ClassificationInterpretation`), with the pictures the TensorBoard report draws."""


import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.reporting import evaluation, rendering
from keras_accuracy_kit.reporting.figure import finish
from keras_accuracy_kit.reporting.image_grid import image_grid

OWNER = "Interpretation"
#: Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as Keras' losses do.
EPSILON = 1e-7
#: Pixels of the third caption line of `plot_top_losses`.
LINE_HEIGHT = 12


class Interpretation:
    """A classifier's predictions on a dataset: confusion matrix, top losses, most confused.

    Made by `kit.interpret(model, dataset)` (or `Interpretation.from_model`), or from
    arrays you already have. The per-example loss is the cross-entropy of the true class,
    `-log(p_true)`, on the model's probabilities (logits are softmaxed; a single sigmoid
    unit is a binary classifier), as `keras.losses.SparseCategoricalCrossentropy` computes
    it. Every image is kept in memory (for `plot_top_losses`): meant for validation sets of
    notebook size.

    Args:
        images: Array `(N, H, W, C)` (or `(N, H, W)`), the model's inputs.
        labels: Array `(N,)` of class indices, or one-hot `(N, num_classes)`.
        outputs: Array `(N, num_classes)` of probabilities or logits (or `(N, 1)`).
        class_names: Optional list of strings, one per class. Defaults to `None`
            (`"0"`, `"1"`, ...).

    Example:

    >>> outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> interp = Interpretation(np.zeros((3, 8, 8, 1)), np.array([0, 1, 1]), outputs,
    ...                         class_names=["cat", "dog"])
    >>> interp.confusion_matrix().tolist()
    [[1, 0], [1, 1]]
    >>> losses, indices = interp.top_losses(1)
    >>> indices.tolist(), np.round(losses, 4).tolist()
    ([2], [0.9163])
    >>> interp.most_confused()
    [('dog', 'cat', 1)]
    """

    def __init__(self, images, labels, outputs, class_names=None):
        images = np.asarray(images)
        probabilities = evaluation.to_probabilities(outputs)
        true = evaluation.to_class_indices(labels)
        if not len(images) == len(true) == len(probabilities):
            raise ValueError(
                f"{OWNER}: `images`, `labels` and `outputs` must hold the same number of "
                f"examples. Received: {len(images)} images, {len(true)} labels and "
                f"{len(probabilities)} outputs. Pass the model's outputs on these images."
            )
        if not len(true):
            raise ValueError(
                f"{OWNER}: the data must hold at least one example. Received: 0 examples. "
                "Check the dataset (a `take(0)`, a filter that drops everything?)."
            )
        num_classes = probabilities.shape[-1]
        if true.min() < 0 or true.max() >= num_classes:
            raise ValueError(
                f"{OWNER}: `labels` must be class indices in [0, {num_classes}) (the model "
                f"has {num_classes} outputs). Received: labels from {int(true.min())} to "
                f"{int(true.max())}. Check the labels or the model's last layer."
            )
        if class_names is not None:
            if not isinstance(class_names, (list, tuple)) or not all(
                isinstance(name, str) for name in class_names
            ):
                raise TypeError(
                    f"{OWNER}: `class_names` must be a list of strings, one per class. "
                    f"Received: class_names={class_names!r}."
                )
            if len(class_names) != num_classes:
                raise ValueError(
                    f"{OWNER}: `class_names` must hold one name per class ({num_classes}). "
                    f"Received: {len(class_names)} names, class_names={list(class_names)!r}."
                )
        self.images = images
        self.labels = true
        self.probabilities = probabilities
        self.predictions = probabilities.argmax(axis=-1)
        self.class_names = (
            list(class_names) if class_names else [str(i) for i in range(num_classes)]
        )
        true_probability = probabilities[np.arange(len(true)), true]
        #: Float array `(N,)`: the cross-entropy of each example's true class.
        self.losses = -np.log(np.clip(true_probability, EPSILON, 1.0 - EPSILON))

    @classmethod
    def from_model(cls, model, dataset, class_names=None, batch_size=256):
        """Predicts `dataset` with `model` (inference mode) and keeps what it needs.

        Args:
            model: A Keras classifier.
            dataset: A `tf.data.Dataset` of `(images, labels)` batches, or a tuple
                `(images, labels)` of arrays.
            class_names: Optional list of strings, one per class. Defaults to `None`.
            batch_size: Positive int. Batch size for arrays. Defaults to `256`.

        Returns:
            An `Interpretation`.
        """
        if not callable(model):
            raise TypeError(
                f"{OWNER}: `model` must be a Keras model. Received: model={model!r}."
            )
        batch_size = checks.check_positive_int(OWNER, "batch_size", batch_size, example=256)
        images, labels, outputs = [], [], []
        for batch_images, batch_labels in _batches(dataset, batch_size):
            images.append(np.asarray(batch_images))
            labels.append(np.asarray(batch_labels))
            outputs.append(keras.ops.convert_to_numpy(model(batch_images, training=False)))
        if not images:
            raise ValueError(
                f"{OWNER}: `dataset` must yield at least one batch. Received: an empty "
                "dataset. Check the pipeline, e.g. `next(iter(dataset))`."
            )
        return cls(
            np.concatenate(images),
            np.concatenate(labels),
            np.concatenate(outputs),
            class_names=class_names,
        )

    # -- numbers -----------------------------------------------------------------------

    @property
    def accuracy(self):
        """Share of the examples whose highest probability is the true class."""
        return float(np.mean(self.predictions == self.labels))

    def confusion_matrix(self):
        """Int array `(num_classes, num_classes)`: rows are true classes, columns predicted."""
        num_classes = len(self.class_names)
        matrix = np.zeros((num_classes, num_classes), np.int64)
        np.add.at(matrix, (self.labels, self.predictions), 1)
        return matrix

    def top_losses(self, k=9):
        """The `k` largest per-example losses, largest first, and the examples' indices.

        Args:
            k: Positive int. Defaults to `9` (capped at the number of examples).

        Returns:
            `(losses, indices)`: float array `(k,)` and int array `(k,)`; ties keep the
            data's order.
        """
        k = _check_k("top_losses", k)
        indices = np.argsort(-self.losses, kind="stable")[:k]
        return self.losses[indices], indices

    def most_confused(self, min_count=1):
        """The off-diagonal cells of the confusion matrix, the largest first.

        Args:
            min_count: Positive int. Leave out pairs seen fewer times. Defaults to `1`.

        Returns:
            List of `(true class name, predicted class name, count)`; ties in class order.
        """
        min_count = _check_k("most_confused", min_count, name="min_count")
        matrix = self.confusion_matrix()
        pairs = [
            (self.class_names[true], self.class_names[predicted], int(matrix[true, predicted]))
            for true in range(len(matrix))
            for predicted in range(len(matrix))
            if true != predicted and matrix[true, predicted] >= min_count
        ]
        return sorted(pairs, key=lambda pair: -pair[2])

    # -- pictures ----------------------------------------------------------------------

    def plot_confusion_matrix(self, path=None):
        """The confusion matrix as a picture (the one the TensorBoard report draws).

        Args:
            path: Optional path. Also write the PNG there. Defaults to `None`.

        Returns:
            A `Figure`; `data["confusion_matrix"]` is `confusion_matrix()`.
        """
        matrix = self.confusion_matrix()
        if len(matrix) > rendering.MAX_MATRIX_CLASSES:
            raise ValueError(
                f"{OWNER}.plot_confusion_matrix: the model must have at most "
                f"{rendering.MAX_MATRIX_CLASSES} classes to draw. Received: {len(matrix)} "
                "classes. Read `confusion_matrix()` or `most_confused()` instead."
            )
        image = rendering.confusion_matrix_image(matrix, self.class_names)
        data = {"confusion_matrix": matrix, "class_names": list(self.class_names)}
        return finish(image, data, "confusion matrix", path)

    def plot_top_losses(self, k=9, num_columns=8, path=None):
        """The `k` examples with the largest loss, each captioned with its numbers.

        Caption: `true <class>`, `pred <class>`, `loss <value> p<probability of the true
        class>` (16 characters a line, long class names shortened).

        Args:
            k: Positive int. Defaults to `9`.
            num_columns: Positive int. Images per row. Defaults to `8`.
            path: Optional path. Also write the PNG there. Defaults to `None`.

        Returns:
            A `Figure`; `data` holds `losses` and `indices` (as `top_losses(k)`), and the
            `true` and `predicted` classes and `captions` of the examples shown.
        """
        losses, indices = self.top_losses(k)
        num_columns = _check_k("plot_top_losses", num_columns, name="num_columns")
        cells, captions = [], []
        for index, loss in zip(indices, losses):
            picture = rendering.to_display_image(self.images[index])
            if picture is None:
                raise ValueError(
                    f"{OWNER}.plot_top_losses: the examples must be images (H, W) or "
                    f"(H, W, C). Received: an example of shape {self.images[index].shape}. "
                    "Read `top_losses(k)` instead."
                )
            true, predicted = self.labels[index], self.predictions[index]
            lines = [
                f"true {self.class_names[true]}",
                f"pred {self.class_names[predicted]}",
                f"loss {loss:.2f} p{self.probabilities[index, true]:.2f}",
            ]
            captions.append(lines)
            cells.append(_three_line_cell(picture, lines))
        rows = [np.stack(cells[i : i + num_columns]) for i in range(0, len(cells), num_columns)]
        grid = image_grid(rows, cell_size=cells[0].shape[:2])
        data = {
            "losses": losses,
            "indices": indices,
            "true": self.labels[indices],
            "predicted": self.predictions[indices],
            "captions": captions,
        }
        return finish(grid.numpy(), data, "top losses", path)

    def __repr__(self):
        return (
            f"Interpretation({len(self.labels)} examples, {len(self.class_names)} classes, "
            f"accuracy={self.accuracy:.4f})"
        )


def interpret(model, dataset, class_names=None, batch_size=256):
    """What a classifier gets wrong on `dataset`: see `Interpretation`.

    Args:
        model: A Keras classifier.
        dataset: A `tf.data.Dataset` of `(images, labels)` batches, or a tuple
            `(images, labels)` of arrays.
        class_names: Optional list of strings, one per class. Defaults to `None`.
        batch_size: Positive int. Batch size for arrays. Defaults to `256`.

    Returns:
        An `Interpretation`.

    Example:

    ```python
    interp = kit.interpret(model, validation, class_names=names)
    interp.plot_confusion_matrix()     # shown by Jupyter; .save("cm.png") in a script
    interp.most_confused()[:5]
    interp.plot_top_losses(9)
    ```
    """
    return Interpretation.from_model(model, dataset, class_names, batch_size)


def _three_line_cell(picture, lines):
    """`rendering.captioned_cell` (two caption lines) with a third line below."""
    cell = rendering.captioned_cell(picture, lines[:2])
    strip = Image.new("RGB", (cell.shape[1], LINE_HEIGHT), "white")
    ImageDraw.Draw(strip).text(
        (2, 0), rendering._short(lines[2], 16), fill="black", font=rendering._font()
    )
    return np.concatenate([cell, np.asarray(strip, np.float32) / 255.0], axis=0)


def _batches(dataset, batch_size):
    if isinstance(dataset, tf.data.Dataset):
        for element in dataset:
            if not isinstance(element, (tuple, list)) or len(element) < 2:
                raise ValueError(
                    f"{OWNER}: `dataset` must yield (images, labels) batches. Received: an "
                    f"element of type {type(element).__name__}. Map it to (images, labels)."
                )
            yield element[0], element[1]
        return
    if not isinstance(dataset, tuple) or len(dataset) != 2:
        raise TypeError(
            f"{OWNER}: `dataset` must be a tf.data.Dataset of (images, labels) batches or a "
            f"tuple (images, labels). Received: dataset={type(dataset).__name__}."
        )
    images, labels = np.asarray(dataset[0]), np.asarray(dataset[1])
    if len(images) != len(labels):
        raise ValueError(
            f"{OWNER}: `dataset` must be (images, labels) of the same length. Received: "
            f"{len(images)} images and {len(labels)} labels."
        )
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size], labels[start : start + batch_size]


def _check_k(method, value, name="k"):
    return checks.check_int(f"{OWNER}.{method}", name, value, example=9)
