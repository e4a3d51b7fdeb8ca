"""The ladder across machines: keras-tuner's chief and workers train its steps.

The chief runs the ladder as in one process (the decisions, the history, the TensorBoard
runs, the finish) but hands each step's training to keras-tuner workers as a trial of its
`LadderOracle` (`ladder_oracle.py`; the workers' tuner is `step_tuner.py`, the shared
files `step_trials.py`), waits for the trained weights in the shared directory and
records them. A step's members (its folds or seeds) train together on one worker,
exactly as `_Ladder.train_members` trains them in one process: their training length
and learning rate follow the members' mean validation loss, so they are one unit of
work, and the same seeds give the same results (`tests/ladder/test_distributed_ladder.py`).

The parallelism is speculative: while a step trains, idle workers train the steps the
ladder will ask for next if it is not kept (the rung's other candidates, the next rungs'
candidates on the same best configuration, the ensemble's seeds), each a pure function
of its request. A step the ladder no longer needs is cancelled; one it asks for later is
taken from the shared directory, so a chief that is started again over the same
directory re-reads every step already trained instead of training it again.
"""

import dataclasses
import json
import logging
import os
import shutil
import socket
import tempfile
import time

from keras_accuracy_kit._core import atomic, checks, tuner_cluster
from keras_accuracy_kit._core.checks import ensure_writable_directory
from keras_accuracy_kit.ladder import members as members_lib
from keras_accuracy_kit.ladder import step_trials
from keras_accuracy_kit.ladder.executors import TrainedStep

_OWNER = "kit.improve"
_SETTINGS = "kit.ladder.Distributed"
logger = logging.getLogger("keras_accuracy_kit.ladder")
_WORKER_HINT = (
    "Start the chief first (`kak improve ... --chief --directory SHARED` or "
    "`kit.improve(..., distributed=kit.ladder.Distributed('chief', SHARED))`) with the "
    "same directory, or give its address (`oracle_ip`/`oracle_port`, "
    "KERASTUNER_ORACLE_IP/PORT)."
)


@dataclasses.dataclass(frozen=True)
class Distributed:
    """Where this process stands when `kit.improve` runs across machines.

    The conventions are `kit.search.tune`'s: the chief binds `oracle_ip:oracle_port`
    (port 0: a free one) and publishes the address in `directory`; workers read it
    there and wait at most `timeout` seconds for the chief. keras-tuner's variables
    (`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`, `KERASTUNER_TUNER_ID`) fill in
    the address and the worker's id when they are not given.

    Start the chief and any number of workers with the same data and `kit.improve`
    arguments; the workers' own `logdir` and `directory` are not used (they write the
    trained steps to the shared `directory` only).

    Args:
        role: `"chief"` (runs the ladder, writes the history and TensorBoard runs) or
            `"worker"` (trains the steps the chief hands out).
        directory: Path shared by the chief and the workers (on several machines, a
            network file system).
        oracle_ip: String. The chief's address. Defaults to `KERASTUNER_ORACLE_IP` or
            `"127.0.0.1"`.
        oracle_port: Int. The chief's port; 0 picks a free one (and workers read it
            from `directory`). Defaults to `KERASTUNER_ORACLE_PORT` or `0`.
        tuner_id: Optional string. A worker's id. Defaults to `KERASTUNER_TUNER_ID` or
            `"worker-<host>-<pid>"`.
        timeout: Positive float. Seconds a worker waits for the chief, and the chief for
            a worker. Defaults to `120`.
        heartbeat_timeout: Positive float. Seconds after which a worker that stopped
            sending heartbeats (one a second) is dead: its step goes to another worker.
            Defaults to `30`.

    Example:

    ```python
    # on the chief
    result = kit.improve(build, train, validation, budget="1h",
                         distributed=kit.ladder.Distributed("chief", "/shared/ladder"))
    # on each worker, with the same data and arguments
    kit.improve(build, train, validation, budget="1h",
                distributed=kit.ladder.Distributed("worker", "/shared/ladder"))
    ```
    """

    role: str
    directory: str
    oracle_ip: str = None
    oracle_port: int = None
    tuner_id: str = None
    timeout: float = 120.0
    heartbeat_timeout: float = 30.0

    def __post_init__(self):
        tuner_cluster.check_settings(
            _SETTINGS, self.role, self.oracle_ip, self.oracle_port, self.tuner_id, self.timeout,
            allow_none=True,
        )  # fmt: skip
        if not isinstance(self.directory, (str, os.PathLike)) or not os.fspath(self.directory):
            raise ValueError(
                f"{_SETTINGS}: `directory` must be a path shared by the chief and the "
                f"workers. Received: directory={self.directory!r}."
            )
        checks.check_number(
            _SETTINGS, "heartbeat_timeout", self.heartbeat_timeout,
            low=3 * step_trials.HEARTBEAT_SECONDS,
            expectation=f"at least {3 * step_trials.HEARTBEAT_SECONDS:g} s (workers beat "
            f"every {step_trials.HEARTBEAT_SECONDS:g} s)",
            fix="E.g. heartbeat_timeout=30.",
        )  # fmt: skip

    @classmethod
    def resolve(cls, value):
        """`None` (one process) or a `Distributed`; anything else is refused."""
        if value is None or isinstance(value, cls):
            return value
        raise TypeError(
            f"{_OWNER}: `distributed` must be None or a kit.ladder.Distributed. Received: "
            f"distributed={value!r}. E.g. distributed=kit.ladder.Distributed('chief', "
            "'/shared/ladder')."
        )

    def address(self):
        """`(ip, port)`, keras-tuner's variables filling in what is not given."""
        ip = self.oracle_ip or os.environ.get("KERASTUNER_ORACLE_IP") or "127.0.0.1"
        port = self.oracle_port
        if port is None:
            port = int(os.environ.get("KERASTUNER_ORACLE_PORT", "0") or 0)
        return ip, port

    def worker_id(self):
        return (
            self.tuner_id
            or os.environ.get("KERASTUNER_TUNER_ID")
            or f"worker-{socket.gethostname()}-{os.getpid()}"
        )


