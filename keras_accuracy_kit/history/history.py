"""History: the versions a directory of CheckpointOnChange runs holds, and going back to one."""

import dataclasses
import datetime
import json
import os

import keras

from keras_accuracy_kit.history import fingerprint as fingerprint_lib
from keras_accuracy_kit.history import index

INDEX_FILE = "index.sqlite"


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
        files: Dict. `{"best": path, "last": path}` for the model files kept.
        configuration: Dict. The full configuration (see `model_configuration`).
        fingerprint: String. Hash of `configuration`.
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


@dataclasses.dataclass
class Restored:
    """What `History.rollback` returns: the model of a version and the version itself."""

    model: object
    version: Version


class History:
    """Reads a directory written by `CheckpointOnChange`, and rolls back to a version.

    The directory holds an SQLite index and the `.keras` files of each version's best and
    last model. Everything listed here is committed: a training process killed mid-write
    leaves the previous state, which is what this class shows.

    Args:
        directory: Path. A directory `CheckpointOnChange` wrote to.

    Example:

    ```python
    history = kit.History("runs/history")
    table = [(v.id, v.best, v.changes) for v in history.versions()]
    model = history.load("best")          # a compiled model, weights as saved
    restored = history.rollback("best")   # ... and the next run derives from it
    ```
    """

    def __init__(self, directory):
        self.directory = os.path.abspath(os.fspath(directory))
        path = os.path.join(self.directory, INDEX_FILE)
        if not os.path.exists(path):
            raise ValueError(
                f"History: `directory` must hold a history written by CheckpointOnChange. "
                f"Received: directory={self.directory!r} (no {INDEX_FILE}). Pass the "
                "directory given to `kit.callbacks.CheckpointOnChange`."
            )
        self._connection = index.connect(path, create=False)
        check_schema("History", self._connection, self.directory)

    def close(self):
        """Closes the index connection (also done by `with kit.History(dir) as history:`)."""
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    # -- reading -----------------------------------------------------------------------

    def _rows(self):
        return self._connection.execute("SELECT * FROM versions ORDER BY id").fetchall()

    def _version(self, row, configurations):
        parent_configuration = configurations.get(row["parent"])
        configuration = json.loads(row["configuration"])
        files = {}
        for kind in ("best", "last"):
            name = row[f"{kind}_file"]
            if name:
                files[kind] = os.path.join(self.directory, name)
        return Version(
            id=row["id"],
            parent=row["parent"],
            created=datetime.datetime.fromtimestamp(
                row["created"], tz=datetime.timezone.utc
            ).isoformat(timespec="seconds"),
            changes=fingerprint_lib.diff(parent_configuration, configuration),
            monitor=row["monitor"],
            mode=row["mode"],
            best=row["best_value"],
            best_epoch=row["best_epoch"],
            epochs=row["epochs"],
            wall_time=row["wall_time"],
            files=files,
            configuration=configuration,
            fingerprint=row["fingerprint"],
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
        rows = self._connection.execute(
            "SELECT * FROM epochs WHERE version = ? ORDER BY step", (version_id,)
        ).fetchall()
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
        return fingerprint_lib.diff(self.version(a).configuration, self.version(b).configuration)

    # -- models ------------------------------------------------------------------------

    def load(self, version="best", which="best"):
        """Loads a version's model, compiled, with its weights as saved.

        Args:
            version: Int id or `"best"`. Defaults to `"best"`.
            which: `"best"` (its best epoch) or `"last"` (its last epoch). Defaults to
                `"best"`.

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
            raise ValueError(
                f"History: `which` must name a model file version {chosen.id} keeps: "
                f"{sorted(chosen.files)}. Received: which={which!r}. Files of versions "
                "outside `keep_best` are deleted; their metadata stays."
            )
        return keras.models.load_model(chosen.files[which])

    def rollback(self, to="best", load=True):
        """Makes a version the base of the next run and returns its model and configuration.

        The next `CheckpointOnChange` run whose configuration is new records this version
        as its parent.

        Args:
            to: Int id or `"best"`. Defaults to `"best"`.
            load: Bool. Whether to load the version's model (`Restored.model` is `None`
                otherwise). Defaults to `True`.

        Returns:
            `Restored(model, version)`.
        """
        version = self.version(to)
        model = self.load(version) if load else None
        with index.transaction(self._connection):
            index.set_meta(self._connection, "base_version", version.id)
        return Restored(model=model, version=version)

    def export(self, path, version="best", which="best"):
        """Saves a version's model to `path`: `.keras`, or legacy `.h5` for old code.

        Returns:
            The absolute path written.
        """
        path = os.path.abspath(os.fspath(path))
        if not path.endswith((".keras", ".h5")):
            raise ValueError(
                f"History: `path` must end with '.keras' or '.h5'. Received: path={path!r}."
            )
        model = self.load(version, which)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.save(path)
        return path


def check_schema(owner, connection, directory):
    version = index.schema_version(connection)
    if version is not None and version > index.SCHEMA_VERSION:
        raise index.NewerSchemaError(
            f"{owner}: `directory` was written by a newer keras-accuracy-kit (history schema "
            f"{version}; this one reads up to {index.SCHEMA_VERSION}). Received: "
            f"directory={directory!r}. Upgrade with `pip install -U keras-accuracy-kit`."
        )
