"""The ladder across machines (issue 23): `kak improve --chief | --worker` on 127.0.0.1.

Every process runs `kak improve --dataset digits` with the same arguments (2-fold
cross-validation, an epoch budget so that no decision depends on the clock) and one
intra-op thread, as the issue asks. The reference is the same command in one process: the
chief with two workers must reach its decisions, the same judged accuracy at every step
and the same best accuracy, also when a worker is killed with SIGKILL in the middle of a
step (keras-tuner's oracle runs that step again on the other worker).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

LADDER = [
    "improve", "--dataset", "digits", "--budget", "200", "--epochs", "2", "--folds", "2",
    "--tricks", "input_scale,learning_rate", "--refit", "no", "--no-tta", "--seed", "0",
    "--verbose", "1",
]  # fmt: skip
#: One intra-op thread per process (TensorFlow and oneDNN read these at start-up).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def kak(*arguments):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    environment.update(ONE_THREAD, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(
        [sys.executable, "-m", "keras_accuracy_kit.cli.main", *LADDER, *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process, timeout=400):
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def decisions(path):
    payload = json.loads(path.read_text())
    steps = [(s["name"], s["kept"], s["val_accuracy"], s["epochs"]) for s in payload["steps"]]
    return steps, payload["best_accuracy"]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The reference: started at once, read when a test first needs it."""
    folder = tmp_path_factory.mktemp("one_process")
    process = kak("--logdir", str(folder / "runs"), "--json", str(folder / "result.json"))
    state = {}

    def result():
        if not state:
            code, _, stderr = finish(process)
            assert code == 0, stderr[-3000:]
            state["result"] = decisions(folder / "result.json")
        return state["result"]

    yield result
    if process.poll() is None:
        process.kill()
        process.communicate()


def start_cluster(folder, heartbeat_timeout=30):
    shared = str(folder / "shared")
    chief = kak(
        "--chief", "--directory", shared, "--timeout", "120",
        "--heartbeat-timeout", str(heartbeat_timeout),
        "--logdir", str(folder / "runs"), "--json", str(folder / "chief.json"),
    )  # fmt: skip
    workers = {
        name: kak("--worker", "--directory", shared, "--tuner-id", name, "--timeout", "120")
        for name in ("w0", "w1")
    }
    return shared, chief, workers


def test_chief_and_two_workers_reach_the_decisions_of_one_process(tmp_path, one_process):
    shared, chief, workers = start_cluster(tmp_path)
    try:
        for name, worker in workers.items():
            code, stdout, stderr = finish(worker)
            assert code == 0, (name, stderr[-3000:])
            assert "worker done" in stdout
        code, stdout, stderr = finish(chief)
        assert code == 0, stderr[-3000:]
    finally:
        for process in (chief, *workers.values()):
            if process.poll() is None:
                process.kill()
    steps, best = decisions(tmp_path / "chief.json")
    reference_steps, reference_best = one_process()
    assert [s[:2] for s in steps] == [s[:2] for s in reference_steps]  # the decisions
    assert steps == reference_steps  # and every step's judged accuracy and epochs
    assert best == reference_best
    assert [name for name, *_ in steps][:3] == ["baseline", "input_scale", "learning_rate"]
    assert len(steps) >= 4  # and the ensemble
    # Only the chief wrote the results: its history, its runs, its best model.
    assert (tmp_path / "runs" / "history").is_dir()
    assert (tmp_path / "runs" / "best.keras").is_file()
    # Both workers trained steps, and the chief stopped serving (its address removed).
    trainers = {
        json.loads((step / "result.json").read_text())["tuner_id"]
        for step in (tmp_path / "shared" / "steps").iterdir()
        if (step / "result.json").exists()
    }
    assert trainers == {"w0", "w1"}
    assert not os.path.exists(os.path.join(shared, "oracle_address.json"))

    # A chief started again on the directory (as after a crash) trains nothing again: with
    # no worker at all it records the same ladder from the steps already trained.
    again = kak(
        "--chief", "--directory", shared, "--timeout", "20",
        "--logdir", str(tmp_path / "runs_again"), "--json", str(tmp_path / "again.json"),
    )  # fmt: skip
    code, _, stderr = finish(again)
    assert code == 0, stderr[-3000:]
    assert decisions(tmp_path / "again.json") == (steps, best)
    assert (tmp_path / "runs_again" / "history").is_dir()


def _ongoing(shared):
    """`{tuner_id: step key}` of the trials the chief's oracle records as running."""
    try:
        with open(os.path.join(shared, "oracle", "oracle.json")) as stream:
            ongoing = json.load(stream)["ongoing_trials"]
        found = {}
        for tuner_id, trial_id in ongoing.items():
            path = os.path.join(shared, "oracle", f"trial_{trial_id}", "trial.json")
            with open(path) as stream:
                trial = json.load(stream)
            found[tuner_id] = trial["hyperparameters"]["values"]["step"]
        return found
    except (OSError, ValueError, KeyError):
        return {}


def test_a_worker_killed_mid_step_has_its_step_trained_by_the_other(tmp_path, one_process):
    shared, chief, workers = start_cluster(tmp_path, heartbeat_timeout=5)
    killed_step = None
    try:
        deadline = time.monotonic() + 300
        while killed_step is None and time.monotonic() < deadline:
            killed_step = _ongoing(shared).get("w1")
            time.sleep(0.05)
        assert killed_step is not None, "w1 never ran a step"
        workers["w1"].send_signal(signal.SIGKILL)
        workers["w1"].communicate()
        assert not os.path.exists(os.path.join(shared, "steps", killed_step, "result.json"))
        code, _, stderr = finish(workers["w0"])
        assert code == 0, stderr[-3000:]
        code, _, chief_stderr = finish(chief)
        assert code == 0, chief_stderr[-3000:]
    finally:
        for process in (chief, *workers.values()):
            if process.poll() is None:
                process.kill()
    assert "worker w1 sent no heartbeat for 5 s" in chief_stderr
    steps, best = decisions(tmp_path / "chief.json")
    reference_steps, reference_best = one_process()
    assert steps == reference_steps
    assert best == reference_best
    # The step w1 died in was trained again, by w0 (every step this ladder hands out is
    # one it needs: both tricks are rejected, so all speculation on the baseline pays).
    with open(os.path.join(shared, "steps", killed_step, "result.json")) as stream:
        assert json.load(stream)["tuner_id"] == "w0"