def run_chief(ladder, settings):
    """Runs `ladder` with its steps trained by workers; returns its `ImproveResult`."""
    step_trials.import_keras_tuner()  # the install hint, before modules that need it
    from keras_accuracy_kit.ladder.ladder_oracle import LadderOracle

    shared = ensure_writable_directory(_OWNER, "distributed.directory", settings.directory)
    # The oracle's records and the heartbeats are this run's; trained steps are kept.
    shutil.rmtree(os.path.join(shared, step_trials.PROJECT_NAME), ignore_errors=True)
    shutil.rmtree(os.path.join(shared, "heartbeats"), ignore_errors=True)
    oracle = LadderOracle(shared)
    ip, port = settings.address()
    server, _, port = tuner_cluster.serve(oracle, ip, port, shared, _OWNER, max_workers=4)
    logger.info("chief: serving the ladder's steps on %s:%d (published in %s)", ip, port, shared)
    executor = ChiefExecutor(ladder, oracle, shared, settings, (ip, port), server)
    ladder.executor = executor
    try:
        return ladder.run()
    finally:
        executor.close()


def run_worker(make_ladder, settings):
    """Trains the steps the chief hands out until it is done; returns None.

    Raises:
        TimeoutError: when no chief answers within `settings.timeout` seconds.
    """
    step_trials.import_keras_tuner()
    from keras_accuracy_kit.ladder.step_tuner import StepTuner

    shared = os.fspath(settings.directory)
    ip, port = settings.address()
    if not port:
        ip, port = tuner_cluster.read_address(shared, settings.timeout, _OWNER, _WORKER_HINT)
    tuner_id = tuner_cluster.check_worker_id(
        _SETTINGS, settings.worker_id(), source=" (KERASTUNER_TUNER_ID)"
    )

    def check_chief():
        tuner_cluster.wait_for_chief(ip, port, settings.timeout, _OWNER, "kak improve")

    check_chief()
    scratch = tempfile.mkdtemp(prefix="kit-improve-worker-")
    try:
        # The worker's own logdir and history are throwaway: only the chief writes them.
        ladder = make_ladder(
            logdir=os.path.join(scratch, "runs"), directory=os.path.join(scratch, "history")
        )
        with tuner_cluster.tuner_environment(tuner_id, ip, port):
            tuner = StepTuner(ladder, shared, tuner_id, scratch, check_chief)
            with step_trials.Heartbeat(shared, tuner_id):
                tuner.search()
        logger.info("worker %s trained %d step(s)", tuner_id, len(tuner.trials_run))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None


