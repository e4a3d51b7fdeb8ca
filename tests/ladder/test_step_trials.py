"""The pieces of the distributed ladder that need no training: requests, settings, oracle."""

import math

import keras
import numpy as np
import pytest

from keras_accuracy_kit.ladder import Config, Distributed
from keras_accuracy_kit.ladder import step_trials
from keras_accuracy_kit.ladder.executors import StepRequest
from keras_accuracy_kit.ladder.ladder_oracle import LadderOracle


def request(**changes):
    values = dict(
        config=Config(epochs=3, augment={"rotation_range": 10}),
        num_members=2,
        seed_offset=0,
        finishing=False,
        max_epochs=3,
        epochs_left=math.inf,
        budget_seconds=90.0,
        budget_start=1000.0,
        budget_reserve=2.0,
    )
    values.update(changes)
    return StepRequest(**values)


def test_a_request_round_trips_through_json():
    original = request(epochs_left=150)
    assert StepRequest.from_json(original.to_json()) == original
    unbounded = request()
    assert StepRequest.from_json(unbounded.to_json()).epochs_left == math.inf


def test_the_key_names_the_training_not_the_moment_it_is_asked_for():
    key = request().key("ladder")
    # The time bounds only cut a step short: not part of what is trained.
    assert request(budget_start=2000.0, budget_reserve=9.0).key("ladder") == key
    # What training sees is: the epochs it may run (max_epochs or what the budget leaves).
    assert request(epochs_left=100).key("ladder") == key  # 3 epochs either way
    assert request(epochs_left=2).key("ladder") != key
    assert request(max_epochs=4).key("ladder") != key
    assert request(seed_offset=1).key("ladder") != key
    assert request(finishing=True).key("ladder") != key
    assert request(config=Config(epochs=3)).key("ladder") != key
    assert request().key("another ladder") != key


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(role="boss", directory="d"), r"`role` must be one of \['chief', 'worker'\]"),
        (dict(role="chief", directory=""), "`directory` must be a path"),
        (dict(role="worker", directory="d", oracle_port=70000), "`oracle_port` must be a port"),
        (dict(role="worker", directory="d", oracle_port=-1), "`oracle_port` must be a non-neg"),
        (dict(role="worker", directory="d", oracle_ip=""), "`oracle_ip` must be a host name"),
        (dict(role="worker", directory="d", tuner_id="chief-2"), "must not contain 'chief'"),
        (dict(role="worker", directory="d", timeout=0), "`timeout` must be a positive"),
        (dict(role="worker", directory="d", heartbeat_timeout=1), "at least 3 s"),
        (dict(role="worker", directory="d", heartbeat_timeout="30"), "at least 3 s"),
    ],
)
def test_distributed_refuses_bad_settings(arguments, match):
    with pytest.raises(ValueError, match=match):
        Distributed(**arguments)


def test_distributed_takes_keras_tuners_variables_for_what_is_not_given(monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "10.0.0.7")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker-a")
    settings = Distributed("worker", "shared")
    assert settings.address() == ("10.0.0.7", 8000)
    assert settings.worker_id() == "worker-a"
    given = Distributed("worker", "shared", oracle_ip="127.0.0.1", oracle_port=0, tuner_id="w")
    assert given.address() == ("127.0.0.1", 0)
    assert given.worker_id() == "w"
    with pytest.raises(TypeError, match="`distributed` must be None or a kit.ladder.Distributed"):
        Distributed.resolve("chief")


def test_the_oracle_hands_out_required_steps_first_then_speculative_ones(tmp_path):
    oracle = LadderOracle(str(tmp_path))
    assert str(oracle.create_trial("w0").status) == "IDLE"  # nothing asked for yet
    oracle.speculate(["next", "after"])
    oracle.require("now")
    handed = [oracle.create_trial(w).hyperparameters.values["step"] for w in ("w0", "w1")]
    assert handed == ["now", "next"]
    # A running step is not handed out twice; the oracle knows who runs what.
    oracle.require("now")
    assert oracle.running_steps() == {"w0": "now", "w1": "next"}
    assert oracle.status("now")[0] == "RUNNING"
    assert oracle.status("never asked") == (None, None)
    oracle.stop()
    assert str(oracle.create_trial("w2").status) == "STOPPED"


