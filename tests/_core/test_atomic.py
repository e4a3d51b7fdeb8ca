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
