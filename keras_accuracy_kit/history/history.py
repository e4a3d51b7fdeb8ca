"""History: the versions a directory of CheckpointOnChange runs holds, and going back to one."""

import dataclasses
import datetime
import json
import os
import sqlite3

import keras

from keras_accuracy_kit._core import atomic
from keras_accuracy_kit.history.fingerprint import diff as configuration_diff
from keras_accuracy_kit.history import index, store
from keras_accuracy_kit.history.store import INDEX_FILE, check_schema  # noqa: F401 - re-exported


@dataclasses.dataclass
class Version:
    """One configuration of the model and what it scored.

    Attributes:
        id: Int. The version number (1, 2, ...).
        parent: Int or None. The version this one was derived from.
        created: String. ISO 8601 creation time (UTC).
        changes: List of strings. What changed versus the parent, one setting a line.
        monitor: String. The metric the best model was chosen by.
        mode: String. "min" or "max".
        best: Float or None. The best value of `monitor`.
        best_epoch: Int or None. The epoch (counted over all runs of this version) of it.
        epochs: Int. Epochs trained in this version, over all its runs.
        wall_time: Float. Seconds of training in this version.
        files: Dict. `{"best": path, "last": path}` for the model files the index names.
        configuration: Dict. The full configuration (see `model_configuration`).
        fingerprint: String. Hash of `configuration`.
        file_status: Dict. `{"best": "ok" | "missing" | "corrupt", ...}`, one per file of
            `files`, checked when the history is read.
        files_deleted: Bool. Whether `keep_best` deleted the version's files.
    """

    id: int
    parent: object
    created: str
    changes: list
    monitor: str
    mode: str
    best: object
    best_epoch: object
    epochs: int
    wall_time: float
    files: dict
    configuration: dict
    fingerprint: str
    file_status: dict = dataclasses.field(default_factory=dict)
    files_deleted: bool = False

    #: Changes shown by `repr` (the rest are counted); `version.changes` has them all.
    REPR_CHANGES = 2

    def __repr__(self):
        """One line: id, parent, best value, epochs and the first changes (`print(version)`)."""
        best = "-" if self.best is None else f"{self.best:.4f}"
        if self.best is not None and self.best_epoch is not None:
            best += f" at epoch {self.best_epoch}"
        parts = [
            f"id={self.id}",
            f"parent={self.parent}",
            f"{self.monitor}={best} ({self.mode})",
            f"epochs={self.epochs}",
        ]
        if self.files_deleted:
            parts.append("files deleted")
        else:
            damaged = sorted(name for name, status in self.file_status.items() if status != "ok")
            parts += [f"{name} file {self.file_status[name]}" for name in damaged]
        shown = [_shorten(change, 48) for change in self.changes[: self.REPR_CHANGES]]
        if len(self.changes) > self.REPR_CHANGES:
            shown.append(f"+{len(self.changes) - self.REPR_CHANGES} more")
        parts.append(f"changes=[{'; '.join(shown)}]")
        return f"Version({', '.join(parts)})"


def _shorten(text, length):
    text = str(text)
    return text if len(text) <= length else text[: length - 3] + "..."


@dataclasses.dataclass
class Restored:
    """What `History.rollback` returns: the model of a version and the version itself.

    `exported` is the path the model was exported to (`rollback(..., export=path)`).
    """

    model: object
    version: Version
    exported: object = None


