"""Filesystem fixtures for the history tests: a read-only view and a small full disk."""

import contextlib
import os
import subprocess
import uuid

import pytest


def _run(*command):
    return subprocess.run(command, capture_output=True, text=True).returncode == 0


@contextlib.contextmanager
def _mounted(target, *mount_arguments):
    os.makedirs(target, exist_ok=True)
    if not _run("mount", *mount_arguments, target):
        pytest.skip(f"cannot mount here (needs root with CAP_SYS_ADMIN): mount {mount_arguments}")
    try:
        yield target
    finally:
        if not _run("umount", target):
            _run("umount", "-l", target)


@pytest.fixture
def read_only_view(tmp_path):
    """`view(directory)`: a context giving `directory` on a read-only bind mount.

    A real read-only filesystem (EROFS), as a shared or archived history is. Without the
    right to mount, a non-root user gets the directory with its write bits removed; root
    without it skips (root writes through permissions).
    """

    @contextlib.contextmanager
    def view(directory):
        directory = str(directory)
        if os.geteuid() != 0:
            modes = {}
            for root, _, files in os.walk(directory):
                for path in [root, *(os.path.join(root, f) for f in files)]:
                    modes[path] = os.stat(path).st_mode
                    os.chmod(path, modes[path] & ~0o222)
            try:
                yield directory
            finally:
                for path, mode in modes.items():
                    os.chmod(path, mode)
            return
        target = str(tmp_path / f"read-only-{uuid.uuid4().hex[:6]}")
        with _mounted(target, "--bind", directory):
            if not _run("mount", "-o", "remount,ro,bind", target):
                _run("umount", target)
                pytest.skip("cannot remount read-only here")
            yield target

    return view


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (a disk that really fills up); skipped where mounting is not allowed."""
    with _mounted(str(tmp_path / "small-disk"), "-t", "tmpfs", "-o", "size=4m", "tmpfs") as path:
        yield path
