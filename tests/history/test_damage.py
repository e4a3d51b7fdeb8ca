"""Loss and damage: a lost, garbage or truncated index, missing or truncated model files, a
read-only filesystem, a full disk. No model file is ever deleted; every error names the file
and the way back; a rebuild recovers the versions from the model files' records."""

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat

import keras
import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit._core import atomic
from keras_accuracy_kit.cli.main import main
from keras_accuracy_kit.history import CorruptIndexError, HistoryWriteError
from keras_accuracy_kit.history.checkpoint_on_change import STALE_AFTER_SECONDS
from tests.history.helpers import digits_data, digits_model, fit_into

UNITS = (8, 16, 32)


def summary(history):
    return [
        (v.id, v.parent, v.best, v.best_epoch, v.fingerprint, v.epochs, v.configuration,
         v.monitor, v.mode, sorted(v.files))
        for v in history.versions()
    ]  # fmt: skip


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory):
    directory = tmp_path_factory.mktemp("three") / "history"
    for units in UNITS:
        fit_into(directory, units)
    with kit.History(directory) as history:
        return directory, summary(history)


@pytest.fixture
def history_copy(three_versions, tmp_path):
    """A copy of the three-version history, its files made older than the clean-up age."""
    source, expected = three_versions
    directory = tmp_path / "history"
    shutil.copytree(source, directory)
    old = os.path.getmtime(directory) - 2 * STALE_AFTER_SECONDS
    for path in directory.rglob("*"):
        os.utime(path, (old, old))
    return directory, expected


