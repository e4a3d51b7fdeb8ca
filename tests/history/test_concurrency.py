"""D1: several processes fitting into one history directory at once.

2 and 4 processes, 5 trials each, in every trial once with the same configuration (one
version that all of them extend) and once with different ones (one version each). Checked
afterwards: no process crashed, every epoch of every process is recorded once with
consecutive steps, each version's best is the best of its recorded epochs (a worse model
never replaced a better one), the best file is the model of that epoch (it evaluates to
the recorded value), every listed file loads, and no candidate or temporary file is left.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.history.helpers import digits_data, digits_model

SCRIPT = pathlib.Path(__file__).with_name("concurrent_script.py")
NUM_TRIALS = 5
NUM_EPOCHS = 3


@pytest.mark.parametrize(
    "num_processes",
    # Four processes on a two-core machine take a few minutes: `slow` (still run in CI).
    [2, pytest.param(4, marks=pytest.mark.slow)],
)
def test_processes_sharing_a_directory_lose_nothing(tmp_path, num_processes):
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--root",
                str(tmp_path),
                "--worker",
                str(worker),
                "--workers",
                str(num_processes),
                "--trials",
                str(NUM_TRIALS),
                "--epochs",
                str(NUM_EPOCHS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(num_processes)
    ]
    for process in processes:
        out, err = process.communicate(timeout=1200)
        assert process.returncode == 0 and "done" in out, err[-3000:]

    _, _, vx, vy = digits_data()
    vx, vy = vx[:100], vy[:100]
    expected_epochs = {(w, e) for w in range(num_processes) for e in range(NUM_EPOCHS)}
    # The scripts' architecture, traced once: each best file's weights are evaluated in it
    # instead of tracing an `evaluate` for each of the 10-25 loaded models.
    reference = digits_model(units=16)
    for trial in range(NUM_TRIALS):
        for kind in ("same", "different"):
            directory = tmp_path / f"{kind}-{trial}"
            with kit.History(directory) as history:
                versions = history.versions()
                assert len(versions) == (1 if kind == "same" else num_processes)
                recorded = set()
                for version in versions:
                    epochs = history.epochs(version.id)
                    assert [e["step"] for e in epochs] == list(range(len(epochs)))
                    assert version.epochs == len(epochs)
                    for e in epochs:
                        assert int(e["metrics"]["trial"]) == trial
                        key = (int(e["metrics"]["worker"]), e["epoch"])
                        assert key not in recorded, f"{directory}: {key} recorded twice"
                        recorded.add(key)
                    losses = [e["metrics"]["val_loss"] for e in epochs]
                    assert version.best == min(losses), (directory, version.id)
                    assert epochs[version.best_epoch]["metrics"]["val_loss"] == version.best
                    assert version.file_status == {"best": "ok", "last": "ok"}
                    # Every listed file loads (once each); the best evaluates to its value.
                    models = {which: history.load(version.id, which) for which in version.files}
                    assert set(models) == {"best", "last"}
                    reference.set_weights(models["best"].get_weights())
                    loss = reference.evaluate(vx, vy, batch_size=64, verbose=0)[0]
                    np.testing.assert_allclose(loss, version.best, rtol=1e-5)
                    folder = directory / "versions" / str(version.id)
                    names = {os.path.basename(p) for p in version.files.values()}
                    assert set(os.listdir(folder)) == names | {f"{n}.json" for n in names}
                assert recorded == expected_epochs, directory
                del models
