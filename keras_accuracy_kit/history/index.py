"""The history's SQLite index: versions, their epochs and files, changed in transactions.

WAL mode lets readers in other processes (TensorBoard, a second terminal) read while a
training process writes; every change is one transaction, so a reader -- or a process
that starts after a crash -- sees the last committed state and never a half-written one.
"""

import json
import os
import sqlite3
import time
import urllib.parse
import uuid

from keras_accuracy_kit.history.errors import NewerSchemaError  # noqa: F401 - re-exported

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


#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_SECONDS = 60.0


def connect(path, create, history_id=None):
    """Opens the index at `path` for writing, in WAL mode; creates the schema when `create`.

    A new index gets a random `history_id` (or the given one, when rebuilding): model
    records carry it, which proves that a file is this history's own.

    Processes that open one new index at once race to switch it to WAL: SQLite answers
    "database is locked" at once, without waiting (its deadlock avoidance), to all but
    one. The whole opening is retried until `BUSY_TIMEOUT_SECONDS` have passed.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.01
    while True:
        try:
            return _connect_once(path, create, history_id)
        except sqlite3.OperationalError as error:
            text = str(error).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _connect_once(path, create, history_id):
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if create:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
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
                connection.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('history_id', ?)",
                    (json.dumps(history_id or uuid.uuid4().hex),),
                )
    except BaseException:
        connection.close()
        raise
    return connection


def connect_readonly(path):
    """Opens the index at `path` for reading: works on a read-only filesystem too.

    SQLite reads a WAL database read-only when its `-shm` file exists or can be created.
    On a read-only filesystem after a clean shutdown neither holds, but then there is no
    journal either (the last writer checkpointed it), so the file is read as immutable.
    """
    if os.access(path, os.W_OK) and os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        # Writable: an ordinary connection (that only reads) tidies the journal files up
        # when it closes; a read-only one would leave them behind.
        return _checked_connection(f"file:{urllib.parse.quote(os.path.abspath(path))}")
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    try:
        return _checked_connection(uri)
    except sqlite3.OperationalError as error:
        if "unable to open" not in str(error):
            raise
        journal = f"{path}-wal"
        if os.path.exists(journal) and os.path.getsize(journal) > 0:
            raise  # committed changes live in the journal: immutable would miss them
    return _checked_connection(f"{uri}&immutable=1")


def _checked_connection(uri):
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def damage(connection):
    """None if the index is intact and complete, else what is wrong with it (a string).

    Runs SQLite's `quick_check` (every page readable, the tables well-formed; fast on an
    index of a few thousand epochs) and checks that the kit's tables and keys are there.
    """
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            return "; ".join(problems[:3])
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = {"meta", "versions", "epochs"} - tables
        if missing:
            return f"no table {', '.join(sorted(missing))} (an empty or truncated file?)"
        if schema_version(connection) is None:
            return "no schema_version"
    except sqlite3.DatabaseError as error:
        if not is_damage(error):
            raise  # busy, unreadable directory, ...: not the file's fault
        return str(error)
    return None


def is_damage(error):
    """Whether an sqlite3 error means the file is damaged (not busy, closed or full)."""
    if isinstance(error, sqlite3.ProgrammingError) or not isinstance(
        error, sqlite3.DatabaseError
    ):
        return False
    text = str(error).lower()
    transient = ("locked", "busy", "disk is full", "unable to open", "readonly", "read-only")
    return not any(word in text for word in transient)


class transaction:  # noqa: N801 - used as a context manager, like sqlite3's own
    """`with transaction(connection):` BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error.

    BEGIN IMMEDIATE takes the write lock at once, so whatever the block reads is what it
    writes over: a read-modify-write is atomic against other processes.
    """

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind, value, traceback):
        if kind is None:
            try:
                self.connection.execute("COMMIT")
            except BaseException:
                _rollback(self.connection)
                raise
        else:
            _rollback(self.connection)
        return False


def _rollback(connection):
    """ROLLBACK, without hiding the error that caused it if it fails too (disk I/O)."""
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def schema_version(connection):
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row["value"])


def history_id(connection):
    """The random id of this history (None in indexes written before it existed)."""
    return get_meta(connection, "history_id")


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


# -- versions and epochs: every query of the history, named ----------------------------


def version_ids(connection):
    """The ids of the indexed versions, ascending."""
    return [row[0] for row in connection.execute("SELECT id FROM versions ORDER BY id")]


def versions(connection):
    """Every version row (`sqlite3.Row`), by id."""
    return connection.execute("SELECT * FROM versions ORDER BY id").fetchall()


def version(connection, version_id):
    """The row of one version, or `None`."""
    return connection.execute("SELECT * FROM versions WHERE id = ?", (version_id,)).fetchone()


def version_with_fingerprint(connection, digest):
    """The id of the version with this configuration fingerprint, or `None`."""
    row = connection.execute("SELECT id FROM versions WHERE fingerprint = ?", (digest,)).fetchone()
    return None if row is None else row["id"]


def largest_version_id(connection):
    """The largest version id in the index, `0` when it has none."""
    return connection.execute("SELECT max(id) FROM versions").fetchone()[0] or 0


def fingerprints(connection):
    """`{version id: configuration fingerprint}`."""
    return dict(connection.execute("SELECT id, fingerprint FROM versions").fetchall())


def referenced_files(connection):
    """The model files the index names (relative paths, normalised)."""
    referenced = set()
    for row in connection.execute("SELECT best_file, last_file FROM versions"):
        referenced.update(os.path.normpath(name) for name in row if name)
    return referenced


def add_version(connection, version_id, parent, digest, configuration, monitor, mode):
    """Indexes a new version (no epochs, no files yet)."""
    connection.execute(
        "INSERT INTO versions(id, parent, fingerprint, configuration, created,"
        " monitor, mode) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (version_id, parent, digest, json.dumps(configuration, sort_keys=True), now(), monitor,
         mode),
    )  # fmt: skip


def add_epoch(connection, version_id, step, epoch, metrics, seconds, mode):
    """Records an epoch of a version and adds its time to the version's."""
    connection.execute(
        "INSERT INTO epochs(version, step, epoch, metrics, wall_time) VALUES (?, ?, ?, ?, ?)",
        (version_id, step, epoch, json.dumps(metrics), seconds),
    )
    connection.execute(
        "UPDATE versions SET epochs = epochs + 1, wall_time = wall_time + ?, mode = ?"
        " WHERE id = ?",
        (seconds, mode, version_id),
    )


