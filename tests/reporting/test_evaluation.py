"""Confusion matrix and worst predictions over batches: numbers derived by hand."""

import numpy as np
import pytest

from keras_accuracy_kit.reporting import evaluation


@pytest.mark.parametrize(
    "outputs, expected",
    [
        ([[0.2, 0.8]], [[0.2, 0.8]]),  # probabilities stay
        ([[0.0, np.log(3.0)]], [[0.25, 0.75]]),  # logits are softmaxed
        ([[2.0, -1.0]], [[np.exp(3) / (1 + np.exp(3)), 1 / (1 + np.exp(3))]]),
        ([[0.9]], [[0.1, 0.9]]),  # one sigmoid unit
        ([[0.0]], [[1.0, 0.0]]),
        ([[2.0]], [[1 / (1 + np.exp(2)), 1 - 1 / (1 + np.exp(2))]]),  # one logit
    ],
)
def test_to_probabilities(outputs, expected):
    np.testing.assert_allclose(evaluation.to_probabilities(np.array(outputs)), expected)


def test_worst_predictions_across_batches_lowest_true_probability_first():
    images = np.arange(6, dtype=np.float32).reshape(6, 1, 1, 1)  # image i holds value i
    labels = np.array([0, 1, 1, 0, 1, 0])
    outputs = np.array([[0.9, 0.1], [0.3, 0.7], [0.95, 0.05], [0.4, 0.6], [0.2, 0.8], [0.5, 0.5]])
    batches = [(images[:3], labels[:3], outputs[:3]), (images[3:], labels[3:], outputs[3:])]
    result = evaluation.evaluate_batches(batches, 2, num_worst=3)
    # True-class probabilities: 0.9, 0.7, 0.05, 0.4, 0.8, 0.5 -> worst: #2, #3, #5.
    assert [float(w.image.ravel()[0]) for w in result.worst] == [2.0, 3.0, 5.0]
    assert [(w.true, w.predicted) for w in result.worst] == [(1, 0), (0, 1), (0, 0)]
    assert [w.predicted_probability for w in result.worst] == [0.95, 0.6, 0.5]
    # Argmax of a tie picks class 0; rows true, columns predicted.
    np.testing.assert_array_equal(result.confusion_matrix, [[2, 1], [1, 2]])
    assert result.accuracy == pytest.approx(4 / 6)
    np.testing.assert_allclose(result.per_class_accuracy, [2 / 3, 2 / 3])


def test_one_hot_labels_and_a_class_absent_from_the_data():
    labels = np.array([[1, 0, 0], [1, 0, 0]])
    outputs = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    result = evaluation.evaluate_batches([(np.zeros((2, 2, 2, 1)), labels, outputs)], 3)
    np.testing.assert_array_equal(result.confusion_matrix[0], [1, 1, 0])
    assert result.per_class_accuracy[0] == 0.5
    assert np.isnan(result.per_class_accuracy[1]) and np.isnan(result.per_class_accuracy[2])
    assert len(result.worst) == 2


def test_num_worst_zero_keeps_no_images():
    outputs = np.array([[0.8, 0.2]])
    result = evaluation.evaluate_batches([(np.zeros((1, 2, 2, 1)), [1], outputs)], 2, 0)
    assert result.worst == [] and result.confusion_matrix.sum() == 1


def test_class_count_mismatch_says_how_to_fix():
    with pytest.raises(ValueError, match=r"must have 3 classes .* Pass one name per class"):
        evaluation.evaluate_batches([(np.zeros((1, 1, 1, 1)), [0], [[0.5, 0.5]])], 3)
