"""An index another process holds longer than the busy timeout: a clear error, not "damaged".

A lock is no damage (a mutant reporting every sqlite error as a damaged index survived
the history's tests, issue 22): the run stops with a `HistoryWriteError` that says another
process held the index, and the history is unchanged and readable afterwards.
"""

import sqlite3

import keras
import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.history import index
from keras_accuracy_kit.history.errors import HistoryWriteError
from tests.history.helpers import digits_data, digits_model


def test_a_locked_index_stops_fit_with_a_clear_error(tmp_path, monkeypatch):
    x, y, _, _ = digits_data()
    model = digits_model()
    fit = dict(x=x[:128], y=y[:128], batch_size=64, verbose=0)
    model.fit(epochs=1, callbacks=[kit.callbacks.CheckpointOnChange(tmp_path, "loss")], **fit)
    monkeypatch.setattr(index, "BUSY_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)

    class TakeTheLock(keras.callbacks.Callback):
        """Another process begins a write transaction just before the epoch is recorded."""

        def on_epoch_end(self, epoch, logs=None):
            holder.execute("BEGIN IMMEDIATE")

    callback = kit.callbacks.CheckpointOnChange(tmp_path, "loss", hparams={"run": 2})
    try:
        with pytest.raises(HistoryWriteError, match=r"another process held the index .*locked"):
            model.fit(epochs=1, callbacks=[TakeTheLock(), callback], **fit)
    finally:
        if holder.in_transaction:
            holder.rollback()
        holder.close()
    with kit.History(tmp_path) as history:
        versions = history.versions()
        assert [v.epochs for v in versions] == [1, 0]  # the new version has no epoch yet
        assert all(v.file_status.get("best") == "ok" for v in versions[:1])


class _RacedConnection(sqlite3.Connection):
    """A connection that loses the race to switch a new index to WAL `losses` times.

    SQLite answers "database is locked" at once, without its busy wait, to a process that
    reads a new index while another switches it to WAL (its deadlock avoidance): CI saw it
    when processes started on one new history together.
    """

    losses = 0

    def execute(self, sql, *args):
        if sql.strip().upper() == "PRAGMA JOURNAL_MODE = WAL" and _RacedConnection.losses:
            _RacedConnection.losses -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().execute(sql, *args)


@pytest.fixture
def raced_connections(monkeypatch):
    connect = sqlite3.connect
    monkeypatch.setattr(
        index.sqlite3, "connect", lambda *a, **k: connect(*a, factory=_RacedConnection, **k)
    )
    yield _RacedConnection
    _RacedConnection.losses = 0


def test_losing_the_race_to_create_an_index_is_retried(tmp_path, raced_connections):
    raced_connections.losses = 3
    connection = index.connect(str(tmp_path / "index.sqlite"), create=True)
    try:
        assert raced_connections.losses == 0
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert index.schema_version(connection) == index.SCHEMA_VERSION
    finally:
        connection.close()


def test_an_index_locked_past_the_timeout_at_train_begin_says_so(
    tmp_path, raced_connections, monkeypatch
):
    monkeypatch.setattr(index, "BUSY_TIMEOUT_SECONDS", 0.3)
    raced_connections.losses = 10**6
    x, y, _, _ = digits_data()
    callback = kit.callbacks.CheckpointOnChange(tmp_path, "loss")
    with pytest.raises(HistoryWriteError, match=r"another process held the index .*locked"):
        digits_model().fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[callback])
