"""`kak history` and `kak rollback` on a real history."""

import json
import re
import sqlite3

import keras
import numpy as np

import keras_accuracy_kit as kit
from keras_accuracy_kit.cli.main import main
from tests.history.helpers import digits_data, digits_model, probe


def test_history_and_rollback_commands(tmp_path, capsys):
    x, y, vx, vy = digits_data()
    for learning_rate in (1e-2, 1e-4):
        digits_model(learning_rate=learning_rate).fit(
            x,
            y,
            validation_data=(vx, vy),
            epochs=2,
            verbose=0,
            callbacks=[kit.callbacks.CheckpointOnChange(tmp_path / "h")],
        )
    assert main(["history", str(tmp_path / "h")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["id", "parent", "created", "monitor"]
    assert table[1].split()[0:2] == ["1", "-"] and "first version" in table[1]
    assert table[2].split()[0:2] == ["2", "1"]
    assert "learning_rate: 0.01 -> 0.0001" in table[2]
    assert "best: version 1 (val_accuracy=" in table[-1]

    export = tmp_path / "best.h5"
    assert main(["rollback", str(tmp_path / "h"), "--to", "2", "--export", str(export)]) == 0
    out = capsys.readouterr().out
    assert "Rolled back to version 2" in out and str(export) in out
    np.testing.assert_allclose(
        keras.models.load_model(export).predict(probe(), verbose=0),
        kit.History(tmp_path / "h").load(2).predict(probe(), verbose=0),
        rtol=1e-6,
    )


def test_errors_are_reported_without_a_traceback(tmp_path, capsys):
    assert main(["history", str(tmp_path)]) == 2
    assert "kak history: History: `directory` must hold a history" in capsys.readouterr().err


def base_version(directory):
    connection = sqlite3.connect(directory / "index.sqlite")
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'base_version'").fetchone()
        return None if row is None else json.loads(row[0])
    finally:
        connection.close()


def test_rollback_with_a_bad_export_path_changes_nothing(tmp_path, capsys):
    # D5: `kak rollback DIR --to 1 --export out.txt` committed the rollback, then failed.
    x, y, _, _ = digits_data()
    for units in (8, 16):
        digits_model(units=units).fit(
            x[:128], y[:128], epochs=1, verbose=0,
            callbacks=[kit.callbacks.CheckpointOnChange(tmp_path / "h", monitor="loss")],
        )  # fmt: skip
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = [
        (tmp_path / "out.txt", r"`path` must end with '.keras' or '.h5'"),
        (blocker / "model.keras", r"`path` must be a file the kit can write\. .*Nothing was"),
        (tmp_path, r"`path` must end with"),
    ]
    for path, message in cases:
        code = main(["rollback", str(tmp_path / "h"), "--to", "1", "--export", str(path)])
        err = capsys.readouterr().err
        assert code == 2 and re.search(message, err), err
        assert "Traceback" not in err and "Rolled back" not in err
        assert base_version(tmp_path / "h") is None
    export = str(tmp_path / "m.keras")
    assert main(["rollback", str(tmp_path / "h"), "--to", "1", "--export", export]) == 0
    assert base_version(tmp_path / "h") == 1 and (tmp_path / "m.keras").exists()