class ChiefExecutor:
    """The ladder's executor on the chief: each step a trial of the `LadderOracle`.

    Args:
        ladder: The `_Ladder`.
        oracle: The `LadderOracle` the server serves.
        shared: The shared directory.
        settings: The `Distributed` settings.
        address: `(ip, port)` served.
        server: The gRPC server (stopped by `close`).
    """

    speculates = True
    #: Seconds between the chief's looks at the shared directory and the workers.
    POLL_SECONDS = 0.05

    def __init__(self, ladder, oracle, shared, settings, address, server):
        self.ladder, self.oracle, self.shared = ladder, oracle, shared
        self.settings, self.address, self.server = settings, address, server
        self.fingerprint = ladder.fingerprint()
        self.hints = []
        self.beats = {}  # tuner id -> (last heartbeat read, when it changed)
        self.last_worker_seen = time.monotonic()
        self.asked = {}  # step key -> wall-clock time the ladder asked for it

    # What the ladder calls -----------------------------------------------------------------

    def expect(self, requests):
        """Queues `requests` (most likely first) for idle workers, in place of the last."""
        keys = []
        for request in requests:
            key = request.key(self.fingerprint)
            if key in keys or step_trials.has_result(self.shared, key):
                continue
            self._publish(request, key)
            keys.append(key)
        self.hints = keys
        self.oracle.speculate(keys)

    def train(self, request, observers=()):
        key = request.key(self.fingerprint)
        if request.finishing:  # the ensemble's next seeds of this configuration come next
            self.expect(
                [dataclasses.replace(request, seed_offset=request.seed_offset + i) for i in (1, 2)]
            )
        self._cancel_unwanted(key)
        self.asked[key] = time.time()
        if not step_trials.has_result(self.shared, key):
            self._publish(request, key, force=self.oracle.status(key)[0] is None)
            step_trials.uncancel(self.shared, key)
            self.oracle.require(key)
            self._wait(key)
        return self._materialize(request, key, observers)

    def close(self):
        """Tells the workers to stop (their running steps cancelled), waits for them to
        leave (at most `timeout`, dead ones not waited for), stops serving."""
        self.oracle.stop()
        # When the ladder asked for each step (with the workers' times in the results: a
        # timeline of what was trained ahead).
        atomic.atomic_write_bytes(
            os.path.join(self.shared, "asked.json"), json.dumps(self.asked).encode()
        )
        for key in self.oracle.running_steps().values():
            step_trials.cancel(self.shared, key)
        deadline = time.monotonic() + self.settings.timeout
        try:
            while not self.oracle.finished() and time.monotonic() < deadline:
                self._check_workers()
                time.sleep(self.POLL_SECONDS)
        finally:
            self.server.stop(grace=1.0).wait()
            try:
                os.remove(tuner_cluster.address_path(self.shared))
            except FileNotFoundError:
                pass

    # The rest ------------------------------------------------------------------------------

    def _publish(self, request, key, force=False):
        path = os.path.join(step_trials.step_directory(self.shared, key), "request.json")
        if force or not os.path.exists(path):
            step_trials.write_request(self.shared, key, request, self.fingerprint)

    def _cancel_unwanted(self, key):
        wanted = set(self.hints) | {key}
        for running in self.oracle.running_steps().values():
            if running not in wanted:
                step_trials.cancel(self.shared, running)

    def _wait(self, key):
        while not step_trials.has_result(self.shared, key):
            status, message = self.oracle.status(key)
            if status == "FAILED":
                reason = (message or "").strip().splitlines()[-1:] or ["no message"]
                raise RuntimeError(
                    f"{_OWNER}: a step failed on the workers {step_trials.MAX_RETRIES + 1} "
                    f"times. Received: {reason[0]}. The worker's full traceback is in "
                    f"{os.path.join(self.shared, step_trials.PROJECT_NAME)}."
                )
            if status == "COMPLETED":  # cancelled before it was needed: train it again
                step_trials.uncancel(self.shared, key)
                self.oracle.require(key)
            self._check_workers()
            time.sleep(self.POLL_SECONDS)

    def _check_workers(self):
        """Ends the trials of workers whose heartbeat stopped; raises TimeoutError when no
        worker has been seen for `timeout` seconds."""
        now = time.monotonic()
        known = self.oracle.known_workers()
        if known:
            self.last_worker_seen = now
        elif now - self.last_worker_seen > self.settings.timeout and not self.oracle.stopping:
            ip, port = self.address
            raise TimeoutError(
                f"{_OWNER}: no worker asked the chief for a step within "
                f"{self.settings.timeout:g} s. Received: the chief at {ip}:{port}. Start "
                "workers (`kak improve ... --worker --directory SHARED`) with the same "
                "directory, data and arguments, or raise `timeout`."
            )
        for tuner_id in known:
            beat = step_trials.read_heartbeat(self.shared, tuner_id)
            seen = self.beats.get(tuner_id)
            if seen is None or seen[0] != beat:
                self.beats[tuner_id] = (beat, now)
            elif now - seen[1] > self.settings.heartbeat_timeout:
                message = (
                    f"worker {tuner_id} sent no heartbeat for "
                    f"{self.settings.heartbeat_timeout:g} s"
                )
                logger.warning("chief: %s; its step goes to another worker", message)
                self.oracle.end_dead(tuner_id, message)
                self.beats.pop(tuner_id)

    def _materialize(self, request, key, observers):
        """The trained step on the chief: models with its weights, its logs, the report
        replayed."""
        payload, probabilities, weights = step_trials.read_result(self.shared, key)
        ladder = self.ladder
        joint, members = ladder._fresh_members(
            request.config, request.num_members, request.seed_offset, initialize=False
        )
        for member, member_weights in zip(members, weights):
            member.set_weights(member_weights)
        member_logs = members_lib.MemberLogs(
            request.num_members, weights=ladder.evidence.fold_sizes()
        )
        member_logs.epoch_logs = payload["epoch_logs"]
        member_logs.epoch_times = payload["epoch_times"]
        member_logs.set_params(payload["params"])
        step_trials.replay(payload["events"], list(observers), joint, payload["params"])
        return TrainedStep(
            joint=joint,
            members=members,
            member_logs=member_logs,
            stopped=payload["stopped"],
            refit_arguments=payload["refit_arguments"],
            probabilities=probabilities,
        )
