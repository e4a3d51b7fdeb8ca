"""`index.connect`'s retry of "database is locked", on a scripted clock (no real waiting).

A new index that several processes open at once answers "database is locked" without
SQLite's busy wait to all but one (see `test_locked_index.py`); `connect` retries the whole
opening, backing off from 10 ms, doubling up to half a second, until `BUSY_TIMEOUT_SECONDS`
have passed. Anything else is raised at once. Numbers derived by hand.
"""

import sqlite3
import threading

import pytest

from keras_accuracy_kit.history import index


class ScriptedOpening:
    """`_connect_once` failing with `errors` in turn, then succeeding; a clock that sleeps."""

    def __init__(self, monkeypatch, errors):
        self.errors = list(errors)
        self.attempts = 0
        self.now = 1000.0
        self.sleeps = []
        monkeypatch.setattr(index, "_connect_once", self.open)
        monkeypatch.setattr(index.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(index.time, "sleep", self.sleep)

    def open(self, path, create, history_id):
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "connection"

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_locked_opening_backs_off_from_10_ms_doubling_to_half_a_second(monkeypatch):
    locked = [sqlite3.OperationalError("database is locked")] * 7
    busy = [sqlite3.OperationalError("Database is BUSY")]  # SQLITE_BUSY's other wording
    opening = ScriptedOpening(monkeypatch, locked + busy)
    assert index.connect("unused.sqlite", create=True) == "connection"
    assert opening.attempts == 9
    assert opening.sleeps == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5])


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.DatabaseError("file is not a database"),
    ],
)
def test_an_error_that_is_not_a_lock_is_raised_at_once(monkeypatch, error):
    opening = ScriptedOpening(monkeypatch, [error])
    with pytest.raises(type(error), match=str(error)):
        index.connect("unused.sqlite", create=True)
    assert opening.attempts == 1 and opening.sleeps == []


def test_a_lock_that_outlasts_the_busy_timeout_is_raised(monkeypatch):
    # Sleeps of 0.01 ... 0.32 s (0.63 s), then 0.5 s each: the attempt after the clock
    # passes 60 s raises. After 118 half-seconds the clock stands at 59.63 s, after 119 at
    # 60.13 s: 6 + 119 sleeps, and the attempt after the last one raises.
    opening = ScriptedOpening(monkeypatch, [sqlite3.OperationalError("database is locked")] * 500)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        index.connect("unused.sqlite", create=True)
    assert len(opening.sleeps) == 6 + 119
    assert opening.attempts == len(opening.sleeps) + 1
    assert opening.now - 1000.0 == pytest.approx(60.13)


def test_a_writer_waits_for_another_processs_write_lock(tmp_path):
    # Once open, a writer's transaction waits (SQLite's busy timeout, BUSY_TIMEOUT_SECONDS)
    # for another connection's write lock instead of failing at once.
    path = str(tmp_path / "index.sqlite")
    connection = index.connect(path, create=True)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, holder.execute, ("ROLLBACK",))
        release.start()
        with index.transaction(connection):
            index.set_meta(connection, "probe", 1)
        release.join()
        assert index.get_meta(connection, "probe") == 1
    finally:
        holder.close()
        connection.close()


@pytest.mark.parametrize("journal_bytes, immutable", [(None, True), (0, True), (32, False)])
def test_a_read_only_index_is_read_immutable_only_without_committed_journal(
    tmp_path, monkeypatch, journal_bytes, immutable
):
    """On a read-only filesystem SQLite cannot open a WAL index read-only ("unable to open":
    no `-shm` can be made); the index is then read as immutable, unless the journal holds
    committed changes (immutable reading would miss them). An empty journal holds none."""
    path = str(tmp_path / "index.sqlite")
    index.connect(path, create=True).close()
    if journal_bytes is not None:
        with open(f"{path}-wal", "wb") as journal:
            journal.write(b"\0" * journal_bytes)
    opened = []
    checked = index._checked_connection

    def read_only_filesystem(uri):
        opened.append(uri)
        if "immutable=1" not in uri:
            raise sqlite3.OperationalError("unable to open database file")
        return checked(uri)

    monkeypatch.setattr(index.os, "access", lambda *_: False)  # root may write anywhere
    monkeypatch.setattr(index, "_checked_connection", read_only_filesystem)
    if immutable:
        index.connect_readonly(path).close()
        assert opened[-1].endswith("?mode=ro&immutable=1")
    else:
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            index.connect_readonly(path)
        assert len(opened) == 1
