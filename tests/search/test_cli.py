"""`kak tune` in one process: the table, the JSON, and spec errors."""

import json

from keras_accuracy_kit.cli.main import main
from tests.conftest import ROOT

SPEC = "tests/search/search_spec.py:digits_search"


def test_tune_command_prints_the_table_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    output = tmp_path / "trials.json"
    arguments = ["tune", SPEC, "--directory", str(tmp_path), "--max-trials", "2", "--quiet"]
    assert main([*arguments, "--json", str(output)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["trial", "status", "val_accuracy"]
    reported = json.loads(output.read_text())
    assert reported["role"] == "single" and len(reported["trials"]) == 2
    best = max(reported["trials"], key=lambda row: row["score"])
    assert lines[-1] == f"best: trial {best['trial_id']} (val_accuracy={best['score']:.4f})"
    assert reported["best_values"] == best["values"]


def test_bad_specs_are_reported_without_a_traceback(tmp_path, capsys):
    assert main(["tune", "no_colon"]) == 2
    assert "`spec` must be MODULE:FUNCTION or FILE.py:FUNCTION" in capsys.readouterr().err
    assert main(["tune", str(tmp_path / "missing.py:search")]) == 2
    assert "`spec` file not found" in capsys.readouterr().err
    assert main(["tune", "tests.search.helpers:BLOCK_LAYER"]) == 2
    assert "must name a function" in capsys.readouterr().err