def set_best(connection, version_id, value, step, file):
    """Names `file` the best model of a version (the monitored `value` at `step`)."""
    connection.execute(
        "UPDATE versions SET best_value = ?, best_epoch = ?, best_file = ?, "
        "files_deleted = 0 WHERE id = ?",
        (value, step, file, version_id),
    )


def set_last_file(connection, version_id, file):
    """Names `file` the model of a version at the end of its training."""
    connection.execute("UPDATE versions SET last_file = ? WHERE id = ?", (file, version_id))


def scored_versions(connection):
    """The rows (`id, best_value, best_file, last_file`) of the versions with a best value."""
    return connection.execute(
        "SELECT id, best_value, best_file, last_file FROM versions WHERE best_value IS NOT NULL"
    ).fetchall()


def forget_files(connection, version_id):
    """Marks the model files of a version deleted (its record stays)."""
    connection.execute(
        "UPDATE versions SET best_file = NULL, last_file = NULL, files_deleted = 1 WHERE id = ?",
        (version_id,),
    )


def epochs(connection, version_id=None):
    """The epoch rows of one version by step, or of every version when `version_id` is None."""
    if version_id is None:
        return connection.execute("SELECT * FROM epochs").fetchall()
    return connection.execute(
        "SELECT * FROM epochs WHERE version = ? ORDER BY step", (version_id,)
    ).fetchall()


def meta(connection):
    """`{key: JSON text}` of the meta table."""
    return {row["key"]: row["value"] for row in connection.execute("SELECT key, value FROM meta")}


def copy_version(connection, row):
    """Inserts a version row as read from another index (a rebuild), every column kept."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    connection.execute(f"INSERT INTO versions({columns}) VALUES ({marks})", tuple(row.values()))


def copy_epoch(connection, row):
    """Inserts an epoch row as read from another index (a rebuild)."""
    connection.execute(
        "INSERT INTO epochs(version, step, epoch, metrics, wall_time) VALUES (?, ?, ?, ?, ?)",
        (row["version"], row["step"], row["epoch"], row["metrics"], row["wall_time"]),
    )
