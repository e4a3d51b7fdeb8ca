"""`kak history` and `kak rollback` on a real history."""

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
