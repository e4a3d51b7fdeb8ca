"""Ladder steps as keras-tuner trials: the chief's oracle, the workers' tuner, the files.

The shared directory holds, per step (named by its `StepRequest.key`),
`steps/<key>/request.json` (written by the chief), `result.npz` and `result.json`
(written by the worker that trained it, each atomically; `result.json` last, so it
marks a complete result) and `cancelled` (the chief no longer wants it). Workers write
`heartbeats/<tuner_id>` every second: a worker whose heartbeat stops while it runs a
trial is dead, and the chief ends that trial as INVALID, which keras-tuner's oracle
sends back for retry to the next worker that asks (`max_retries_per_trial`).
"""

import io
import json
import math
import os
import threading
import time

import keras
import numpy as np

from keras_accuracy_kit._core import atomic
from keras_accuracy_kit.ladder.budget import Budget
from keras_accuracy_kit.ladder.executors import StepRequest

#: The metric a worker reports for a step (its judged accuracy; cancelled steps report 0).
OBJECTIVE = "judged_accuracy"
#: Times keras-tuner runs a step again after its worker died or it crashed.
MAX_RETRIES = 3
#: Seconds between a worker's heartbeats.
HEARTBEAT_SECONDS = 1.0
#: The keras-tuner project (oracle and trial records) inside the shared directory.
PROJECT_NAME = "oracle"
INSTALL_HINT = 'pip install "keras-accuracy-kit[tuner]"'


def import_keras_tuner():
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError(
            "kit.improve: `keras_tuner` must be installed to run the ladder across "
            f"machines (`distributed=`). Received: ImportError({error}). Install the "
            f"tuner extra: {INSTALL_HINT}"
        ) from error
    return keras_tuner


# Files -------------------------------------------------------------------------------------


def step_directory(shared, key):
    return os.path.join(shared, "steps", key)


def write_request(shared, key, request, fingerprint):
    payload = json.dumps({"request": request.to_json(), "fingerprint": fingerprint})
    atomic.atomic_write_bytes(os.path.join(step_directory(shared, key), "request.json"),
                              payload.encode())  # fmt: skip


def read_request(shared, key):
    with open(os.path.join(step_directory(shared, key), "request.json")) as stream:
        payload = json.load(stream)
    return StepRequest.from_json(payload["request"]), payload["fingerprint"]


def has_result(shared, key):
    return os.path.exists(os.path.join(step_directory(shared, key), "result.json"))


def write_result(shared, key, trained, events, tuner_id, started):
    """Writes a trained step: the members' weights and judged probabilities (`.npz`),
    then its logs (`.json`, the completion mark)."""
    arrays = {"probabilities": np.asarray(trained.probabilities)}
    for index, member in enumerate(trained.members):
        for position, weight in enumerate(member.get_weights()):
            arrays[f"member{index}_{position}"] = weight
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    directory = step_directory(shared, key)
    atomic.atomic_write_bytes(os.path.join(directory, "result.npz"), buffer.getvalue())
    logs = trained.member_logs
    payload = {
        "num_members": len(trained.members),
        "epoch_logs": [_floats(entry) for entry in logs.epoch_logs],
        "epoch_times": [float(value) for value in logs.epoch_times],
        "params": _json_safe(logs.params or {}),
        "stopped": bool(trained.stopped),
        "refit_arguments": _json_safe(trained.refit_arguments),
        "events": events,
        "tuner_id": tuner_id,
        "started": started,  # wall-clock times of the training, for timelines
        "finished": time.time(),
    }
    atomic.atomic_write_bytes(
        os.path.join(directory, "result.json"), json.dumps(payload).encode()
    )


def read_result(shared, key):
    """`(payload, probabilities, weights per member)` of a written step."""
    directory = step_directory(shared, key)
    with open(os.path.join(directory, "result.json")) as stream:
        payload = json.load(stream)
    with np.load(os.path.join(directory, "result.npz")) as arrays:
        probabilities = arrays["probabilities"]
        weights = []
        for index in range(payload["num_members"]):
            names = sorted(
                (name for name in arrays.files if name.startswith(f"member{index}_")),
                key=lambda name: int(name.rsplit("_", 1)[1]),
            )
            weights.append([arrays[name] for name in names])
    return payload, probabilities, weights


def cancel(shared, key):
    path = os.path.join(step_directory(shared, key), "cancelled")
    if not os.path.exists(path):
        atomic.atomic_write_bytes(path, b"")


def is_cancelled(shared, key):
    return os.path.exists(os.path.join(step_directory(shared, key), "cancelled"))


def uncancel(shared, key):
    try:
        os.remove(os.path.join(step_directory(shared, key), "cancelled"))
    except FileNotFoundError:
        pass


def heartbeat_path(shared, tuner_id):
    return os.path.join(shared, "heartbeats", tuner_id)


def read_heartbeat(shared, tuner_id):
    try:
        with open(heartbeat_path(shared, tuner_id)) as stream:
            return stream.read()
    except OSError:
        return None


def _floats(logs):
    values = {}
    for name, value in (logs or {}).items():
        try:
            values[str(name)] = float(value)
        except (TypeError, ValueError):
            continue
    return values


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


# The chief's oracle ------------------------------------------------------------------------


