"""Model files reach their final names only whole: temporary file, fsync, then rename.

Issue 22: a history writing its model files directly (no temporary file, no fsync) passed
every test, the SIGKILL crash test included. Two observers that can see it:

- a journal of `os.fsync` / `os.replace` calls: every model file and record in the store
  (and every exported model) must be the destination of an `os.replace` whose source was
  fsynced before, and still be that very file (same inode) afterwards;
- an injected fault: `model.save` writes half a file and dies (a writer killed between
  write and rename). The files under final names must all be complete, the earlier ones
  unchanged, and the history must still load.
"""

import os
import zipfile

import keras
import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.history.helpers import digits_data, digits_model, probe


class Journal:
    """Records fsyncs (by inode) and renames (source inode, destination path), in order."""

    def __init__(self, monkeypatch):
        self.events = []
        real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

        def fsync(descriptor):
            status = os.fstat(descriptor)
            self.events.append(("fsync", (status.st_dev, status.st_ino)))
            return real_fsync(descriptor)

        def rename_with(real):
            def rename(source, destination, *args, **kwargs):
                status = os.stat(source)
                self.events.append(
                    ("replace", (status.st_dev, status.st_ino), os.path.abspath(destination))
                )
                return real(source, destination, *args, **kwargs)

            return rename

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", rename_with(real_replace))
        monkeypatch.setattr(os, "rename", rename_with(real_rename))

    def assert_written_atomically(self, path):
        """`path` came from an fsynced temporary file by rename, and was not rewritten."""
        path = os.path.abspath(path)
        status = os.stat(path)
        inode = (status.st_dev, status.st_ino)
        renames = [
            i for i, event in enumerate(self.events)
            if event[0] == "replace" and event[2] == path
        ]  # fmt: skip
        assert renames, f"{path} was written in place, never renamed into place"
        last = renames[-1]
        assert self.events[last][1] == inode, f"{path} was rewritten after its rename"
        assert ("fsync", inode) in self.events[:last], f"{path} was renamed before its fsync"


def fit(directory, model, epochs, **arguments):
    x, y, vx, vy = digits_data()
    callback = kit.callbacks.CheckpointOnChange(directory)
    model.fit(
        x[:512],
        y[:512],
        validation_data=(vx, vy),
        epochs=epochs,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
        **arguments,
    )
    return callback


def model_files(directory):
    """Files under their final names (no `.tmp-*` temporaries), path -> bytes."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            if name.endswith((".keras", ".json", ".h5")) and not name.startswith(".tmp-"):
                with open(os.path.join(root, name), "rb") as handle:
                    files[os.path.join(root, name)] = handle.read()
    return files


def assert_complete(path, content):
    if path.endswith(".keras"):
        assert zipfile.is_zipfile(path), f"torn model file under its final name: {path}"
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None, path
    elif path.endswith(".json"):
        assert content.rstrip().endswith(b"}"), f"torn record: {path}"


class Killed(BaseException):
    """The writer dies (not an Exception: nothing in between may swallow it)."""


def dying_save(real_save):
    """A `save` that writes the first half of the real file, then dies before returning."""

    def save(self, filepath, *args, **kwargs):
        scratch = os.path.join(os.path.dirname(str(filepath)), "scratch-whole.keras")
        real_save(self, scratch, *args, **kwargs)
        with open(scratch, "rb") as handle:
            content = handle.read()
        os.remove(scratch)
        with open(filepath, "wb") as handle:
            handle.write(content[: len(content) // 2])
        raise Killed(f"killed while writing {filepath}")

    return save


def test_every_model_file_and_record_is_fsynced_then_renamed_into_place(tmp_path, monkeypatch):
    journal = Journal(monkeypatch)
    fit(tmp_path / "history", digits_model(), epochs=3)
    files = model_files(tmp_path / "history")
    assert sum(path.endswith(".keras") for path in files) >= 2  # best and last
    assert sum(path.endswith(".json") for path in files) >= 2  # their records
    for path in files:
        journal.assert_written_atomically(path)

    history = kit.History(tmp_path / "history")
    for name in ("exported.keras", "exported.h5"):
        journal.assert_written_atomically(history.export(tmp_path / "out" / name))


def test_a_writer_killed_mid_save_leaves_no_torn_file_under_a_final_name(tmp_path, monkeypatch):
    directory = tmp_path / "history"
    model = digits_model()
    fit(directory, model, epochs=2)
    before = model_files(directory)
    expected = kit.History(directory).load().predict(probe(), verbose=0)

    monkeypatch.setattr(keras.Model, "save", dying_save(keras.Model.save))
    with pytest.raises(Killed):
        fit(directory, model, epochs=2)
    after = model_files(directory)
    for path, content in after.items():
        assert_complete(path, content)
    for path, content in before.items():
        assert after.get(path) == content, f"{path} changed"
    monkeypatch.undo()

    history = kit.History(directory)
    np.testing.assert_allclose(history.load().predict(probe(), verbose=0), expected, rtol=1e-6)


def test_an_export_killed_mid_save_keeps_the_previous_export(tmp_path, monkeypatch):
    fit(tmp_path / "history", digits_model(), epochs=1)
    history = kit.History(tmp_path / "history")
    target = tmp_path / "out" / "model.keras"
    history.export(target)
    previous = target.read_bytes()

    monkeypatch.setattr(keras.Model, "save", dying_save(keras.Model.save))
    with pytest.raises(Killed):
        history.export(target)
    assert target.read_bytes() == previous
    assert sorted(os.listdir(target.parent)) == ["model.keras"]  # nor a temporary left
