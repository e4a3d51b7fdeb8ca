"""What can go wrong with a history directory, as exceptions that say how to recover.

Each is a subclass of the exception a caller would already catch (`ValueError` for a
directory that cannot be used as given, `OSError` for a write the system refused), so code
written against the plain types keeps working.
"""


class NewerSchemaError(ValueError):
    """The directory was written by a newer keras-accuracy-kit."""


class CorruptIndexError(ValueError):
    """`index.sqlite` is missing, unreadable or inconsistent with the model files.

    The model files are never touched when this is raised; `kit.History.rebuild(directory)`
    (or `kak history DIRECTORY --rebuild`) recreates the index from them.
    """


class HistoryWriteError(OSError):
    """A model file or the index could not be written (disk full, permissions, I/O error).

    The index keeps its last committed state, so the history stays consistent: the epoch
    whose write failed is not recorded. `errno` is the system's error number, if any.
    """

    def __init__(self, message, errno=None):
        super().__init__(message)
        self.errno = errno