class History:
    """Reads a directory written by `CheckpointOnChange`, and rolls back to a version.

    The directory holds an SQLite index and the `.keras` files of each version's best and
    last model. Everything listed here is committed: a training process killed mid-write
    leaves the previous state, which is what this class shows. Reading needs no write
    access (a read-only filesystem works); each model file is reported `"ok"`,
    `"missing"` or `"corrupt"` in `Version.file_status`. A lost or damaged index raises a
    `CorruptIndexError` that says how to recover: `History.rebuild(directory)`.

    Args:
        directory: Path. A directory `CheckpointOnChange` wrote to.

    Example:

    ```python
    history = kit.History("runs/history")
    table = [(v.id, v.best, v.changes) for v in history.versions()]
    model = history.load("best")          # compiled, weights as saved, Keras safe mode on
    restored = history.rollback("best")   # ... and the next run derives from it
    ```
    """

    def __init__(self, directory):
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(
                f"History: `directory` must be a path. Received: directory={directory!r}. "
                "Pass the directory given to `kit.callbacks.CheckpointOnChange`."
            )
        self.directory = os.path.abspath(os.fspath(directory))
        self._connection = store.open_index("History", self.directory, writable=False)
        self._writer = None

    @classmethod
    def rebuild(cls, directory):
        """Recreates a lost or damaged index from the model files' records.

        Every model file the kit writes has a record beside it (`<file>.keras.json`) with
        its version's configuration, fingerprint, parent, monitor and the epoch and value
        it holds. A readable old index is merged in (its versions win); versions found
        only in the records are recovered with their best and last files, the best value,
        the epoch count and the epochs whose models are kept (the other epochs' metrics
        lived only in the index). The old index is renamed, never deleted:
        `index.sqlite.damaged-<time>` (or `.before-rebuild-<time>`). Model files without
        a record (written before records existed, or not by the kit) are left in place
        and listed. Run it while no training writes to the directory.

        Args:
            directory: Path. A directory `CheckpointOnChange` wrote to.

        Returns:
            Dict with `index`, `previous_index` (or None), `versions` (ids now indexed),
            `recovered` (ids recovered from records), `model_files` and `without_record`
            (paths).

        Example:

        ```python
        report = kit.History.rebuild("runs/history")   # or: kak history runs/history --rebuild
        kit.History("runs/history").versions()
        ```
        """
        return store.rebuild(directory)

    def close(self):
        """Closes the index connection (also done by `with kit.History(dir) as history:`)."""
        self._connection.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def _query(self, query, *arguments):
        """Runs an `index` query on the reading connection; damage raises the clear error."""
        try:
            return query(self._connection, *arguments)
        except sqlite3.DatabaseError as error:
            if index.is_damage(error):
                raise store.damaged_index_error("History", self.directory, str(error)) from error
            raise

    def _write_connection(self):
        if self._writer is None:
            self._writer = store.open_index("History", self.directory, writable=True)
        return self._writer

    # -- reading -----------------------------------------------------------------------

    def _rows(self):
        return self._query(index.versions)

    def _version(self, row, configurations):
        parent_configuration = configurations.get(row["parent"])
        configuration = json.loads(row["configuration"])
        files, status = {}, {}
        for kind in ("best", "last"):
            name = row[f"{kind}_file"]
            if name:
                files[kind] = os.path.join(self.directory, name)
                status[kind] = store.file_status(files[kind])
        return Version(
            id=row["id"],
            parent=row["parent"],
            created=datetime.datetime.fromtimestamp(
                row["created"], tz=datetime.timezone.utc
            ).isoformat(timespec="seconds"),
            changes=configuration_diff(parent_configuration, configuration),
            monitor=row["monitor"],
            mode=row["mode"],
            best=row["best_value"],
            best_epoch=row["best_epoch"],
            epochs=row["epochs"],
            wall_time=row["wall_time"],
            files=files,
            configuration=configuration,
            fingerprint=row["fingerprint"],
            file_status=status,
            files_deleted=bool(row["files_deleted"]),
        )

    def versions(self):
        """All versions, oldest first.

        Returns:
            List of `Version`.
        """
        rows = self._rows()
        configurations = {row["id"]: json.loads(row["configuration"]) for row in rows}
        return [self._version(row, configurations) for row in rows]

    def version(self, version_id):
        """One version by id (or `"best"`)."""
        if version_id == "best":
            return self.best()
        for version in self.versions():
            if version.id == version_id:
                return version
        known = [version.id for version in self.versions()]
        raise ValueError(
            f"History: `version` must be one of {known} or 'best'. Received: "
            f"version={version_id!r}."
        )

    def best(self):
        """The version with the best value of the monitored metric, or None if none has one.

        Versions are compared on the monitor and mode of the most recent version.
        """
        versions = self.versions()
        if not versions:
            return None
        monitor, mode = versions[-1].monitor, versions[-1].mode
        scored = [v for v in versions if v.monitor == monitor and v.best is not None]
        if not scored:
            return None
        pick = max if mode == "max" else min
        return pick(scored, key=lambda v: v.best)

    def epochs(self, version_id):
        """The recorded epochs of a version: list of dicts with `epoch`, `metrics`, `wall_time`."""
        rows = self._query(index.epochs, version_id)
        return [
            {
                "step": r["step"],
                "epoch": r["epoch"],
                "metrics": json.loads(r["metrics"]),
                "wall_time": r["wall_time"],
            }
            for r in rows
        ]

    def diff(self, a, b):
        """What changed from version `a` to version `b`, one setting a line."""
        return configuration_diff(self.version(a).configuration, self.version(b).configuration)

    # -- models ------------------------------------------------------------------------

    def load(self, version="best", which="best", safe_mode=True):
        """Loads a version's model, compiled, with its weights as saved.

        It loads with Keras safe mode on: a model file in a shared history directory runs
        no code of its author (no Lambda bytecode; a `FeatureExtractor`'s SavedModel must
        pass the op allowlist `kit.transfer.SAFE_OPS` before any of it runs).

        Args:
            version: Int id or `"best"`. Defaults to `"best"`.
            which: `"best"` (its best epoch) or `"last"` (its last epoch). Defaults to
                `"best"`.
            safe_mode: Bool. Keras' `safe_mode` for `keras.models.load_model`. Pass
                `False` only for a history you trust. Defaults to `True`.

        Returns:
            A `keras.Model`.
        """
        chosen = self.version(version) if not isinstance(version, Version) else version
        if chosen is None:
            raise ValueError(
                "History: there is no version with a recorded best value yet. Train with "
                "`kit.callbacks.CheckpointOnChange` first."
            )
        if which not in chosen.files:
            why = (
                "Files of versions outside `keep_best` are deleted; their metadata stays."
                if chosen.files_deleted
                else "This version has no such file (none was saved: see `kak history`)."
            )
            raise ValueError(
                f"History: `which` must name a model file version {chosen.id} keeps: "
                f"{sorted(chosen.files)}. Received: which={which!r}. {why}"
            )
        path = chosen.files[which]
        status = store.file_status(path)

        def intact():
            return [v.id for v in self.versions() if v.file_status.get(which) == "ok"]

        if status != "ok":
            reason = (
                "does not exist (deleted outside the kit?)"
                if status == "missing"
                else "is corrupt (truncated, or not a .keras archive)"
            )
            raise ValueError(
                f"History: the {which} model file of version {chosen.id} must be a readable "
                f".keras file. Received: version={chosen.id}, which={which!r}: {path} {reason}. "
                f"Versions whose {which} file is intact: {intact()}."
            )
        try:
            return keras.models.load_model(path, safe_mode=safe_mode)
        except Exception as error:  # noqa: BLE001 - any failure is reported with the file
            if safe_mode and "safe_mode=False" in str(error):
                raise ValueError(
                    f"History: the {which} model file of version {chosen.id} must load with "
                    f"Keras safe mode on. Received: version={chosen.id}, which={which!r}: "
                    f"{path}: {error} If you trust this history, pass safe_mode=False "
                    "(`kak rollback --no-safe-mode`)."
                ) from error
            raise ValueError(
                f"History: the {which} model file of version {chosen.id} could not be loaded. "
                f"Received: version={chosen.id}, which={which!r}: {path}: "
                f"{type(error).__name__}: {error}. If the model uses custom layers, import "
                f"the code that registers them first; else load another version: {intact()}."
            ) from error

    def rollback(self, to="best", load=True, export=None, safe_mode=True):
        """Makes a version the base of the next run and returns its model and configuration.

        The next `CheckpointOnChange` run whose configuration is new records this version
        as its parent. With `export`, the model is written there first: if that fails,
        nothing is rolled back (one operation).

        Args:
            to: Int id or `"best"`. Defaults to `"best"`.
            load: Bool. Whether to load the version's model (`Restored.model` is `None`
                otherwise). Defaults to `True`.
            export: Optional path (`.keras` or `.h5`). Also save the version's best model
                there. Defaults to `None`.
            safe_mode: Bool. Loads the model with Keras safe mode on (see `load`); `False`
                only for a history you trust. Defaults to `True`.

        Returns:
            `Restored(model, version, exported)`.
        """
        version = self.version(to)
        if version is None:
            raise ValueError(
                "History: there is no version with a recorded best value yet. Train with "
                "`kit.callbacks.CheckpointOnChange` first."
            )
        target = None if export is None else self._check_export_path(export)
        connection = self._write_connection()
        model = self.load(version, safe_mode=safe_mode) if (load or target) else None
        if target is not None:
            self._save(model, target)
        try:
            with index.transaction(connection):
                index.set_meta(connection, "base_version", version.id)
        except sqlite3.Error as error:
            if "full" in str(error):
                raise store.write_error(
                    "History", f"the rollback to version {version.id} into the index", error
                ) from error
            raise store.database_error("History", self.directory, error, writable=True) from error
        return Restored(model=model if load else None, version=version, exported=target)

    def export(self, path, version="best", which="best", safe_mode=True):
        """Saves a version's model to `path`: `.keras`, or legacy `.h5` for old code.

        The path is checked before anything is loaded, and the file is written atomically.
        The model loads with Keras safe mode on unless `safe_mode=False` (see `load`).

        Returns:
            The absolute path written.
        """
        path = self._check_export_path(path)
        model = self.load(version, which, safe_mode=safe_mode)
        self._save(model, path)
        return path

    def _check_export_path(self, path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"History: `path` must be a file path. Received: path={path!r}.")
        path = os.path.abspath(os.fspath(path))
        if not path.endswith((".keras", ".h5")):
            raise ValueError(
                f"History: `path` must end with '.keras' or '.h5'. Received: path={path!r}. "
                "Nothing was changed."
            )
        folder = os.path.dirname(path)
        try:
            os.makedirs(folder, exist_ok=True)
            probe = os.path.join(folder, f".kak-write-test-{os.getpid()}")
            with open(probe, "wb"):
                pass
            os.remove(probe)
        except OSError as error:
            raise ValueError(
                f"History: `path` must be a file the kit can write. Received: path={path!r} "
                f"({error.strerror or error}). Nothing was changed. Pass a path in a "
                "writable directory."
            ) from error
        if os.path.isdir(path):
            raise ValueError(
                f"History: `path` must be a file, not a directory. Received: path={path!r}. "
                "Nothing was changed."
            )
        return path

    def _save(self, model, path):
        suffix = ".h5" if path.endswith(".h5") else ".keras"
        try:
            atomic.atomic_write(path, model.save, suffix=suffix)
        except OSError as error:
            raise store.write_error("History", f"the exported model {path}", error) from error
