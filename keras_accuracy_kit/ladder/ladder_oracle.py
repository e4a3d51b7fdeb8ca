"""The chief's keras-tuner oracle: hands out the ladder's steps as trials.

Imported only when the ladder runs across machines (`step_trials.make_oracle`), as it
needs keras-tuner (the `tuner` extra).
"""

from keras_accuracy_kit._core import keras_compat
from keras_accuracy_kit.ladder.step_trials import (
    MAX_RETRIES,
    OBJECTIVE,
    PROJECT_NAME,
    import_keras_tuner,
)

keras_tuner = import_keras_tuner()
TrialStatus = keras_tuner.engine.trial.TrialStatus
synchronized = keras_tuner.synchronized


class LadderOracle(keras_tuner.Oracle):
    """Hands out the ladder's steps: required ones first, then the speculative ones.

    `populate_space` returns RUNNING with `{"step": key}`, IDLE while nothing is queued,
    and STOPPED once the ladder is done. keras-tuner does the rest: the trial records,
    and the retry of a trial ended INVALID (a crash, or a worker the chief found dead) by
    the next worker that asks.

    Args:
        directory: The directory of its records (keras-tuner's project `PROJECT_NAME`
            inside it): the shared directory on the chief, a scratch one on a worker.
    """

    def __init__(self, directory):
        super().__init__(
            objective=keras_tuner.Objective(OBJECTIVE, "max"),
            max_retries_per_trial=MAX_RETRIES,
            max_consecutive_failed_trials=10**9,  # a cancelled step is no failure
            seed=1,
        )
        self.verbose = 0  # the ladder prints its own lines
        self.required, self.speculative = [], []
        self.trial_of = {}  # step key -> trial id
        self.stopping = False
        keras_compat.set_oracle_directory(self, directory, PROJECT_NAME)

    def populate_space(self, trial_id):
        if self.stopping:
            return {"status": "STOPPED"}
        for queue in (self.required, self.speculative):
            while queue:
                key = queue.pop(0)
                if self._startable(key):
                    self.trial_of[key] = trial_id
                    return {"status": "RUNNING", "values": {"step": key}}
        return {"status": "IDLE"}

    def _startable(self, key):
        trial_id = self.trial_of.get(key)
        if trial_id is None:
            return True
        return str(self.trials[trial_id].status) in ("COMPLETED", "FAILED")

    @synchronized
    def require(self, key):
        """Puts `key` first (unless it runs or waits for a retry)."""
        if key in self.required:
            self.required.remove(key)
        if self._startable(key):
            # A new trial: the ended one (cancelled, or failed as a speculative step) no
            # longer tells the step's status.
            self.trial_of.pop(key, None)
            self.required.insert(0, key)

    @synchronized
    def speculate(self, keys):
        self.speculative = [key for key in keys if self._startable(key)]

    @synchronized
    def status(self, key):
        """`None` (not started), or the step's trial status and message."""
        trial_id = self.trial_of.get(key)
        if trial_id is None:
            return None, None
        trial = self.trials[trial_id]
        return str(trial.status), trial.message

    @synchronized
    def running_steps(self):
        return {
            tuner_id: trial.hyperparameters.values.get("step")
            for tuner_id, trial in self.ongoing_trials.items()
        }

    @synchronized
    def end_dead(self, tuner_id, message):
        """Ends the trial of a worker that stopped answering: INVALID, so retried."""
        trial = self.ongoing_trials.get(tuner_id)
        self.tuner_ids.discard(tuner_id)
        if trial is None:
            return
        trial.status = TrialStatus.INVALID
        trial.message = message
        self.end_trial(trial)

    @synchronized
    def stop(self):
        self.stopping = True
        self.required, self.speculative = [], []
        keras_compat.clear_oracle_retries(self)

    @synchronized
    def known_workers(self):
        """The ids of the workers that asked for a trial and were not told to stop."""
        return set(self.tuner_ids) | set(self.ongoing_trials)

    @synchronized
    def finished(self):
        return not self.ongoing_trials and not self.tuner_ids
