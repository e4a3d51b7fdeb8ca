"""History: rollback to the best configuration, retention, export, bad input."""

import json
import math
import os
import pathlib
import shutil
import sqlite3
import time

import keras
import numpy as np
import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.history import checkpoint_on_change
from tests.history.helpers import digits_data, digits_model, probe


def fit(directory, model, epochs, keep_best=None, **fit_arguments):
    x, y, vx, vy = digits_data()
    callback = kit.callbacks.CheckpointOnChange(directory, keep_best=keep_best)
    model.fit(
        x,
        y,
        validation_data=(vx, vy),
        epochs=epochs,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
        **fit_arguments,
    )
    return callback.version_id


def test_rollback_returns_the_best_configuration_and_weights(tmp_path):
    configurations = [
        {"depth": 1, "learning_rate": 1e-4, "units": 8},  # barely learns in 3 epochs
        {"depth": 2, "learning_rate": 1e-2, "units": 64},  # the best
        {"depth": 1, "learning_rate": 1.0, "units": 16},  # diverges
    ]
    ids = [fit(tmp_path, digits_model(**c), epochs=3) for c in configurations]
    history = kit.History(tmp_path)
    versions = history.versions()
    assert [v.id for v in versions] == ids and ids == [1, 2, 3]
    assert [v.parent for v in versions] == [None, 1, 2]
    assert history.best().id == 2

    restored = history.rollback()
    assert restored.version.id == 2
    layers = restored.version.configuration["model"]["layers"]
    assert [layer["config"].get("units") for layer in layers[2:]] == [64, 64, 10]
    _, _, vx, vy = digits_data()
    _, accuracy = restored.model.evaluate(vx, vy, verbose=0)
    assert accuracy == pytest.approx(restored.version.best, abs=1e-6)
    assert accuracy > 0.85

    # The next new configuration derives from the rolled-back version, not the last one.
    next_id = fit(tmp_path, digits_model(depth=3, learning_rate=1e-2, units=64), epochs=1)
    assert kit.History(tmp_path).version(next_id).parent == 2


def test_best_and_last_models_and_epochs_are_recorded(tmp_path):
    model = digits_model()
    version_id = fit(tmp_path, model, epochs=4)
    history = kit.History(tmp_path)
    version = history.version(version_id)
    accuracies = [e["metrics"]["val_accuracy"] for e in history.epochs(version_id)]
    assert version.best == pytest.approx(max(accuracies))
    assert version.best_epoch == int(np.argmax(accuracies))
    assert sorted(version.files) == ["best", "last"]
    # The two model files and their records (what a rebuild reads), nothing else.
    names = {os.path.basename(path) for path in version.files.values()}
    assert set(os.listdir(tmp_path / "versions" / "1")) == names | {f"{n}.json" for n in names}
    assert version.file_status == {"best": "ok", "last": "ok"}
    np.testing.assert_allclose(
        history.load(version_id, "last").predict(probe(), verbose=0),
        model.predict(probe(), verbose=0),
        rtol=1e-6,
    )


def test_nan_is_never_recorded_as_best(tmp_path):
    class NaNAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                logs["val_accuracy"] = float("nan")

    x, y, vx, vy = digits_data()
    model = digits_model()
    callback = kit.callbacks.CheckpointOnChange(tmp_path)
    model.fit(
        x, y, validation_data=(vx, vy), epochs=2, callbacks=[NaNAccuracy(), callback], verbose=0
    )
    history = kit.History(tmp_path)
    version = history.version(1)
    assert version.best_epoch == 0 and not math.isnan(version.best)
    assert math.isnan(history.epochs(1)[1]["metrics"]["val_accuracy"])


def test_keep_best_deletes_files_of_worse_versions_and_keeps_metadata(tmp_path):
    for learning_rate in (1e-4, 1e-2, 3e-3):
        fit(tmp_path, digits_model(learning_rate=learning_rate), epochs=2, keep_best=1)
    history = kit.History(tmp_path)
    versions = history.versions()
    assert len(versions) == 3
    best = history.best()
    assert [bool(v.files) for v in versions] == [v.id == best.id for v in versions]
    assert all(v.best is not None for v in versions)
    assert sorted(os.listdir(tmp_path / "versions" / str(best.id))) != []
    for version in versions:
        if version.id != best.id:
            # No model file left; the records stay (marked) so a rebuild keeps the metadata.
            left = os.listdir(tmp_path / "versions" / str(version.id))
            assert left and all(name.endswith(".keras.json") for name in left)
            for name in left:
                record = json.loads((tmp_path / "versions" / str(version.id) / name).read_text())
                assert record["model_deleted"] is True
            with pytest.raises(ValueError, match=r"`which` must name a model file version"):
                history.load(version.id)


def test_export_to_h5_and_keras(tmp_path):
    model = digits_model()
    fit(tmp_path / "history", model, epochs=1)
    history = kit.History(tmp_path / "history")
    for name in ("model.h5", "model.keras"):
        path = history.export(tmp_path / "out" / name)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(
            loaded.predict(probe(), verbose=0),
            history.load().predict(probe(), verbose=0),
            rtol=1e-6,
        )
    with pytest.raises(ValueError, match=r"`path` must end with '.keras' or '.h5'"):
        history.export(tmp_path / "model.pb")


