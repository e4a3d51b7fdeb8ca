"""Atomic writes: the old file survives a crash mid-write, and no temporary file is left."""

import os

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
