"""Atomic file writes: a crash mid-write leaves the previous file intact."""

import os
import tempfile


def atomic_write_bytes(path, data):
    """Writes `data` to `path` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same directory, which is flushed, fsynced and
    then moved over `path` with `os.replace` (atomic on POSIX and Windows).

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
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


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
