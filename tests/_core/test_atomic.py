"""Atomic writes: the old file survives a crash mid-write, and no temporary file is left."""

import os
import stat

import pytest

from keras_accuracy_kit._core import atomic


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "index.json"
    atomic.atomic_write_bytes(target, b"one")
    atomic.atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["index.json"]


def test_crash_before_replace_leaves_last_good_state(tmp_path, monkeypatch):
    target = tmp_path / "index.json"
    atomic.atomic_write_bytes(target, b"good")

    def crash(*args, **kwargs):
        raise OSError("disk unplugged")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="disk unplugged"):
        atomic.atomic_write_bytes(target, b"half")
    assert target.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["index.json"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_files_honour_the_umask_like_open(tmp_path, umask):
    # Issue 15: model files were created 0600 (mkstemp) while the index was 0644, so
    # others sharing a history could list versions but not load them.
    previous = os.umask(umask)
    try:
        atomic.atomic_write_bytes(tmp_path / "atomic.bin", b"x")
        with open(tmp_path / "plain.bin", "wb") as handle:
            handle.write(b"x")
        assert atomic.current_umask() == umask
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(os.stat(tmp_path / "atomic.bin").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain.bin").st_mode) == 0o666 & ~umask


def test_the_order_is_write_fsync_rename_then_fsync_the_directory(tmp_path, monkeypatch):
    # Issue 22: a missing fsync or a write in place is invisible to a content check.
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        status = os.fstat(descriptor)
        kind = "directory" if stat.S_ISDIR(status.st_mode) else "file"
        events.append(("fsync", kind, status.st_ino))
        return real_fsync(descriptor)

    def replace(source, destination):
        events.append(("replace", os.stat(source).st_ino, os.fspath(destination)))
        return real_replace(source, destination)

    def write(temporary):
        assert os.path.dirname(temporary) == str(tmp_path)  # same filesystem: rename is atomic
        assert temporary != str(target) and target.read_bytes() == b"old"
        with open(temporary, "wb") as stream:
            stream.write(b"new")
        events.append(("write", os.stat(temporary).st_ino))

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic.atomic_write(target, write, suffix=".keras")
    inode = events[0][1]
    assert events == [
        ("write", inode),
        ("fsync", "file", inode),
        ("replace", inode, str(target)),
        ("fsync", "directory", os.stat(tmp_path).st_ino),
    ]
    assert target.read_bytes() == b"new" and os.stat(target).st_ino == inode


def test_a_writer_dying_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "index.json"
    atomic.atomic_write_bytes(target, b'{"good": 1}')

    class Killed(BaseException):
        pass

    def torn(temporary):
        with open(temporary, "wb") as stream:
            stream.write(b'{"go')
        raise Killed

    with pytest.raises(Killed):
        atomic.atomic_write(target, torn)
    assert target.read_bytes() == b'{"good": 1}'
    assert os.listdir(tmp_path) == ["index.json"]
