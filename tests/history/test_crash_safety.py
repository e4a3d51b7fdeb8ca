"""SIGKILL a training process at random moments: the history stays readable and consistent."""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.history.helpers import probe

SCRIPT = pathlib.Path(__file__).with_name("crash_script.py")
NUM_KILLS = 20


def probe_predictions(probe_log):
    table = {}
    for line in pathlib.Path(probe_log).read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the kill may cut the last line
            continue
        table[(record["run"], record["epoch"])] = np.array(record["predictions"])
    return table


@pytest.mark.slow
def test_history_survives_sigkill_at_random_moments(tmp_path):
    directory, probe_log = tmp_path / "history", tmp_path / "probe.jsonl"
    rng = random.Random(20261125)
    committed_runs = 0
    for run in range(NUM_KILLS):
        process = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--directory",
                str(directory),
                "--run",
                str(run),
                "--probe-log",
                str(probe_log),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout.readline().strip() == "training"
        # Half the kills come at any moment from the start (maybe before any commit); the
        # other half after the first epoch is committed, whatever the machine's load.
        after_commit = run % 2 == 1
        if after_commit:
            assert process.stdout.readline().strip() == "committed"
        time.sleep(rng.uniform(0.0, 1.5) if after_commit else rng.uniform(0.2, 2.5))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL

        history = kit.History(directory)
        versions = history.versions()
        for version in versions:
            for path in version.files.values():
                assert os.path.exists(path) and ".tmp-" not in path, path
                assert zipfile.is_zipfile(path), path
        # The version the killed run was writing, and the best overall, both predict as
        # the model did at the epoch the index says their file holds.
        latest = versions[-1] if versions and versions[-1].best is not None else None
        checked = {v.id: v for v in (latest, history.best()) if v is not None}
        table = probe_predictions(probe_log) if checked else {}
        for version in checked.values():
            expected = table[(version.configuration["hparams"]["run"], version.best_epoch)]
            model = history.load(version)
            np.testing.assert_allclose(
                model.predict_on_batch(probe()), expected, rtol=1e-5, atol=1e-6
            )
        committed = latest is not None and latest.configuration["hparams"]["run"] == run
        # A commit the process announced before its death is never lost.
        assert committed or not after_commit, f"run {run}: its committed epoch is missing"
        committed_runs += committed
        history.close()
    assert committed_runs >= NUM_KILLS // 2
