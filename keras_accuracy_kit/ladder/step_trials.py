"""Ladder steps as keras-tuner trials: the shared files and what a worker's training records.

The shared directory holds, per step (named by its `StepRequest.key`),
`steps/<key>/request.json` (written by the chief), `result.npz` and `result.json`
(written by the worker that trained it, each atomically; `result.json` last, so it
marks a complete result), `cancelled` (the chief no longer wants it) and
`abandoned-*.json` (a worker stopped training it when it was cancelled). Workers write
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


def write_abandoned(shared, key, tuner_id, started):
    """Records a training the chief cancelled (`abandoned-<tuner_id>-<ms>.json`: who,
    from when to when), for timelines of the time speculation cost."""
    payload = {"tuner_id": tuner_id, "started": started, "finished": time.time()}
    name = f"abandoned-{tuner_id}-{int(started * 1000)}.json"
    atomic.atomic_write_bytes(
        os.path.join(step_directory(shared, key), name), json.dumps(payload).encode()
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


# What a worker's training records and obeys -----------------------------------------------


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


class StepCancelled(Exception):
    """Raised out of `fit` by `Cancellation`: the chief no longer wants the step."""


class Cancellation(keras.callbacks.Callback):
    """Ends `fit` soon after the chief marks the step `cancelled` (checked when training
    starts, then after a batch at most every `every` seconds), by raising
    `StepCancelled`: a cancelled step neither validates nor predicts, and its worker is
    free at once for the next one."""

    def __init__(self, shared, key, every=0.5):
        super().__init__()
        self.shared, self.key, self.every = shared, key, every
        self._checked = -math.inf

    def on_train_begin(self, logs=None):
        self._check(force=True)

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def on_test_batch_end(self, batch, logs=None):
        self._check()

    def _check(self, force=False):
        now = time.monotonic()
        if not force and now - self._checked < self.every:
            return
        self._checked = now
        if is_cancelled(self.shared, self.key):
            raise StepCancelled(self.key)


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
