"""CheckpointOnChange: a new model version whenever the configuration changes."""

import glob
import json
import numbers
import os
import time

import keras

from keras_accuracy_kit._core import atomic, checks, distribution
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit.history import fingerprint as fingerprint_lib
from keras_accuracy_kit.history import index
from keras_accuracy_kit.history.history import INDEX_FILE, History, check_schema

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

    Storage is crash-safe: an SQLite index in WAL mode changed in transactions, and `.keras`
    files written to a temporary name, fsynced and renamed before the index refers to
    them. Under `tf.distribute` only the chief writes.

    Args:
        directory: Path. Where the history lives; created if missing.
        monitor: String. The log key that picks the best model. Defaults to
            `"val_accuracy"`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        hparams: Optional dict. Your hyperparameters (batch size, ...), part of the
            fingerprint. Defaults to `None`.
        data_config: Optional dict, or list of objects with `get_config()`: the data
            pipeline, part of the fingerprint. Defaults to `None`.
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
        monitor_lib.check_monitor(owner, monitor)
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
        self.directory = os.path.abspath(os.fspath(directory))
        self.monitor = monitor
        self.mode = monitor_lib.check_mode(owner, mode)
        self.hparams = dict(hparams or {})
        self.data_config = data_config
        self.keep_best = keep_best
        self.save_last = bool(save_last)
        self.version_id = None
        self._connection = None
        if distribution.is_chief():
            # Fail now, not at epoch 37: the directory must be writable and readable.
            checks.ensure_writable_directory(owner, "directory", self.directory)
            if os.path.exists(self._path(INDEX_FILE)):
                connection = index.connect(self._path(INDEX_FILE), create=False)
                try:
                    check_schema(owner, connection, self.directory)
                finally:
                    connection.close()

    # -- helpers -----------------------------------------------------------------------

    def _is_chief(self):
        return distribution.is_chief(getattr(self.model, "distribute_strategy", None))

    def _path(self, name):
        return os.path.join(self.directory, name)

    def _save_model(self, relative):
        """Writes the model to `relative` atomically: temp file, fsync, rename."""
        atomic.atomic_write(self._path(relative), self.model.save, suffix=".keras")

    def _remove_unreferenced_files(self):
        """Deletes what a crash left: temp files and files the index never committed.

        Only files untouched for `STALE_AFTER_SECONDS`: in a directory shared by several
        processes (a distributed search), a fresh unreferenced file is another writer's,
        between its write and its commit.
        """
        referenced = set()
        for row in self._connection.execute("SELECT best_file, last_file FROM versions"):
            referenced.update(name for name in row if name)
        stale_before = time.time() - STALE_AFTER_SECONDS
        for path in glob.glob(self._path(os.path.join("versions", "*", "*"))) + glob.glob(
            self._path(os.path.join("versions", "*", ".tmp-*"))
        ):
            if os.path.relpath(path, self.directory) in referenced:
                continue
            try:
                if os.path.getmtime(path) < stale_before:
                    os.remove(path)
            except FileNotFoundError:  # its writer renamed or removed it meanwhile
                pass

    # -- fit hooks ---------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.version_id = None
        self._resolved_mode = monitor_lib.try_resolve_mode(
            "CheckpointOnChange", self.monitor, self.mode, self.model
        )
        if not self._is_chief():
            return
        configuration = fingerprint_lib.model_configuration(
            self.model, self.params, self.hparams, self.data_config
        )
        digest = fingerprint_lib.fingerprint(configuration)
        self._connection = index.connect(self._path(INDEX_FILE), create=True)
        check_schema("CheckpointOnChange", self._connection, self.directory)
        self._remove_unreferenced_files()
        with index.transaction(self._connection) as connection:
            row = connection.execute(
                "SELECT id FROM versions WHERE fingerprint = ?", (digest,)
            ).fetchone()
            if row is not None:
                self.version_id = row["id"]
            else:
                parent = index.get_meta(connection, "base_version")
                if parent is None:
                    parent = index.get_meta(connection, "current_version")
                cursor = connection.execute(
                    "INSERT INTO versions(parent, fingerprint, configuration, created, monitor,"
                    " mode) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        parent,
                        digest,
                        json.dumps(configuration, sort_keys=True),
                        index.now(),
                        self.monitor,
                        self._resolved_mode or self.mode,
                    ),
                )
                self.version_id = cursor.lastrowid
                index.set_meta(connection, "base_version", None)
            index.set_meta(connection, "current_version", self.version_id)
        self._epoch_started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        value = monitor_lib.monitored_value("CheckpointOnChange", self.monitor, logs)
        if self._resolved_mode is None:
            self._resolved_mode = monitor_lib.resolve_mode(
                "CheckpointOnChange", self.monitor, self.mode, self.model
            )
        if not self._is_chief() or self.version_id is None:
            return
        seconds = time.perf_counter() - self._epoch_started
        metrics = {
            key: float(keras.ops.convert_to_numpy(val))
            for key, val in (logs or {}).items()
            if _is_number(val)
        }
        connection = self._connection
        row = connection.execute(
            "SELECT best_value, best_file, epochs FROM versions WHERE id = ?", (self.version_id,)
        ).fetchone()
        step = row["epochs"]
        best = monitor_lib.BestValue(self._resolved_mode)
        if row["best_value"] is not None:
            best.value = row["best_value"]
        improved = best.improves(value)
        new_file = old_file = None
        if improved:
            new_file = os.path.join("versions", str(self.version_id), f"best-s{step:05d}.keras")
            self._save_model(new_file)
            old_file = row["best_file"]
        with index.transaction(connection):
            connection.execute(
                "INSERT INTO epochs(version, step, epoch, metrics, wall_time) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.version_id, step, epoch, json.dumps(metrics), seconds),
            )
            connection.execute(
                "UPDATE versions SET epochs = epochs + 1, wall_time = wall_time + ?, mode = ?"
                " WHERE id = ?",
                (seconds, self._resolved_mode, self.version_id),
            )
            if improved:
                connection.execute(
                    "UPDATE versions SET best_value = ?, best_epoch = ?, best_file = ?, "
                    "files_deleted = 0 WHERE id = ?",
                    (value, step, new_file, self.version_id),
                )
        if old_file and old_file != new_file:
            _remove(self._path(old_file))
        if improved and self.keep_best is not None:
            self._apply_retention()

    def on_train_end(self, logs=None):
        if not self._is_chief() or self.version_id is None:
            return
        if self.save_last:
            row = self._connection.execute(
                "SELECT last_file, epochs, files_deleted FROM versions WHERE id = ?",
                (self.version_id,),
            ).fetchone()
            if not row["files_deleted"]:
                new_file = os.path.join(
                    "versions", str(self.version_id), f"last-s{row['epochs']:05d}.keras"
                )
                self._save_model(new_file)
                with index.transaction(self._connection):
                    self._connection.execute(
                        "UPDATE versions SET last_file = ? WHERE id = ?",
                        (new_file, self.version_id),
                    )
                if row["last_file"] and row["last_file"] != new_file:
                    _remove(self._path(row["last_file"]))
        self._connection.close()
        self._connection = None

    def _apply_retention(self):
        history = History(self.directory)
        try:
            scored = [v for v in history.versions() if v.best is not None]
        finally:
            history.close()
        reverse = self._resolved_mode == "max"
        ranked = sorted(scored, key=lambda v: v.best, reverse=reverse)
        dropped = [v for v in ranked[self.keep_best :] if v.files]
        if not dropped:
            return
        with index.transaction(self._connection):
            for version in dropped:
                self._connection.execute(
                    "UPDATE versions SET best_file = NULL, last_file = NULL, files_deleted = 1"
                    " WHERE id = ?",
                    (version.id,),
                )
        for version in dropped:
            for path in version.files.values():
                _remove(path)


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