def test_a_dead_workers_step_goes_to_the_next_worker_that_asks(tmp_path):
    oracle = LadderOracle(str(tmp_path))
    oracle.require("step")
    first = oracle.create_trial("w1")
    oracle.end_dead("w1", "worker w1 sent no heartbeat for 5 s")
    assert oracle.status("step")[0] == "INVALID"
    assert "w1" not in oracle.known_workers() and "w1" not in oracle.running_steps()
    # keras-tuner's retry queue: the same trial, to another worker.
    again = oracle.create_trial("w0")
    assert again.trial_id == first.trial_id
    assert again.hyperparameters.values["step"] == "step"
    assert oracle.running_steps() == {"w0": "step"}


class _Recorder:
    """A speculating executor that trains nothing: records what the ladder expects."""

    speculates = True

    def __init__(self):
        self.expected = []

    def expect(self, requests):
        self.expected.append(requests)


def _build(input_shape, num_classes, depth=2):
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(),
         keras.layers.Dense(num_classes, activation="softmax")]
    )  # fmt: skip


def test_the_look_ahead_lists_the_steps_that_follow_a_rejection_and_runs_no_guard(tmp_path):
    from keras_accuracy_kit.ladder import accuracy_ladder, few_shot_digits

    train, validation, _ = few_shot_digits(per_class=5, seed=0)
    ladder = accuracy_ladder._Ladder(
        model=_build, train=train, validation=validation,
        tricks=["input_scale", "epochs", "augment", "learning_rate", "depth"], budget=None,
        logdir=str(tmp_path), directory=None, epochs=3, backbone=None, batch_size=16,
        min_delta="auto", class_names=None, refit=False, folds=2, ensemble=True, tta=False,
        seed=0, verbose=0,
    )  # fmt: skip
    ladder.executor = recorder = _Recorder()
    base = Config(epochs=3)
    input_scale = next(r for r in accuracy_ladder.RUNGS if r.name == "input_scale")
    ladder._expect(input_scale, base, [])
    (requests,) = recorder.expected
    # After input_scale: epochs on the same base; augment needs the guard, which the ladder
    # has not run yet, so the look-ahead stops there (and does not run it).
    assert [(r.config, r.seed_offset, r.finishing) for r in requests] == [
        (Config(epochs=3, progressive=True), 0, False),
        (base, 1, True),  # the ensemble's seeds of the base, should every trick be rejected
        (base, 2, True),
    ]
    assert ladder._guarded is None
    assert all(r.num_members == 2 for r in requests)
    # With the candidate about to train: what follows if it is kept, interleaved.
    normalized = Config(epochs=3, normalize=True)
    ladder._expect(input_scale, base, [], candidate=normalized)
    assert [(r.config, r.seed_offset) for r in recorder.expected[-1]] == [
        (Config(epochs=3, progressive=True), 0),
        (Config(epochs=3, normalize=True, progressive=True), 0),
        (base, 1), (base, 2), (normalized, 1), (normalized, 2),
    ]  # fmt: skip
    # Once the guard has run, the look-ahead goes past augmentation to the later rungs.
    ladder._guarded = ({"rotation_range": 10}, [])
    ladder._expect(input_scale, base, [])
    configs = [r.config for r in recorder.expected[-1] if not r.finishing]
    assert configs == [
        Config(epochs=3, progressive=True),
        Config(epochs=3, progressive=True, augment={"rotation_range": 10}),
        Config(epochs=3, progressive=True, augment={"rotation_range": 10}, reduce_lr=True),
        Config(epochs=3, reduce_lr=True),
        Config(epochs=3, depth=3),
    ]


