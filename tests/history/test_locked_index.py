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
