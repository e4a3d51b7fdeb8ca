"""The ladder's accuracy against scikit-learn's, on the best model's own predictions.

Issue 22: the decision tests script the accuracy every keep/reject is decided on, so
scoring with `argmin` instead of `argmax` passed every ladder test. Here a tiny real
`kit.improve` runs judged on your validation split (`folds=1`), and every number it reports
for the best configuration is recomputed independently: `best_model.predict` on the
validation images, `sklearn.metrics.accuracy_score` of their argmax. Nothing of the
ladder's internals is read.
"""

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import few_shot_digits


def _dense(input_shape, num_classes):
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    train, validation, _ = few_shot_digits(per_class=10, seed=0)
    result = kit.improve(
        _dense,
        train,
        validation,
        tricks=["epochs"],
        epochs=10,
        budget=80,  # epochs
        folds=1,
        ensemble=False,
        tta=False,
        refit=False,
        batch_size=16,
        logdir=str(tmp_path_factory.mktemp("runs")),
        verbose=0,
    )
    return result, validation


def test_best_accuracy_is_sklearns_accuracy_of_the_best_models_predictions(ladder):
    result, (images, labels) = ladder
    predictions = result.best_model.predict(images, verbose=0).argmax(-1)
    reference = accuracy_score(labels, predictions)
    assert result.best_accuracy == pytest.approx(reference, abs=1e-12)
    # Trained, three times chance (10 classes): an `argmin` scorer reports under 0.1.
    assert reference > 0.3


def test_the_best_steps_accuracy_and_the_kept_steps_agree_with_the_reference(ladder):
    result, (images, labels) = ladder
    reference = accuracy_score(
        labels, result.best_model.predict(images, verbose=0).argmax(-1)
    )
    judged = [step for step in result.steps if step.val_accuracy is not None]
    assert judged and judged[0].name == "baseline" and judged[0].kept
    kept = [step for step in judged if step.kept]
    # The best configuration is the last kept step; its reported accuracy is the reference.
    assert kept[-1].val_accuracy == pytest.approx(reference, abs=1e-12)
    # Every step is a count of right images over the 100 judged ones.
    for step in judged:
        assert step.val_accuracy * len(labels) == pytest.approx(round(step.val_accuracy * 100))
    # A step's gain is its accuracy minus the best's before it.
    best = judged[0].val_accuracy
    for step in judged[1:]:
        assert step.delta == pytest.approx(step.val_accuracy - best, abs=1e-12)
        if step.kept:
            best = step.val_accuracy
    assert "validation" in result.evidence and "cross-validation" not in result.evidence
