"""`AccuracyReport` in a real `fit` under MirroredStrategy on 2 logical CPUs (issue 18 item 4).

Keras' `predict_on_batch` returns twice as many outputs as images there, and the report
crashed with `IndexError (128,) (256,)`. Logical devices must be set before TensorFlow
starts, so the run is a subprocess (`mirrored_script.py`).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Both runs (validation arrays, then a dataset) in one subprocess: one TF start."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reporting.mirrored_script",
            str(tmp_path_factory.mktemp("mirrored")),
            "arrays,dataset",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {line["validation"]: line for line in lines}


@pytest.mark.parametrize("validation", ["arrays", "dataset"])
def test_report_under_mirrored_strategy_matches_predict(reports, validation):
    report = reports[validation]
    assert report["replicas"] == 2
    assert report["confusion_matrix"] == report["reference"]
    assert sum(map(sum, report["confusion_matrix"])) == 100  # one prediction per image
