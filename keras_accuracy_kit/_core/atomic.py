"""Atomic file writes: a crash mid-write leaves the previous file intact."""

import os
import tempfile


def atomic_write(path, write, suffix=".tmp"):
    """Creates `path` through `write(temporary_path)`, so readers never see it half-written.

    `write` fills a temporary file in the same directory, which is then fsynced and moved
    over `path` with `os.replace` (atomic on POSIX and Windows). If anything fails, the
    temporary file is removed and `path` keeps its previous content.

    Args:
        path: String or path-like. The destination file.
        write: Callable taking the temporary path (e.g. `model.save`).
        suffix: String. Suffix of the temporary name, for writers that check the
            extension (`".keras"`, `".weights.h5"`). Defaults to `".tmp"`.

    Example:

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(target, lambda tmp: open(tmp, "w").write("saved"))
    >>> open(target).read()
    'saved'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".tmp-{os.path.basename(path)}.", suffix=suffix
    )
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` atomically (see `atomic_write`).

    Args:
        path: String or path-like. The destination file.
        data: Bytes. The full new content.

    Example:

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "grid.png")
    >>> atomic_write_bytes(target, b"new")
    >>> open(target, "rb").read()
    b'new'
    """

    def write(temporary):
        with open(temporary, "wb") as stream:
            stream.write(data)

    atomic_write(path, write)


def _fsync_directory(directory):
    """Makes the rename durable where the platform allows opening directories."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
