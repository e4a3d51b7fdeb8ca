"""The history's SQLite index: versions, their epochs and files, changed in transactions.

WAL mode lets readers in other processes (TensorBoard, a second terminal) read while a
training process writes; every change is one transaction, so a reader -- or a process
that starts after a crash -- sees the last committed state and never a half-written one.
"""

import json
import sqlite3
import time

#: Version of the on-disk layout. Bump it when the schema changes.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    parent INTEGER,
    fingerprint TEXT NOT NULL UNIQUE,
    configuration TEXT NOT NULL,
    created REAL NOT NULL,
    monitor TEXT NOT NULL,
    mode TEXT NOT NULL,
    best_value REAL,
    best_epoch INTEGER,
    best_file TEXT,
    last_file TEXT,
    epochs INTEGER NOT NULL DEFAULT 0,
    wall_time REAL NOT NULL DEFAULT 0,
    files_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS epochs (
    version INTEGER NOT NULL REFERENCES versions(id),
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (version, step)
);
"""


class NewerSchemaError(ValueError):
    """The directory was written by a newer keras-accuracy-kit."""


def connect(path, create):
    """Opens the index at `path` in WAL mode; creates the schema when `create`."""
    connection = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA busy_timeout = 30000")
    if create:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        with transaction(connection):
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
    return connection


class transaction:  # noqa: N801 - used as a context manager, like sqlite3's own
    """`with transaction(connection):` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind, value, traceback):
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")
        return False


def schema_version(connection):
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row["value"])


def get_meta(connection, key, default=None):
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row["value"])


def set_meta(connection, key, value):
    connection.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


def now():
    return time.time()