def test_a_step_asked_for_again_after_its_trial_ended_is_a_new_trial(tmp_path):
    from keras_tuner.engine.trial import TrialStatus

    oracle = LadderOracle(str(tmp_path))
    oracle.speculate(["step"])
    trial = oracle.create_trial("w0")
    trial.status = TrialStatus.FAILED  # e.g. it crashed on every retry while speculative
    oracle.end_trial(trial)
    assert oracle.status("step")[0] == "FAILED"
    oracle.require("step")  # now the ladder needs it: not the old failure's status
    assert oracle.status("step") == (None, None)
    again = oracle.create_trial("w1")
    assert again.trial_id != trial.trial_id
    assert again.hyperparameters.values["step"] == "step"


def test_speculation_puts_the_likeliest_steps_first():
    from keras_accuracy_kit.ladder.executors import speculation_order

    # Keep rate 1/3: if the candidate c is rejected (2/3), x (2/3), y (4/9), w (8/27) and
    # then b's seed (16/81); if it is kept (1/3), z (1/3), v (2/9), c's seed (4/27).
    order = speculation_order("b", ["x", "y", "w"], "c", ["z", "v"], 1 / 3, seeds=(1,))
    assert order == [
        ("x", 0, False), ("y", 0, False), ("z", 0, False), ("w", 0, False),
        ("v", 0, False), ("b", 1, True), ("c", 1, True),
    ]  # fmt: skip
    # Keep rate 1/2: both branches alike, interleaved (ties: the rejected branch first).
    order = speculation_order("b", ["x", "y"], "c", ["z"], 0.5, seeds=(1, 2))
    assert [step[0] for step in order] == ["x", "z", "y", "c", "c", "b", "b"]
    assert [step[1] for step in order] == [0, 0, 0, 1, 2, 1, 2]
    # The baseline: its first follower is certain, a step named twice comes once.
    order = speculation_order("b", ["x", "y", "x"], None, [], 0.9)
    assert order == [("x", 0, False), ("y", 0, False)]


def test_the_keep_rate_follows_the_runs_judged_steps():
    from keras_accuracy_kit.ladder.accuracy_ladder import _Ladder
    from keras_accuracy_kit.ladder.result import Step

    ladder = _Ladder.__new__(_Ladder)  # only `steps` is read
    ladder.steps = [Step("baseline", "as is", val_accuracy=0.9)]
    assert ladder._keep_rate() == 0.5  # nothing judged yet
    ladder.steps += [
        Step("input_scale", "x", val_accuracy=0.8, delta=-0.1),
        Step("depth", "y", val_accuracy=0.95, delta=0.05, kept=True),
        Step("learning_rate", "z", note="skipped"),  # not judged
        Step("ensemble", "seeds", val_accuracy=0.96, delta=0.01, kept=True),  # not a rung
        Step("image_size", "w", val_accuracy=0.94, delta=-0.01),
    ]
    assert ladder._keep_rate() == (1 + 1) / (3 + 2)


class _Batches(keras.callbacks.Callback):
    def __init__(self, shared, key, cancel_at):
        super().__init__()
        self.shared, self.key, self.cancel_at = shared, key, cancel_at
        self.batches, self.validated = 0, False

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.batches == self.cancel_at:
            step_trials.cancel(self.shared, self.key)

    def on_test_begin(self, logs=None):
        self.validated = True


@pytest.mark.parametrize("cancel_at", [0, 3])
def test_a_cancelled_step_leaves_fit_at_once_without_validating(tmp_path, cancel_at):
    key = "k" * 20
    (tmp_path / "steps" / key).mkdir(parents=True)
    if cancel_at == 0:  # cancelled before training starts
        step_trials.cancel(str(tmp_path), key)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    data = np.zeros((64, 2), "float32"), np.zeros((64, 1), "float32")
    counter = _Batches(str(tmp_path), key, cancel_at)
    cancellation = step_trials.Cancellation(str(tmp_path), key, every=0.0)  # every batch
    with pytest.raises(step_trials.StepCancelled):
        model.fit(*data, batch_size=4, epochs=3, validation_data=data, verbose=0,
                  callbacks=[counter, cancellation])  # fmt: skip
    assert counter.batches == cancel_at  # 0: no batch; 3: the batch the mark came after
    assert not counter.validated
