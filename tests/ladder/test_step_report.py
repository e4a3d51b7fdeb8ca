"""The ladder step's report: the worst predictions it shows, with only their images
through the step's pipeline."""

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.ladder import accuracy_ladder
from keras_accuracy_kit.ladder import members as members_lib
from keras_accuracy_kit.ladder.data import DataFacts
from keras_accuracy_kit.reporting import evaluation


def _evidence(folds, num_images=90, num_classes=3):
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 16, (num_images, 8, 8, 1)).astype("float32")
    labels = np.arange(num_images) % num_classes
    half = num_images // 2
    train = tf.data.Dataset.from_tensor_slices((images[:half], labels[:half])).batch(8)
    validation = tf.data.Dataset.from_tensor_slices((images[half:], labels[half:])).batch(8)
    facts = DataFacts((8, 8, 1), num_classes, True, half, half, (0.0, 16.0), 8)
    return members_lib.Evidence(train, validation, facts, folds, seed=0, batch_size=8)


def _pipeline(data):  # a transform that changes the images' size and values
    return data.map(lambda images: tf.image.resize(images, (4, 4)) * 2.0 - 1.0)


@pytest.mark.parametrize("folds", [1, 3])
def test_the_step_report_shows_the_worst_predictions_of_the_whole_pipeline(tmp_path, folds):
    evidence = _evidence(folds)
    rng = np.random.default_rng(folds)
    probabilities = rng.dirichlet(np.ones(3), evidence.num_images)
    probabilities[[5, 17, 30]] = probabilities[4]  # ties at the boundary of the worst
    report = accuracy_ladder._StepReport(str(tmp_path), num_worst=6)
    report._judged = (evidence, probabilities, _pipeline)
    # Reference: every judged image through the pipeline, as the report did before.
    batches, start = [], 0
    for images in evidence.judged_images(_pipeline):
        stop = start + len(images)
        batches.append((np.asarray(images), evidence.sparse_labels[start:stop],
                        probabilities[start:stop]))  # fmt: skip
        start = stop
    expected = evaluation.evaluate_batches(batches, 3, num_worst=6)
    result = report._evaluate()
    np.testing.assert_array_equal(result.confusion_matrix, expected.confusion_matrix)
    assert len(result.worst) == 6
    for got, want in zip(result.worst, expected.worst):
        assert (got.true, got.predicted, got.true_probability) == (
            want.true, want.predicted, want.true_probability
        )
        np.testing.assert_allclose(got.image, want.image, rtol=1e-6)
        assert got.image.shape == (4, 4, 1)


def test_the_step_report_with_no_worst_images_still_counts_every_prediction(tmp_path):
    evidence = _evidence(3)
    probabilities = np.full((evidence.num_images, 3), 1 / 3)
    report = accuracy_ladder._StepReport(str(tmp_path), num_worst=0)
    report._judged = (evidence, probabilities, _pipeline)
    result = report._evaluate()
    assert result.worst == []
    assert result.confusion_matrix.sum() == evidence.num_images