def test_unwritable_directory_fails_at_construction(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(
        ValueError,
        match=r"CheckpointOnChange: `directory` must be a directory the kit can write to\. "
        r"Received: directory=.*file/history.*\(.*\)",
    ):
        kit.callbacks.CheckpointOnChange(blocker / "history")


def test_directory_from_a_newer_schema_says_so(tmp_path):
    fit(tmp_path, digits_model(), epochs=1)
    connection = sqlite3.connect(tmp_path / "index.sqlite")
    connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    connection.commit()
    connection.close()
    with pytest.raises(
        ValueError, match=r"written by a newer keras-accuracy-kit \(history schema 99"
    ):
        kit.History(tmp_path)
    with pytest.raises(ValueError, match=r"CheckpointOnChange: .*newer keras-accuracy-kit"):
        kit.callbacks.CheckpointOnChange(tmp_path)


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"keep_best": 0}, r"`keep_best` must be None or a positive integer"),
        ({"mode": "best"}, r"`mode` must be one of"),
        ({"hparams": [1]}, r"`hparams` must be a dict"),
    ],
)
def test_bad_arguments(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=rf"CheckpointOnChange: {message}"):
        kit.callbacks.CheckpointOnChange(tmp_path, **arguments)


def test_history_of_a_directory_without_index(tmp_path):
    with pytest.raises(ValueError, match=r"History: `directory` must hold a history"):
        kit.History(tmp_path)


def test_missing_monitor_lists_available_names(tmp_path):
    x, y, _, _ = digits_data()
    with pytest.raises(ValueError, match=r"monitor='val_accuracy'; available: .*validation_data"):
        digits_model().fit(
            x, y, epochs=3, callbacks=[kit.callbacks.CheckpointOnChange(tmp_path)], verbose=0
        )


def test_history_is_a_context_manager_that_closes_its_index(tmp_path):
    fit(tmp_path, digits_model(), epochs=1)
    with kit.History(tmp_path) as history:
        assert len(history.versions()) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        history.versions()


def test_train_begin_removes_only_provable_stale_leftovers(tmp_path):
    # D2: the clean-up deletes a file only if it is stale AND provably this history's own.
    fit(tmp_path, digits_model(), epochs=1)
    leftovers = tmp_path / "versions" / "1"
    with kit.History(tmp_path) as history:
        best_path = history.version(1).files["best"]
    record = json.loads(pathlib.Path(best_path + ".json").read_text())

    def candidate(name, **changes):
        """A complete model file with a record, as a crash between save and commit leaves."""
        path = leftovers / name
        shutil.copyfile(best_path, path)
        (leftovers / f"{name}.json").write_text(
            json.dumps(dict(record, model=name, committed=False, **changes))
        )
        return path

    stale_tmp = leftovers / ".tmp-best.keras.abc.keras"
    fresh_tmp = leftovers / ".tmp-best.keras.def.keras"  # another process, mid-write
    own = candidate("best-own.keras")
    own_fresh = candidate("best-fresh.keras")  # another writer's, before its commit
    foreign = candidate("best-foreign.keras", history_id="another history")
    other_version = candidate("best-other.keras", fingerprint="another configuration")
    no_record = leftovers / "orphan.keras"
    for path in (stale_tmp, fresh_tmp, no_record):
        path.write_bytes(b"partial")
    old = time.time() - 2 * checkpoint_on_change.STALE_AFTER_SECONDS
    for path in (stale_tmp, own, foreign, other_version, no_record):
        for each in (path, pathlib.Path(f"{path}.json")):
            if each.exists():
                os.utime(each, (old, old))
    fit(tmp_path, digits_model(), epochs=1)
    assert not stale_tmp.exists()
    assert not own.exists() and not pathlib.Path(f"{own}.json").exists()
    for kept in (fresh_tmp, own_fresh, foreign, other_version, no_record):
        assert kept.exists(), kept
    with kit.History(tmp_path) as history:
        for version in history.versions():
            assert set(version.file_status.values()) == {"ok"}


def test_rollback_without_loading_only_sets_the_base(tmp_path):
    fit(tmp_path, digits_model(), epochs=1)
    fit(tmp_path, digits_model(units=16), epochs=1)  # version 2, child of 1
    with kit.History(tmp_path) as history:
        restored = history.rollback(1, load=False)
    assert restored.model is None and restored.version.id == 1
    fit(tmp_path, digits_model(learning_rate=3e-3), epochs=1)  # version 3
    with kit.History(tmp_path) as history:
        assert [v.parent for v in history.versions()] == [None, 1, 1]


@pytest.mark.parametrize("directory", [123, "", "runs/\0history", None])
def test_a_directory_that_is_not_a_path_is_refused_clearly(directory):
    with pytest.raises(TypeError, match=r"CheckpointOnChange: `directory` must be a path .*"
                       r"Received: directory="):  # fmt: skip
        kit.callbacks.CheckpointOnChange(directory)
