"""CheckpointOnChange: a new model version whenever the configuration changes."""

import glob
import numbers
import os
import sqlite3
import time
import uuid

import keras

from keras_accuracy_kit._core import atomic, checks, distribution
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit.history.fingerprint import canonical, fingerprint, model_configuration
from keras_accuracy_kit.history import index, model_record, store
from keras_accuracy_kit.history.errors import CorruptIndexError, HistoryWriteError

#: Age (seconds) after which an uncommitted file in the history is a crash's leftover.
STALE_AFTER_SECONDS = 3600


class CheckpointOnChange(keras.callbacks.Callback):
    """Saves your model every time you change it, as a version you can go back to.

    At train begin the callback fingerprints the configuration: the architecture, the
    compile arguments (optimizer and its config, loss, metrics), the steps per epoch, your
    `hparams` and the data pipeline's configuration (`data_config`: a dict, or the kit
    transforms and Keras layers you map over the data, which expose `get_config()`). A new
    fingerprint opens a new version whose parent is the previous one (or the one you rolled
    back to); a known fingerprint continues its version. Within a version it keeps the
    best model by `monitor` and the last one, and records every epoch's metrics and wall
    time. `kit.History(directory)` reads it all back.

    Storage is crash-safe and shared-safe: an SQLite index in WAL mode changed in
    transactions (each epoch's read-modify-write in one `BEGIN IMMEDIATE`, so processes
    training into one directory at once never lose an epoch nor let a worse model replace
    a better best), and `.keras` files written to a temporary name, fsynced and renamed
    before the index refers to them. Beside each model file a small record (`.keras.json`)
    holds what `kit.History.rebuild` needs to recreate a lost index. A file is deleted
    only when the index stops referring to it, or when its record proves it is this
    history's own leftover of a crash (untouched for an hour). Under `tf.distribute` only
    the chief writes. A write the system refuses (disk full) stops `fit` with a
    `HistoryWriteError` that says what was kept.

    Args:
        directory: Path. Where the history lives; created if missing.
        monitor: String. The log key that picks the best model. Defaults to
            `"val_accuracy"`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        hparams: Optional dict. Your hyperparameters (batch size, ...), part of the
            fingerprint. Values must describe themselves the same way in every run:
            numbers, strings, lists, dicts, sets (sorted), numpy arrays, functions defined
            at module level (by qualified name), objects with `get_config()`; a lambda is
            refused. Defaults to `None`.
        data_config: Optional dict, or list of objects with `get_config()`: the data
            pipeline, part of the fingerprint (same values as `hparams`). Defaults to
            `None`.
        keep_best: Optional positive int. Keep the model files of the `keep_best` best
            versions only (metadata of all versions stays). Defaults to `None` (keep all).
        save_last: Bool. Also keep the model at the end of each run. Defaults to `True`.

    Example:

    ```python
    augment = kit.resize(64, 64)
    history = kit.callbacks.CheckpointOnChange(
        "runs/history", hparams={"batch_size": 32}, data_config=[augment])
    model.fit(train.map(augment).batch(32), validation_data=val, epochs=20,
              callbacks=[history])
    kit.History("runs/history").best()
    ```
    """

    def __init__(
        self,
        directory,
        monitor="val_accuracy",
        mode="auto",
        hparams=None,
        data_config=None,
        keep_best=None,
        save_last=True,
    ):
        super().__init__()
        owner = "CheckpointOnChange"
        self.directory = _check_directory_argument(owner, directory)
        self._tracked = monitor_lib.MonitoredBest(owner, monitor, mode)
        self.mode = mode
        if keep_best is not None and (
            isinstance(keep_best, bool)
            or not isinstance(keep_best, numbers.Integral)
            or keep_best <= 0
        ):
            raise ValueError(
                f"{owner}: `keep_best` must be None or a positive integer. Received: "
                f"keep_best={keep_best!r}. E.g. keep_best=3 keeps the files of the 3 best "
                "versions."
            )
        if hparams is not None and not isinstance(hparams, dict):
            raise ValueError(f"{owner}: `hparams` must be a dict. Received: hparams={hparams!r}.")
        # Fail now, not at train begin, on values without a stable description.
        canonical(owner, "hparams", hparams or {})
        if isinstance(data_config, (list, tuple)):
            for position, item in enumerate(data_config):
                canonical(owner, f"data_config[{position}]", item)
        else:
            canonical(owner, "data_config", data_config)
        self.monitor = monitor
        self.hparams = dict(hparams or {})
        self.data_config = data_config
        self.keep_best = None if keep_best is None else int(keep_best)
        self.save_last = checks.check_bool(owner, "save_last", save_last)
        self.version_id = None
        self._connection = None
        self._records = {}
        if distribution.is_chief():
            # Fail now, not at epoch 37: the directory must be writable and its index sound.
            checks.ensure_writable_directory(owner, "directory", self.directory)
            connection = self._open_index(create=False) if os.path.exists(
                self._path(store.INDEX_FILE)
            ) else None
            try:
                self._check_every_version_is_indexed(connection)
            finally:
                if connection is not None:
                    connection.close()

    # -- helpers -----------------------------------------------------------------------

    def _is_chief(self):
        return distribution.is_chief(getattr(self.model, "distribute_strategy", None))

    def _path(self, name):
        return os.path.join(self.directory, name)

    def _open_index(self, create):
        try:
            return store.open_index(
                "CheckpointOnChange", self.directory, writable=True, create=create
            )
        except OSError as error:
            raise store.write_error(
                "CheckpointOnChange", f"the index {self._path(store.INDEX_FILE)}", error
            ) from error

    def _check_every_version_is_indexed(self, connection):
        """Refuses a directory whose model files the index does not know (a lost index)."""
        if connection is None:
            files = store.model_files(self.directory)
            if files:
                raise store.missing_index_error("CheckpointOnChange", self.directory, files)
            return
        unindexed = store.unindexed_versions(connection, self.directory)
        if unindexed:
            known = index.version_ids(connection)
            raise CorruptIndexError(
                f"CheckpointOnChange: `directory` must hold an index that names every version "
                f"with model files. Received: directory={self.directory!r}; versions/"
                f"{sorted(unindexed)} hold model files but {store.INDEX_FILE} names versions "
                f"{known} (was it deleted, replaced or truncated?). The model files are intact "
                f"and nothing was deleted. {store.recovery_hint(self.directory)}"
            )

    def _close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _failure(self, error, what, state=""):
        """The clear error for a failed write or read of the history; closes the index."""
        self._close()
        if isinstance(error, sqlite3.Error) and index.is_damage(error):
            return store.damaged_index_error("CheckpointOnChange", self.directory, str(error))
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            return HistoryWriteError(
                f"CheckpointOnChange: could not write {what}: another process held the index "
                f"{self._path(store.INDEX_FILE)} for more than {index.BUSY_TIMEOUT_SECONDS:.0f} s "
                f"({error}). {state}The index keeps its last committed state; run again."
            )
        return store.write_error("CheckpointOnChange", what, error, state)

    def _write_model(self, kind, epoch, value, metrics, seconds):
        """Writes a model file and its record (record first); returns its relative path.

        Until a transaction names it in the index, the file is a candidate: a crash leaves
        it as a leftover that its record proves to be this history's own.
        """
        relative = os.path.join(
            store.VERSIONS, str(self.version_id), f"{kind}-{uuid.uuid4().hex[:12]}.keras"
        )
        path = self._path(relative)
        record = dict(
            self._record_base,
            mode=self._resolved_mode or self.mode,
            file=kind,
            epoch=epoch,
            value=value,
            metrics=metrics,
            epoch_seconds=seconds,
            step=None,
            epochs=None,
            wall_time=None,
            committed=False,
            writer=os.getpid(),
        )
        model_record.write(path, record)
        try:
            atomic.atomic_write(path, self.model.save, suffix=".keras")
        except BaseException:
            _remove(model_record.record_path(path))
            raise
        self._records[relative] = record
        return relative

    def _commit_record(self, relative, **fields):
        """Rewrites a candidate's record as committed (inside the transaction naming it)."""
        record = dict(self._records.pop(relative), committed=True, **fields)
        model_record.write(self._path(relative), record)

    def _remove_model(self, relative):
        self._records.pop(relative, None)
        path = self._path(relative)
        _remove(path)
        _remove(model_record.record_path(path))

    def _remove_unreferenced_files(self):
        """Deletes what a crash left, and only that: never a file it cannot prove is its own.

        A file is removed when the index does not refer to it, it is untouched for
        `STALE_AFTER_SECONDS` (in a directory shared by several processes, a fresh
        unreferenced file is another writer's, between its write and its commit), and it
        is either a temporary file of an atomic write (`.tmp-*`) or a model file (or
        record) whose record carries this history's id, its version and fingerprint. A
        model file of a lost index, a file without a record or anything else is kept.
        """
        connection = self._connection
        fingerprints = index.fingerprints(connection)
        referenced = index.referenced_files(connection)
        history_id = index.history_id(connection)
        stale_before = time.time() - STALE_AFTER_SECONDS
        pattern = self._path(os.path.join(store.VERSIONS, "*"))
        for path in glob.glob(os.path.join(pattern, "*")) + glob.glob(
            os.path.join(pattern, ".tmp-*")
        ):
            relative = os.path.normpath(os.path.relpath(path, self.directory))
            name = os.path.basename(path)
            folder = os.path.basename(os.path.dirname(path))
            version = int(folder) if folder.isdigit() else None
            if relative in referenced or version is None:
                continue
            try:
                if os.path.getmtime(path) >= stale_before:
                    continue
            except FileNotFoundError:  # its writer renamed or removed it meanwhile
                continue
            if name.startswith(".tmp-"):
                _remove(path)
                continue
            if name.endswith(".keras"):
                model = path
            elif name.endswith(".keras" + model_record.SUFFIX):
                model = path[: -len(model_record.SUFFIX)]
                if os.path.exists(model) or os.path.basename(model).startswith(".tmp-"):
                    continue  # judged with its model file
            else:
                continue
            record = model_record.read(model)
            if not model_record.belongs_to(
                record, history_id, version, fingerprints.get(version)
            ) or record.get("model_deleted"):
                continue
            _remove(model)
            _remove(model_record.record_path(model))

    @property
    def _resolved_mode(self):
        """"min" or "max" once known (from the name at `on_train_begin`, else at the first
        epoch end), else None."""
        return self._tracked.mode

    # -- fit hooks ---------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.version_id = None
        self._records = {}
        self._last_value = None
        self._tracked.on_train_begin(self.model)
        if not self._is_chief():
            return
        configuration = model_configuration(
            self.model, self.params, self.hparams, self.data_config
        )
        digest = fingerprint(configuration)
        self._close()
        self._connection = self._open_index(create=True)
        try:
            self._check_every_version_is_indexed(self._connection)
            with index.transaction(self._connection) as connection:
                self.version_id = index.version_with_fingerprint(connection, digest)
                if self.version_id is None:
                    parent = index.get_meta(connection, "base_version")
                    if parent is None:
                        parent = index.get_meta(connection, "current_version")
                    # Never reuse a versions/<id> directory, even one the index forgot.
                    used = [
                        index.largest_version_id(connection),
                        *store.version_directories(self.directory),
                    ]
                    self.version_id = max(used) + 1
                    index.add_version(
                        connection,
                        self.version_id,
                        parent,
                        digest,
                        configuration,
                        self.monitor,
                        self._resolved_mode or self.mode,
                    )
                    index.set_meta(connection, "base_version", None)
                index.set_meta(connection, "current_version", self.version_id)
            row = index.version(self._connection, self.version_id)
            self._record_base = {
                "history_id": index.history_id(self._connection),
                "version": self.version_id,
                "parent": row["parent"],
                "fingerprint": digest,
                "configuration": configuration,
                "created": row["created"],
                "monitor": self.monitor,
            }
            self._remove_unreferenced_files()
        except (sqlite3.Error, OSError) as error:
            raise self._failure(error, f"the index {self._path(store.INDEX_FILE)}") from error
        except BaseException:
            self._close()
            raise
        self._epoch_started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        value = self._tracked.read(logs)
        self._last_value = value
        if not self._is_chief() or self.version_id is None or self._connection is None:
            return
        seconds = time.perf_counter() - self._epoch_started
        metrics = {
            key: float(keras.ops.convert_to_numpy(val))
            for key, val in (logs or {}).items()
            if _is_number(val)
        }
        connection = self._connection
        what = f"epoch {epoch + 1} of version {self.version_id}"
        state = (
            f"Training stopped at epoch {epoch + 1}; the history holds version "
            f"{self.version_id} as of the epoch before. "
        )
        candidate = old_file = None
        improved = False
        try:
            # Save the model before taking the write lock if it beats the best committed so
            # far: the best only gets better, so the decision under the lock can only agree
            # or find that another process committed a better one meanwhile.
            snapshot = index.version(connection, self.version_id)
            if self._best_tracker(snapshot["best_value"]).improves(value):
                what = f"the best model of version {self.version_id} (epoch {epoch + 1})"
                candidate = self._write_model("best", epoch, value, metrics, seconds)
            with index.transaction(connection):
                row = index.version(connection, self.version_id)
                step = row["epochs"]
                improved = self._best_tracker(row["best_value"]).improves(value)
                if improved and candidate is None:  # the best got worse (a rebuild): rare
                    candidate = self._write_model("best", epoch, value, metrics, seconds)
                index.add_epoch(
                    connection, self.version_id, step, epoch, metrics, seconds, self._resolved_mode
                )
                if improved:
                    self._commit_record(
                        candidate,
                        step=step,
                        epochs=step + 1,
                        wall_time=row["wall_time"] + seconds,
                    )
                    index.set_best(connection, self.version_id, value, step, candidate)
                    old_file = row["best_file"]
        except BaseException as error:
            if candidate is not None:
                self._remove_model(candidate)
            if isinstance(error, (sqlite3.Error, OSError)):
                raise self._failure(error, what, state) from error
            raise
        if candidate is not None and not improved:
            self._remove_model(candidate)  # another process committed a better one
        if old_file and old_file != candidate:
            self._remove_model(old_file)
        if improved and self.keep_best is not None:
            self._apply_retention()

    def _best_tracker(self, best_value):
        tracker = monitor_lib.BestValue(self._resolved_mode)
        if best_value is not None:
            tracker.value = best_value
        return tracker

    def on_train_end(self, logs=None):
        if not self._is_chief() or self.version_id is None or self._connection is None:
            return
        try:
            if self.save_last:
                self._save_last()
        finally:
            self._close()

    def _save_last(self):
        connection = self._connection
        what = f"the last model of version {self.version_id}"
        state = "Training had finished; the best model is kept. "
        candidate = old_file = None
        used = False
        try:
            snapshot = index.version(connection, self.version_id)
            if snapshot["files_deleted"]:
                return
            candidate = self._write_model(
                "last", snapshot["epochs"] - 1, self._last_value, {}, 0.0
            )
            with index.transaction(connection):
                row = index.version(connection, self.version_id)
                if not row["files_deleted"]:
                    self._commit_record(
                        candidate,
                        step=None,
                        epochs=row["epochs"],
                        wall_time=row["wall_time"],
                    )
                    index.set_last_file(connection, self.version_id, candidate)
                    used, old_file = True, row["last_file"]
        except BaseException as error:
            if candidate is not None:
                self._remove_model(candidate)
            if isinstance(error, (sqlite3.Error, OSError)):
                raise self._failure(error, what, state) from error
            raise
        if candidate is not None and not used:
            self._remove_model(candidate)
        if old_file and old_file != candidate:
            self._remove_model(old_file)

    def _apply_retention(self):
        """Deletes the files of versions outside the `keep_best` best; keeps their records.

        The ranking and the update are one transaction; the files go after the commit.
        Each deleted file's record stays, marked `model_deleted`, so a rebuild still
        recovers the version's metadata.
        """
        connection = self._connection
        try:
            with index.transaction(connection):
                scored = index.scored_versions(connection)
                ranked = sorted(
                    scored, key=lambda row: row["best_value"], reverse=self._resolved_mode == "max"
                )
                dropped = [
                    row for row in ranked[self.keep_best :] if row["best_file"] or row["last_file"]
                ]
                for row in dropped:
                    index.forget_files(connection, row["id"])
        except (sqlite3.Error, OSError) as error:
            raise self._failure(error, "the index (keep_best)") from error
        for row in dropped:
            for relative in (row["best_file"], row["last_file"]):
                if relative:
                    path = self._path(relative)
                    record = model_record.read(path)
                    if record is not None:
                        try:
                            model_record.write(path, dict(record, model_deleted=True))
                        except OSError:
                            pass  # the record only helps a rebuild
                    _remove(path)


def _check_directory_argument(owner, directory):
    path = checks.check_path(owner, "directory", directory, "E.g. directory='runs/history'.")
    return os.path.abspath(path)


def _is_number(value):
    try:
        float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return False
    return True


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
