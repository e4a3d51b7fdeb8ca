"""What a model gets wrong on validation data: confusion matrix and the worst predictions.

Pure NumPy over the batches a model predicts, so that the numbers are tested without
training, and memory stays bounded: only the `num_worst` worst images are kept.
"""

import dataclasses
import heapq
import itertools

import numpy as np


@dataclasses.dataclass
class WorstPrediction:
    """One badly predicted validation example.

    Attributes:
        image: NumPy array `(H, W, C)` as it came from the data.
        true: Int. The true class.
        predicted: Int. The predicted class.
        true_probability: Float. The probability the model gave the true class.
        predicted_probability: Float. The probability of the predicted class.
    """

    image: np.ndarray
    true: int
    predicted: int
    true_probability: float
    predicted_probability: float


@dataclasses.dataclass
class Evaluation:
    """The confusion matrix and worst predictions of a model on validation data.

    Attributes:
        confusion_matrix: Int array `(num_classes, num_classes)`; rows are true classes,
            columns predicted ones.
        worst: List of `WorstPrediction`, lowest true-class probability first.
    """

    confusion_matrix: np.ndarray
    worst: list

    @property
    def num_examples(self):
        return int(self.confusion_matrix.sum())

    @property
    def accuracy(self):
        total = self.num_examples
        return float(np.trace(self.confusion_matrix) / total) if total else float("nan")

    @property
    def per_class_accuracy(self):
        """Recall of each class (NaN for a class absent from the data)."""
        counts = self.confusion_matrix.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion_matrix) / counts


def to_probabilities(outputs):
    """Class probabilities from model outputs: probabilities as they are, logits softmaxed.

    A single output unit is a binary classifier: `[1 - p, p]` (a sigmoid is applied to
    values outside [0, 1]).

    Args:
        outputs: Array `(N, num_classes)` or `(N, 1)` or `(N,)`.

    Returns:
        Float64 array `(N, num_classes)` (at least 2 classes).

    Example:

    >>> to_probabilities(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    >>> to_probabilities(np.array([0.25])).tolist()
    [[0.75, 0.25]]
    """
    outputs = np.asarray(outputs, np.float64)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape[-1] == 1:
        p = outputs[:, 0]
        if p.size and (p.min() < 0.0 or p.max() > 1.0):
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=-1)
    is_distribution = (
        outputs.size == 0
        or outputs.min() >= 0.0
        and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3)
    )
    if is_distribution:
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def to_class_indices(labels):
    """Class indices from sparse labels `(N,)`/`(N, 1)` or one-hot labels `(N, C)`.

    Example:

    >>> to_class_indices(np.array([[0, 1], [1, 0]])).tolist()
    [1, 0]
    >>> to_class_indices(np.array([[2], [0]])).tolist()
    [2, 0]
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[-1] > 1:
        return labels.argmax(axis=-1).astype(np.int64)
    return labels.reshape(-1).astype(np.int64)


def evaluate_batches(batches, num_classes, num_worst=16):
    """Accumulates the confusion matrix and the worst predictions over batches.

    Args:
        batches: Iterable of `(images, labels, outputs)` NumPy batches: the inputs, the
            labels (sparse or one-hot) and the model outputs (probabilities or logits).
        num_classes: Positive int.
        num_worst: Non-negative int. How many of the lowest true-class probabilities to
            keep. Defaults to `16`.

    Returns:
        An `Evaluation`.

    Example:

    >>> images = np.zeros((3, 2, 2, 1))
    >>> outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> result = evaluate_batches([(images, np.array([0, 1, 1]), outputs)], 2, num_worst=1)
    >>> result.confusion_matrix.tolist()
    [[1, 0], [1, 1]]
    >>> [(w.true, w.predicted, round(w.true_probability, 2)) for w in result.worst]
    [(1, 0, 0.4)]
    """
    matrix = np.zeros((num_classes, num_classes), np.int64)
    # A heap keyed on minus the true-class probability: its root is the best-predicted
    # example kept so far, the one to drop when a worse one comes.
    heap = []
    counter = itertools.count()
    for images, labels, outputs in batches:
        probabilities = to_probabilities(outputs)
        true = to_class_indices(labels)
        predicted = probabilities.argmax(axis=-1)
        if probabilities.shape[-1] != num_classes or true.max(initial=0) >= num_classes:
            raise ValueError(
                f"AccuracyReport: the model and labels must have {num_classes} classes (as "
                f"many as `class_names`). Received: outputs of shape {probabilities.shape} "
                f"and labels up to {int(true.max(initial=0))}. Pass one name per class."
            )
        np.add.at(matrix, (true, predicted), 1)
        true_probability = probabilities[np.arange(len(true)), true]
        for i in np.argsort(true_probability, kind="stable")[:num_worst]:
            key = -float(true_probability[i])
            if len(heap) == num_worst and key <= heap[0][0]:
                break
            item = WorstPrediction(
                image=np.array(images[i]),
                true=int(true[i]),
                predicted=int(predicted[i]),
                true_probability=float(true_probability[i]),
                predicted_probability=float(probabilities[i, predicted[i]]),
            )
            if len(heap) < num_worst:
                heapq.heappush(heap, (key, next(counter), item))
            else:
                heapq.heapreplace(heap, (key, next(counter), item))
    worst = [item for _, _, item in sorted(heap, key=lambda entry: (-entry[0], entry[1]))]
    return Evaluation(confusion_matrix=matrix, worst=worst)