def model_files(directory):
    """`{relative path: sha256}` of every model file and record under versions/."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((directory / "versions").rglob("*"))
        if path.is_file()
    }


def delete_index(directory):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{directory}/index.sqlite{suffix}"):
            os.remove(f"{directory}/index.sqlite{suffix}")


def cli(capsys, *arguments):
    code = main([str(a) for a in arguments])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# -- D2: a lost index --------------------------------------------------------------------


def test_lost_index_deletes_no_model_file_and_the_run_refuses(history_copy, capsys):
    # D2: the orphan clean-up deleted every file the new, empty index did not name.
    directory, _ = history_copy
    before = model_files(directory)
    assert len([name for name in before if name.endswith(".keras")]) == 6
    early = kit.callbacks.CheckpointOnChange(directory)  # constructed while the index exists
    delete_index(directory)
    message = (
        r"must hold its index index\.sqlite beside its model files\. Received: directory=.*, "
        r"with 6 model file\(s\) under versions/ but no index\.sqlite \(deleted or lost\?\)\. "
        r"The model files are intact and nothing was deleted\. Rebuild the index from the "
        r"model files with `kak history .* --rebuild`"
    )
    with pytest.raises(CorruptIndexError, match=rf"CheckpointOnChange: `directory` {message}"):
        kit.callbacks.CheckpointOnChange(directory)
    with pytest.raises(CorruptIndexError, match=message):
        fit_into(directory, 64, epochs=1, callbacks=[])  # constructs after the loss
    x, y, _, _ = digits_data()
    with pytest.raises(CorruptIndexError, match=message):
        digits_model().fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[early])
    with pytest.raises(CorruptIndexError, match=rf"History: `directory` {message}"):
        kit.History(directory)
    code, _, err = cli(capsys, "history", directory)
    assert code == 2 and "nothing was deleted" in err
    assert model_files(directory) == before
    assert not os.path.exists(directory / "index.sqlite")


def test_rebuild_recovers_the_versions_and_training_continues(history_copy, capsys):
    directory, expected = history_copy
    before = model_files(directory)
    delete_index(directory)
    report = kit.History.rebuild(directory)
    assert report["recovered"] == report["versions"] == [1, 2, 3]
    assert report["previous_index"] is None and report["without_record"] == []
    with kit.History(directory) as history:
        assert summary(history) == expected
        for version in history.versions():
            assert version.file_status == {"best": "ok", "last": "ok"}
            history.load(version.id)
            # The epochs whose models are kept are back, with their metrics.
            best_epoch = [e for e in history.epochs(version.id) if e["step"] == version.best_epoch]
            assert best_epoch[0]["metrics"]["val_accuracy"] == version.best
    assert model_files(directory) == before
    # The same configuration as version 1 continues it; a new one opens version 4: no
    # versions/<id> directory is reused.
    assert fit_into(directory, UNITS[0], epochs=1).version_id == 1
    assert fit_into(directory, 64, epochs=1).version_id == 4
    with kit.History(directory) as history:
        assert [v.epochs for v in history.versions()] == [3, 2, 2, 1]
        assert history.version(4).parent == 1  # the version trained last
    code, out, _ = cli(capsys, "history", directory)
    assert code == 0 and out.splitlines()[4].split()[0] == "4"


def test_index_that_forgot_versions_is_refused(history_copy):
    # An index replaced by an older or empty one names fewer versions than the files hold.
    directory, _ = history_copy
    connection = sqlite3.connect(directory / "index.sqlite")
    connection.execute("DELETE FROM epochs WHERE version > 1")
    connection.execute("DELETE FROM versions WHERE id > 1")
    connection.commit()
    connection.close()
    before = model_files(directory)
    with pytest.raises(
        CorruptIndexError,
        match=r"versions/\[2, 3\] hold model files but index\.sqlite names versions \[1\]",
    ):
        kit.callbacks.CheckpointOnChange(directory)
    report = kit.History.rebuild(directory)  # merges: the index's version 1, files' 2 and 3
    assert report["recovered"] == [2, 3] and "before-rebuild" in report["previous_index"]
    assert os.path.exists(report["previous_index"])
    with kit.History(directory) as history:
        assert [v.id for v in history.versions()] == [1, 2, 3]
        assert len(history.epochs(1)) == 2  # version 1 kept all its epochs from the index
    assert model_files(directory) == before


# -- D3: a damaged index -----------------------------------------------------------------


def garbage(path):
    path.write_bytes(os.urandom(8192))


def truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def empty(path):
    path.write_bytes(b"")


def foreign(path):
    path.unlink()
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    "damage, problem",
    [
        (garbage, r"file is not a database"),
        (truncated, r"malformed|missing from index|Page|never used|not a database"),
        (empty, r"no table epochs, meta, versions"),
        (foreign, r"no table epochs, meta, versions"),
    ],
)
def test_damaged_index_names_the_file_and_the_way_back(history_copy, capsys, damage, problem):
    # D3: raw sqlite tracebacks ("no such table: meta", "file is not a database").
    directory, expected = history_copy
    before = model_files(directory)
    damage(directory / "index.sqlite")
    message = (
        rf"`directory` must hold a readable index\. Received: directory=.*; "
        rf".*index\.sqlite is damaged \(.*({problem}).*\)\. The 6 model file\(s\) under "
        r"versions/ are intact and nothing was deleted\. Rebuild the index"
    )
    with pytest.raises(CorruptIndexError, match=rf"History: {message}"):
        kit.History(directory)
    with pytest.raises(CorruptIndexError, match=rf"CheckpointOnChange: {message}"):
        kit.callbacks.CheckpointOnChange(directory)
    for command in (["history", directory], ["rollback", directory, "--to", "1"]):
        code, _, err = cli(capsys, *command)
        assert code == 2 and "index.sqlite is damaged" in err and "--rebuild" in err
    assert model_files(directory) == before

    code, out, _ = cli(capsys, "history", directory, "--rebuild")
    assert code == 0 and "versions [1, 2, 3] (3 recovered" in out
    kept = [p for p in directory.glob("index.sqlite.damaged-*") if p.suffix != ".sqlite"]
    assert len([p for p in kept if not p.name.endswith(("-wal", "-shm"))]) == 1  # not deleted
    with kit.History(directory) as history:
        assert summary(history) == expected
    assert model_files(directory) == before


# -- D6: missing and corrupt model files --------------------------------------------------


def test_missing_and_corrupt_model_files_are_named(history_copy, capsys):
    directory, _ = history_copy
    with kit.History(directory) as history:
        files = {v.id: v.files for v in history.versions()}
    os.remove(files[2]["best"])
    with open(files[3]["last"], "r+b") as handle:
        handle.truncate(os.path.getsize(files[3]["last"]) // 2)
    with kit.History(directory) as history:
        assert [v.file_status for v in history.versions()] == [
            {"best": "ok", "last": "ok"},
            {"best": "missing", "last": "ok"},
            {"best": "ok", "last": "corrupt"},
        ]
        with pytest.raises(
            ValueError, match=r"version=2, which='best': .*best-.*\.keras does not exist .*"
            r"Versions whose best file is intact: \[1, 3\]"
        ):
            history.load(2)
        with pytest.raises(ValueError, match=r"which='last': .*last-.*\.keras is corrupt"):
            history.load(3, "last")
        history.load(3, "best")
    code, out, _ = cli(capsys, "history", directory)
    lines = out.splitlines()
    assert code == 0
    assert "best(missing),last" in lines[2] and "best,last(corrupt)" in lines[3]
    assert f"version 2: best file missing: {files[2]['best']}" in out
    assert f"version 3: last file corrupt: {files[3]['last']}" in out


# -- D4: a read-only filesystem -----------------------------------------------------------


def test_history_lists_and_loads_on_a_read_only_filesystem(history_copy, read_only_view, capsys):
    directory, expected = history_copy
    # The hard case: no `-shm` file, which SQLite cannot create on a read-only filesystem.
    assert not (directory / "index.sqlite-shm").exists()
    with read_only_view(directory) as view:
        with pytest.raises(OSError):
            open(os.path.join(view, "probe"), "w").close()
        with kit.History(view) as history:
            assert summary(history) == expected
            history.load(2)
            with pytest.raises(ValueError, match=r"History: `directory` must be a history the "
                               r"kit can write to\. .*copy it somewhere writable"):  # fmt: skip
                history.rollback(1, load=False)
        code, out, _ = cli(capsys, "history", view)
        assert code == 0 and len(out.splitlines()) == 6


# -- D14: a full disk --------------------------------------------------------------------


class FullDiskAt(keras.callbacks.Callback):
    """From epoch `epoch` on, writing a model file fails with ENOSPC (a patched write)."""

    def __init__(self, epoch, monkeypatch):
        super().__init__()
        self.epoch = epoch
        self.failing = False
        real = atomic.atomic_write

        def write(path, writer, suffix=".tmp"):
            if self.failing and suffix == ".keras":
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real(path, writer, suffix)

        monkeypatch.setattr(atomic, "atomic_write", write)

    def on_epoch_end(self, epoch, logs=None):
        self.failing = epoch >= self.epoch


@pytest.mark.parametrize("failing_epoch", [0, 2])
def test_full_disk_stops_fit_with_a_clear_error_and_a_sane_history(
    tmp_path, monkeypatch, capsys, failing_epoch
):
    directory = tmp_path / "history"
    model = digits_model()
    full = FullDiskAt(failing_epoch, monkeypatch)
    with pytest.raises(
        HistoryWriteError,
        match=rf"CheckpointOnChange: could not write the best model of version 1 \(epoch "
        rf"{failing_epoch + 1}\) \(No space left on device\)\. Training stopped at epoch "
        rf"{failing_epoch + 1}; the history holds version 1 as of the epoch before\. Nothing "
        r"committed was lost",
    ) as caught:
        fit_into(directory, model=model, epochs=4, callbacks=[full], monitor="loss")
    assert caught.value.errno == errno.ENOSPC
    with kit.History(directory) as history:
        version = history.version(1)
        assert version.epochs == failing_epoch == len(history.epochs(1))
        assert version.file_status == ({"best": "ok"} if failing_epoch else {})
    leftovers = os.listdir(directory / "versions" / "1") if failing_epoch else []
    assert len(leftovers) == (2 if failing_epoch else 0)  # the best and its record only
    code, out, _ = cli(capsys, "history", directory)
    assert code == 0 and "deleted" not in out
    assert ("best" if failing_epoch else "none saved") in out.splitlines()[1]
    # With space again, the same model continues the same version.
    full.failing = False
    full.epoch = 99
    fit_into(directory, model=model, epochs=1, callbacks=[full], monitor="loss")
    with kit.History(directory) as history:
        assert history.version(1).epochs == failing_epoch + 1
        assert history.version(1).file_status == {"best": "ok", "last": "ok"}


class Scripted(keras.callbacks.Callback):
    """Writes `score` into the logs, and fills the disk as epoch `fill_at` begins."""

    def __init__(self, scores, fill_at, disk):
        super().__init__()
        self.scores, self.fill_at, self.disk = scores, fill_at, disk

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.fill_at:
            try:
                with open(os.path.join(self.disk, "filler"), "wb", buffering=0) as handle:
                    while True:
                        handle.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC


@pytest.mark.parametrize(
    "scores, what",
    [
        ([0.1, 0.2, 0.3], r"the best model of version 1 \(epoch 2\) \(No space left"),
        # No better score at epoch 2: only the index is written, and SQLite finds it full.
        ([0.1, 0.05, 0.3], r"epoch 2 of version 1 \(database or disk is full\)"),
    ],
)
def test_full_disk_on_a_real_filesystem(small_disk, scores, what):
    directory = os.path.join(small_disk, "history")
    with pytest.raises(HistoryWriteError, match=rf"could not write {what}"):
        fit_into(
            directory,
            epochs=3,
            callbacks=[Scripted(scores, 1, small_disk)],
            monitor="score",
            mode="max",
        )
    os.remove(os.path.join(small_disk, "filler"))
    with kit.History(directory) as history:
        assert history.version(1).epochs == 1 and history.version(1).best == 0.1
        assert history.version(1).file_status == {"best": "ok"}
        history.load(1)
    assert all(".tmp-" not in name for name in os.listdir(os.path.join(directory, "versions", "1")))


# -- shared directories: permissions -------------------------------------------------------


def test_model_files_and_records_honour_the_umask(tmp_path):
    previous = os.umask(0o002)
    try:
        fit_into(tmp_path / "history", epochs=1)
    finally:
        os.umask(previous)
    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in (tmp_path / "history" / "versions" / "1").iterdir()
    }
    assert len(modes) == 4 and set(modes.values()) == {0o664}, modes
    record = next(p for p in (tmp_path / "history" / "versions" / "1").glob("best-*.json"))
    assert json.loads(record.read_text())["committed"] is True
