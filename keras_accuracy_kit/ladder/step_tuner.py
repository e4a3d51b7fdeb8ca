"""A worker's keras-tuner tuner: each trial trains the ladder step it names.

Imported only when the ladder runs across machines (`step_trials.make_worker_tuner`), as
it needs keras-tuner (the `tuner` extra).
"""

import time

import numpy as np

from keras_accuracy_kit._core import keras_compat
from keras_accuracy_kit.ladder import step_trials
from keras_accuracy_kit.ladder.ladder_oracle import LadderOracle

keras_tuner = step_trials.import_keras_tuner()
TrialStatus = keras_tuner.engine.trial.TrialStatus


class ChiefGone(keras_tuner.errors.FatalError):
    """The chief stopped answering: the worker leaves (keras-tuner would wait forever)."""


class StepTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """Trains the steps the chief's `LadderOracle` hands out, until it says STOPPED.

    Args:
        ladder: The worker's `_Ladder` (the chief's data and arguments).
        shared: The shared directory (requests in, results out).
        tuner_id: This worker's id.
        scratch: A directory of its own for keras-tuner's records.
        check_chief: Callable raising TimeoutError when the chief no longer answers.
    """

    def __init__(self, ladder, shared, tuner_id, scratch, check_chief):
        super().__init__(
            oracle=LadderOracle(scratch),
            directory=scratch,
            project_name=step_trials.PROJECT_NAME,
            overwrite=True,
        )
        self.ladder, self.shared, self.worker_id = ladder, shared, tuner_id
        self.check_chief = check_chief
        self.trials_run = []

    def run_trial(self, trial, *args, **kwargs):
        key = trial.hyperparameters.values["step"]
        request, fingerprint = step_trials.read_request(self.shared, key)
        self._check_fingerprint(fingerprint)
        self.trials_run.append(key)
        if step_trials.is_cancelled(self.shared, key):
            return {step_trials.OBJECTIVE: 0.0}
        recorder = step_trials.EventRecorder()
        cancellation = step_trials.Cancellation(self.shared, key)
        started = time.time()
        try:
            trained = self.ladder.train_members(
                request,
                observers=[recorder, cancellation],
                budget=step_trials.mirrored_budget(request),
            )
        except step_trials.StepCancelled:
            self._check_chief_or_leave()
            step_trials.write_abandoned(self.shared, key, self.worker_id, started)
            return {step_trials.OBJECTIVE: 0.0}
        self._check_chief_or_leave()  # before reporting: keras-tuner's call never times out
        step_trials.write_result(
            self.shared, key, trained, recorder.events, self.worker_id, started
        )
        accuracy = float(np.mean(trained.probabilities.argmax(-1) == self.ladder.labels))
        return {step_trials.OBJECTIVE: accuracy}

    def search(self, *args, **kwargs):
        """keras-tuner's worker loop, polling gently while the oracle is IDLE and leaving
        when the chief is gone."""
        self.on_search_begin()
        pause = 0.02
        try:
            while True:
                self.check_chief()
                trial = self.oracle.create_trial(self.tuner_id)
                if trial.status == TrialStatus.STOPPED:
                    break
                if trial.status == TrialStatus.IDLE:
                    time.sleep(pause)
                    pause = min(0.2, 2 * pause)
                    continue
                pause = 0.02
                self.on_trial_begin(trial)
                keras_compat.run_and_update_trial(self, trial)
                self.on_trial_end(trial)
        except ChiefGone as error:
            raise TimeoutError(str(error)) from None
        self.on_search_end()

    def _check_fingerprint(self, fingerprint):
        if fingerprint != self.ladder.fingerprint():
            raise keras_tuner.errors.FatalError(
                "kit.improve: a worker's data and arguments must be the chief's. "
                f"Received: fingerprint {self.ladder.fingerprint()} on worker "
                f"{self.worker_id}, {fingerprint} on the chief. Start the worker with the "
                "same data, build function, seed, folds and batch size."
            )

    def _check_chief_or_leave(self):
        try:
            self.check_chief()
        except TimeoutError as error:
            raise ChiefGone(str(error)) from None