def make_oracle(shared):
    """The chief's `LadderOracle` (a keras-tuner `Oracle`), its records in `shared`."""
    keras_tuner = import_keras_tuner()
    from keras_tuner.src.engine.trial import TrialStatus

    synchronized = keras_tuner.synchronized

    class LadderOracle(keras_tuner.Oracle):
        """Hands out the ladder's steps: required ones first, then the speculative ones.

        `populate_space` returns RUNNING with `{"step": key}`, IDLE while nothing is
        queued, and STOPPED once the ladder is done. keras-tuner does the rest: the
        trial records, and the retry of a trial ended INVALID (a crash, or a worker the
        chief found dead) by the next worker that asks.
        """

        def __init__(self):
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
                # A new trial: the ended one (cancelled, or failed as a speculative step)
                # no longer tells the step's status.
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
            self._retry_queue.clear()

        @synchronized
        def known_workers(self):
            """The ids of the workers that asked for a trial and were not told to stop."""
            return set(self.tuner_ids) | set(self.ongoing_trials)

        @synchronized
        def finished(self):
            return not self.ongoing_trials and not self.tuner_ids

    oracle = LadderOracle()
    oracle._set_project_dir(shared, PROJECT_NAME)
    return oracle


# The workers' tuner ------------------------------------------------------------------------


class EventRecorder(keras.callbacks.Callback):
    """Records what the step's report would have seen: train begin and epoch logs
    (after every other callback), for the chief to replay."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(["begin"])

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(["epoch", int(epoch), _floats(logs)])


class Cancellation(keras.callbacks.Callback):
    """Stops `fit` soon after the chief marks the step `cancelled` (checked twice a second)."""

    def __init__(self, shared, key):
        super().__init__()
        self.shared, self.key = shared, key
        self.cancelled = False
        self._checked = 0.0

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if now - self._checked < 0.5:
            return
        self._checked = now
        if is_cancelled(self.shared, self.key):
            self.cancelled = True
            self.model.stop_training = True


def replay(events, observers, joint, params):
    """Gives `observers` (the step's report) what they would have seen during `fit`."""
    for observer in observers:
        observer.set_model(joint)
        observer.set_params(params)
    for event in events:
        for observer in observers:
            if event[0] == "begin":
                observer.on_train_begin()
            else:
                observer.on_epoch_end(event[1], dict(event[2]))


def mirrored_budget(request):
    """A `Budget` (on the wall clock) bounding the step as the chief's did when asking."""
    budget = Budget(None, clock=time.time)
    budget.start = request.budget_start
    budget.seconds = request.budget_seconds
    budget.reserve = request.budget_reserve
    budget.epochs_left = request.epochs_left
    budget.epochs_total = math.inf
    return budget


def make_worker_tuner(ladder, shared, tuner_id, scratch, check_chief):
    """A keras-tuner tuner whose `run_trial` trains the step the trial names."""
    keras_tuner = import_keras_tuner()
    from keras_tuner.src.engine.trial import TrialStatus
    from keras_tuner.src.engine.base_tuner import BaseTuner

    class ChiefGone(keras_tuner.errors.FatalError):
        """The chief stopped answering: the worker leaves (keras-tuner would wait forever)."""

    def check_chief_or_leave():
        try:
            check_chief()
        except TimeoutError as error:
            raise ChiefGone(str(error)) from None

    class StepTuner(BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            key = trial.hyperparameters.values["step"]
            request, fingerprint = read_request(shared, key)
            if fingerprint != ladder.fingerprint():
                raise keras_tuner.errors.FatalError(
                    "kit.improve: a worker's data and arguments must be the chief's. "
                    f"Received: fingerprint {ladder.fingerprint()} on worker {tuner_id}, "
                    f"{fingerprint} on the chief. Start the worker with the same data, "
                    "build function, seed, folds and batch size."
                )
            self.trials_run.append(key)
            if is_cancelled(shared, key):
                return {OBJECTIVE: 0.0}
            recorder, cancellation = EventRecorder(), Cancellation(shared, key)
            started = time.time()
            trained = ladder.train_members(
                request, observers=[recorder, cancellation], budget=mirrored_budget(request)
            )
            check_chief_or_leave()  # before reporting: keras-tuner's call never times out
            if cancellation.cancelled:
                return {OBJECTIVE: 0.0}
            write_result(shared, key, trained, recorder.events, tuner_id, started)
            accuracy = float(np.mean(trained.probabilities.argmax(-1) == ladder.labels))
            return {OBJECTIVE: accuracy}

        def search(self, *args, **kwargs):
            """keras-tuner's worker loop, polling gently while the oracle is IDLE and
            leaving when the chief is gone."""
            self.on_search_begin()
            pause = 0.02
            try:
                while True:
                    check_chief()
                    trial = self.oracle.create_trial(self.tuner_id)
                    if trial.status == TrialStatus.STOPPED:
                        break
                    if trial.status == TrialStatus.IDLE:
                        time.sleep(pause)
                        pause = min(0.2, 2 * pause)
                        continue
                    pause = 0.02
                    self.on_trial_begin(trial)
                    self._try_run_and_update_trial(trial)
                    self.on_trial_end(trial)
            except ChiefGone as error:
                raise TimeoutError(str(error)) from None
            self.on_search_end()

    tuner = StepTuner(
        oracle=make_oracle(scratch), directory=scratch, project_name=PROJECT_NAME, overwrite=True
    )
    tuner.trials_run = []
    return tuner


class Heartbeat:
    """Writes `heartbeats/<tuner_id>` (a counter) every `HEARTBEAT_SECONDS`, in a thread."""

    def __init__(self, shared, tuner_id):
        self.path = heartbeat_path(shared, tuner_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kit-heartbeat")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        count = 0
        while True:
            count += 1
            try:
                atomic.atomic_write_bytes(self.path, str(count).encode())
            except OSError:
                pass
            if self._stop.wait(HEARTBEAT_SECONDS):
                return
