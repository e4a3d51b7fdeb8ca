"""Atomic file writes: a crash mid-write leaves the previous file intact."""

import os
import tempfile
import threading

_UMASK_LOCK = threading.Lock()


def atomic_write(path, write, suffix=".tmp"):
    """Creates `path` through `write(temporary_path)`, so readers never see it half-written.

    `write` fills a temporary file in the same directory, which is then fsynced and moved
    over `path` with `os.replace` (atomic on POSIX and Windows). If anything fails, the
    temporary file is removed and `path` keeps its previous content. The file gets the
    permissions `open()` would give it (0666 minus the umask), not the private 0600 of a
    temporary file, so that others sharing the directory can read it as usual.

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
        os.chmod(temporary, 0o666 & ~current_umask())
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


def current_umask():
    """The process's umask, read without changing it where the platform allows.

    Example:

    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


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
