"""keras-tuner's chief/worker mode through `kak tune`, on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys
import time

import keras_tuner
import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.cli.main import main

from tests.conftest import ROOT
from tests.search.helpers import digits
from tests.search.search_spec import digits_search

SPEC = "tests/search/search_spec.py:digits_search"


def kak_tune(*arguments):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return subprocess.Popen(
        [sys.executable, "-m", "keras_accuracy_kit.cli.main", "tune", SPEC, *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process, deadline):
    stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    return process.returncode, stdout, stderr, time.monotonic()


def test_chief_and_two_workers_finish_a_search(tmp_path):
    directory = str(tmp_path / "search")
    common = ["--directory", directory, "--timeout", "120"]
    started = time.monotonic()
    deadline = started + 300
    chief = kak_tune("--chief", *common, "--json", str(tmp_path / "chief.json"))
    workers = [
        kak_tune("--worker", *common, "--tuner-id", f"w{i}", "--json", str(tmp_path / f"w{i}.json"))
        for i in range(2)
    ]
    worker_runs = [finish(worker, deadline) for worker in workers]
    chief_run = finish(chief, deadline)
    for code, stdout, stderr, _ in [*worker_runs, chief_run]:
        assert code == 0, stderr[-3000:]
        # No stray lines from keras-tuner's `print` in `Parent.to_proto` (issue 18 item 6).
        assert not [line for line in stdout.splitlines() if line.strip().isdigit()], stdout
    # The chief leaves within seconds of the last worker (keras-tuner's own polls every 20 s).
    assert chief_run[3] - max(run[3] for run in worker_runs) < 15

    reported = json.loads((tmp_path / "chief.json").read_text())
    ran = [json.loads((tmp_path / f"w{i}.json").read_text())["trials"] for i in range(2)]
    assert all(len(trials) >= 1 for trials in ran), ran
    by_worker = {row["trial_id"]: row for trials in ran for row in trials}
    assert sum(len(trials) for trials in ran) == len(by_worker) == 6
    assert {row["trial_id"]: row for row in reported["trials"]} == by_worker
    assert "best: trial" in chief_run[1] and "kak tune: trial" in worker_runs[0][2]

    # What the chief reported is what keras-tuner's own records in the directory say.
    arguments = digits_search()
    tuner = keras_tuner.RandomSearch(
        arguments["hypermodel"], objective="val_accuracy", max_trials=6,
        directory=directory, project_name="search", overwrite=False,
    )  # fmt: skip
    tuner.oracle.reload()  # the chief's oracle.json and trial_*/trial.json
    best = tuner.oracle.get_best_trials(6)
    assert len(best) == 6
    assert best[0].hyperparameters.values == reported["best_values"]
    scores = {row["trial_id"]: row["score"] for row in reported["trials"]}
    assert {t.trial_id: t.score for t in best} == scores
    checkpoints = [t for t in best if os.path.exists(tuner._get_checkpoint_fname(t.trial_id))]
    assert [t.trial_id for t in checkpoints] == [t.trial_id for t in best[:2]]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_worker_without_chief_times_out_clearly(tmp_path, capsys):
    started = time.monotonic()
    code = main(
        ["tune", SPEC, "--worker", "--directory", str(tmp_path), "--oracle-port",
         str(free_port()), "--timeout", "1", "--quiet"]
    )  # fmt: skip
    assert code == 3 and time.monotonic() - started < 30
    assert "kak tune: kit.search.tune: no chief answered at 127.0.0.1:" in capsys.readouterr().err
    assert "KERASTUNER_ORACLE_IP" not in os.environ


def test_worker_without_published_address_times_out_clearly(tmp_path):
    with pytest.raises(TimeoutError, match="no chief published its address within 0.5 s"):
        kit.search.tune(
            digits_search()["hypermodel"], *digits(64, 32), role="worker",
            directory=tmp_path, timeout=0.5,
        )  # fmt: skip


def test_chief_without_workers_times_out_clearly(tmp_path):
    with pytest.raises(TimeoutError, match="no worker asked the chief for a trial within 1 s"):
        kit.search.tune(
            digits_search()["hypermodel"], role="chief", directory=tmp_path, timeout=1,
            strategy="random",
        )  # fmt: skip
    assert not (tmp_path / "search" / "oracle_address.json").exists()


def test_keras_tuner_variables_select_the_worker_role(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker9")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    with pytest.raises(TimeoutError, match=f"no chief answered at 127.0.0.1:{port} within 0.5 s"):
        kit.search.tune(
            digits_search()["hypermodel"], *digits(64, 32), directory=tmp_path, timeout=0.5
        )


# -- kit.search.Distributed: the settings object (issue 20 item 4) -----------------------


def test_distributed_settings_give_the_same_worker_as_the_old_keywords(tmp_path):
    with pytest.raises(TimeoutError, match="no chief published its address within 0.5 s"):
        kit.search.tune(
            digits_search()["hypermodel"], *digits(64, 32), directory=tmp_path,
            distributed=kit.search.Distributed("worker", timeout=0.5),
        )  # fmt: skip


def test_distributed_settings_are_checked_when_built():
    cases = [
        (dict(role="boss"), r"`role` must be one of \['chief', 'worker'\]"),
        (dict(role="worker", oracle_port=-1), r"`oracle_port` must be a non-negative integer"),
        (dict(role="worker", oracle_port=70000), r"`oracle_port` must be a port, at most 65535"),
        (dict(role="worker", timeout=0), r"`timeout` must be a positive number of seconds"),
        (dict(role="worker", tuner_id="chief-2"), r"must not contain 'chief'"),
        (dict(role="worker", oracle_ip=""), r"`oracle_ip` must be a host name or address"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            kit.search.Distributed(**arguments)
    assert kit.search.Distributed("chief").tuner_id == "chief"
    assert kit.search.Distributed("worker").tuner_id.startswith("worker-")


def test_distributed_settings_and_old_keywords_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"`distributed` and \['role'\] must not both be given"):
        kit.search.tune(
            digits_search()["hypermodel"], *digits(64, 32), directory=tmp_path,
            distributed=kit.search.Distributed("worker"), role="worker",
        )  # fmt: skip
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'rolee'"):
        kit.search.tune(digits_search()["hypermodel"], *digits(64, 32), rolee="worker")
    with pytest.raises(TypeError, match=r"`distributed` must be None or a `kit.search"):
        kit.search.tune(digits_search()["hypermodel"], *digits(64, 32), distributed="worker")


def test_keras_tuner_variables_make_the_same_settings(monkeypatch):
    from keras_accuracy_kit.search import distributed

    assert distributed.from_legacy_arguments("tune", None, {}) is None
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker9")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "10.0.0.2")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    assert distributed.from_legacy_arguments("tune", None, {"timeout": 3}) == (
        kit.search.Distributed("worker", "10.0.0.2", 8000, "worker9", 3)
    )
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert kit.search.Distributed.from_environment().role == "chief"


def test_tuners_are_named_classes_over_public_keras_tuner_hooks():
    from keras_accuracy_kit.search import tuners

    assert {name: cls.__name__ for name, cls in tuners.TUNERS.items()} == {
        "hyperband": "KitHyperband",
        "bayesian": "KitBayesianOptimization",
        "random": "KitRandomSearch",
    }
    for cls in tuners.TUNERS.values():
        assert cls.__module__ == tuners.__name__
        # No keras-tuner private is overridden: every method the kit defines is public,
        # or its own (`_progress`, `_of_total`, `_kit_callbacks`).
        own = set(vars(tuners.KitTunerMixin))
        private = {name for name in own if name.startswith("_") and not name.startswith("__")}
        assert private == {"_progress", "_of_total", "_kit_callbacks"}
        assert not any(hasattr(keras_tuner.Tuner, name) for name in private)
