"""The finish resumes a best step the budget cut short, from its best epoch (issue 16)."""

import dataclasses
import os

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from keras_accuracy_kit.ladder.rungs import Config
from tests.ladder.test_improve import _ladder


def _epoch_losses(logdir, run):
    path = os.path.join(logdir, run)
    accumulator = event_accumulator.EventAccumulator(path, size_guidance={"tensors": 0})
    accumulator.Reload()
    return {
        event.step: float(tf.make_ndarray(event.tensor_proto))
        for event in accumulator.Tensors("epoch/loss")
    }


def test_a_best_step_cut_by_the_budget_resumes_from_its_weights_and_epoch(tmp_path):
    ladder = _ladder(tmp_path, epochs=2)
    first = ladder._train_step("epochs", "progressive", Config(epochs=2, progressive=True))
    first = dataclasses.replace(first, cut_short=True)  # as if the rungs' share ended it
    best = ladder._finish(first)
    step = ladder.steps[-1]
    assert step.name == "longer" and step.rule.startswith("the same configuration")
    before = _epoch_losses(tmp_path, "00-epochs")
    after = _epoch_losses(tmp_path, "01-longer")
    # The resumed run counts its epochs on from the best one; its first epoch starts
    # from the kept weights, not from a new model's first-epoch loss.
    assert min(after) == first.best_epochs
    assert after[first.best_epochs] < 0.5 * before[0], (before, after)
    assert after[first.best_epochs] < 1.5 * before[first.best_epochs - 1], (before, after)
    gain = step.val_accuracy - first.accuracy(ladder.labels)
    assert step.kept == (gain >= 0) and step.delta == gain
    if step.kept:
        assert best.best_epochs > first.best_epochs
        assert not np.allclose(best.members[0][0], first.members[0][0])
    else:
        assert best is first


def test_a_best_step_that_stopped_by_its_own_rule_is_not_resumed(tmp_path):
    ladder = _ladder(tmp_path, epochs=2)
    first = ladder._train_step("epochs", "progressive", Config(epochs=2, progressive=True))
    assert not first.cut_short
    assert ladder._finish(first) is first
    assert [step.name for step in ladder.steps] == ["epochs"]


def test_repeated_data_is_the_same_data_without_autotuning():
    from keras_accuracy_kit.ladder.accuracy_ladder import _repeated

    data = tf.data.Dataset.range(5).batch(2).prefetch(tf.data.AUTOTUNE)
    repeated = _repeated(data, 3)
    # Destroying an autotuned repeated iterator can take seconds (bench_repeated_fit.py).
    assert repeated.options().autotune.enabled is False
    assert [b.numpy().tolist() for b in repeated.take(6)] == [[0, 1], [2, 3], [4]] * 2
    assert _repeated(data, None) is data  # unknown length: one iterator per epoch
