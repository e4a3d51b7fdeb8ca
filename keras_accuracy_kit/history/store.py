"""The history directory on disk: its index opened safely, its model files, a rebuild.

Layout::

    DIRECTORY/index.sqlite                     the index (SQLite, WAL mode)
    DIRECTORY/versions/<id>/best-<token>.keras  a version's best model
    DIRECTORY/versions/<id>/best-<token>.keras.json  its record (see `model_record`)
    DIRECTORY/versions/<id>/last-<token>.keras  ... and its model at the end of a run

Everything here reports a damaged or missing index with the file it concerns, the fact
that the model files are intact, and the way back (`rebuild`); nothing here deletes a
model file.
"""

import collections
import glob
import json
import os
import sqlite3
import time
import zipfile

from keras_accuracy_kit.history import index, model_record
from keras_accuracy_kit.history.errors import CorruptIndexError, HistoryWriteError

INDEX_FILE = "index.sqlite"
VERSIONS = "versions"
#: The members every `.keras` archive holds.
_KERAS_MEMBERS = ("config.json", "metadata.json")


def index_path(directory):
    return os.path.join(directory, INDEX_FILE)


def model_files(directory):
    """Paths of the committed-or-not model files under `versions/<id>/`, temporaries excluded."""
    pattern = os.path.join(directory, VERSIONS, "*", "*.keras")
    return sorted(
        path
        for path in glob.glob(pattern)
        if not os.path.basename(path).startswith(".tmp-") and _version_of(path) is not None
    )


def _version_of(path):
    name = os.path.basename(os.path.dirname(path))
    return int(name) if name.isdigit() else None


def version_directories(directory):
    """`{id: path}` of the `versions/<id>` directories."""
    found = {}
    for path in glob.glob(os.path.join(directory, VERSIONS, "*")):
        name = os.path.basename(path)
        if name.isdigit() and os.path.isdir(path):
            found[int(name)] = path
    return found


def recovery_hint(directory):
    return (
        f"Rebuild the index from the model files with `kak history {directory} --rebuild` "
        f"(or `kit.History.rebuild({directory!r})`) while no training writes to it; the old "
        "index is kept beside the new one."
    )


def file_status(path):
    """`"ok"`, `"missing"` or `"corrupt"` (truncated, not a `.keras` archive) for a model file.

    Reads only the archive's directory (at its end), so it is quick for large models.
    """
    if not os.path.exists(path):
        return "missing"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return "corrupt"
    if not all(member in names for member in _KERAS_MEMBERS):
        return "corrupt"
    return "ok"


def check_schema(owner, connection, directory):
    version = index.schema_version(connection)
    if version is not None and version > index.SCHEMA_VERSION:
        raise index.NewerSchemaError(
            f"{owner}: `directory` was written by a newer keras-accuracy-kit (history schema "
            f"{version}; this one reads up to {index.SCHEMA_VERSION}). Received: "
            f"directory={directory!r}. Upgrade with `pip install -U keras-accuracy-kit`."
        )


def damaged_index_error(owner, directory, problem):
    count = len(model_files(directory))
    return CorruptIndexError(
        f"{owner}: `directory` must hold a readable index. Received: "
        f"directory={directory!r}; {index_path(directory)} is damaged ({problem}). The "
        f"{count} model file(s) under {VERSIONS}/ are intact and nothing was deleted. "
        f"{recovery_hint(directory)}"
    )


def missing_index_error(owner, directory, files):
    return CorruptIndexError(
        f"{owner}: `directory` must hold its index {INDEX_FILE} beside its model files. "
        f"Received: directory={directory!r}, with {len(files)} model file(s) under "
        f"{VERSIONS}/ but no {INDEX_FILE} (deleted or lost?). The model files are intact "
        f"and nothing was deleted. {recovery_hint(directory)}"
    )


def open_index(owner, directory, writable, create=False):
    """Opens the index of `directory`, or raises an error that says how to recover.

    Args:
        owner: String. Name used in error messages.
        directory: Absolute path of the history.
        writable: Bool. False opens read-only (a read-only filesystem works).
        create: Bool. Create a missing index (only where no model file exists).

    Returns:
        An `sqlite3.Connection` with `sqlite3.Row` rows.
    """
    path = index_path(directory)
    if not os.path.exists(path):
        files = model_files(directory)
        if files:
            raise missing_index_error(owner, directory, files)
        if not create:
            raise ValueError(
                f"{owner}: `directory` must hold a history written by CheckpointOnChange. "
                f"Received: directory={directory!r} (no {INDEX_FILE}). Pass the "
                "directory given to `kit.callbacks.CheckpointOnChange`."
            )
    try:
        if writable:
            connection = index.connect(path, create=create)
        else:
            connection = index.connect_readonly(path)
    except sqlite3.DatabaseError as error:
        raise database_error(owner, directory, error, writable) from error
    try:
        problem = index.damage(connection)
        if problem is not None:
            raise damaged_index_error(owner, directory, problem)
        check_schema(owner, connection, directory)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise database_error(owner, directory, error, writable) from error
    except BaseException:
        connection.close()
        raise
    return connection


def database_error(owner, directory, error, writable):
    if index.is_damage(error):
        return damaged_index_error(owner, directory, str(error))
    text = str(error)
    if "full" in text:
        return write_error(owner, f"the index {index_path(directory)}", error)
    if "locked" in text or "busy" in text:
        return HistoryWriteError(
            f"{owner}: another process held the index {index_path(directory)} for more "
            f"than {index.BUSY_TIMEOUT_SECONDS:.0f} s ({text}). Received: "
            f"directory={directory!r}. Nothing was changed; run again when it is done."
        )
    access = "write to" if writable else "read"
    return ValueError(
        f"{owner}: `directory` must be a history the kit can {access}. Received: "
        f"directory={directory!r} ({index_path(directory)}: {text}). "
        + (
            "Listing works on a read-only copy; rolling back or training needs a writable "
            "directory (copy it somewhere writable)."
            if writable
            else "Check that the directory and its files are readable."
        )
    )


def write_error(owner, what, error, state=""):
    """A `HistoryWriteError` that says what could not be written, why, and what holds."""
    reason = getattr(error, "strerror", None) or str(error)
    return HistoryWriteError(
        f"{owner}: could not write {what} ({reason}). {state}Nothing committed was lost: "
        "the index keeps its last committed state. Free disk space (or fix the "
        "permissions) and run again.",
        errno=getattr(error, "errno", None),
    )


def unindexed_versions(connection, directory):
    """`{id: [model files]}` of version directories holding model files the index lacks."""
    known = set(index.version_ids(connection))
    found = collections.defaultdict(list)
    for path in model_files(directory):
        version = _version_of(path)
        if version not in known:
            found[version].append(path)
    return dict(found)


# -- rebuild ---------------------------------------------------------------------------


def _read_index(path):
    """`(versions, epochs, meta, problem)` of an index; empty and a problem if unreadable."""
    if not os.path.exists(path):
        return {}, [], {}, "missing"
    try:
        connection = index.connect_readonly(path)
    except sqlite3.DatabaseError as error:
        return {}, [], {}, str(error)
    try:
        problem = index.damage(connection)
        if problem is not None:
            return {}, [], {}, problem
        versions = {row["id"]: dict(row) for row in index.versions(connection)}
        epochs = [dict(row) for row in index.epochs(connection)]
        meta = index.meta(connection)
        return versions, epochs, meta, None
    except sqlite3.DatabaseError as error:
        return {}, [], {}, str(error)
    finally:
        connection.close()


def _scan_records(directory):
    """`(records by version, files without a record)`; a record is `(model path, dict)`."""
    by_version = collections.defaultdict(list)
    without = []
    for path in model_files(directory):
        record = model_record.read(path)
        if record is None or record.get("version") != _version_of(path):
            without.append(path)
        else:
            by_version[record["version"]].append((path, record))
    pattern = os.path.join(directory, VERSIONS, "*", "*.keras" + model_record.SUFFIX)
    for path in glob.glob(pattern):
        model = path[: -len(model_record.SUFFIX)]
        if os.path.exists(model) or os.path.basename(model).startswith(".tmp-"):
            continue
        record = model_record.read(model)
        if record and record.get("model_deleted") and record.get("version") == _version_of(model):
            by_version[record["version"]].append((model, record))
    return by_version, without


def _recovered_version(version_id, records, directory):
    """A versions row and its epoch rows from the committed records of one version."""
    committed = [(path, r) for path, r in records if r.get("committed")]
    if not committed:
        return None, []
    base = committed[0][1]
    mode = base.get("mode")
    pick = max if mode == "max" else min
    live = [(p, r) for p, r in committed if not r.get("model_deleted") and os.path.exists(p)]

    def relative(path):
        return os.path.relpath(path, directory)

    bests = [(p, r) for p, r in live if r.get("file") == "best" and r.get("value") is not None]
    lasts = [(p, r) for p, r in live if r.get("file") == "last"]
    best = pick(bests, key=lambda item: item[1]["value"]) if bests else None
    last = max(lasts, key=lambda item: (item[1].get("epochs") or 0)) if lasts else None
    scored = [r["value"] for _, r in committed if r.get("file") == "best" and r.get("value")
              is not None]  # fmt: skip
    row = {
        "id": version_id,
        "parent": base.get("parent"),
        "fingerprint": base["fingerprint"],
        "configuration": json.dumps(base.get("configuration") or {}, sort_keys=True),
        "created": base.get("created") or time.time(),
        "monitor": base.get("monitor") or "",
        "mode": mode or "max",
        "best_value": best[1]["value"] if best else (pick(scored) if scored else None),
        "best_epoch": best[1].get("step") if best else None,
        "best_file": relative(best[0]) if best else None,
        "last_file": relative(last[0]) if last else None,
        "epochs": max((r.get("epochs") or 0) for _, r in committed),
        "wall_time": max((r.get("wall_time") or 0.0) for _, r in committed),
        "files_deleted": int(not live),
    }
    epochs = {}
    for _, record in committed:
        if record.get("step") is not None and record.get("epoch") is not None:
            epochs[record["step"]] = {
                "version": version_id,
                "step": record["step"],
                "epoch": record["epoch"],
                "metrics": json.dumps(record.get("metrics") or {}),
                "wall_time": record.get("epoch_seconds") or 0.0,
            }
    return row, list(epochs.values())


def rebuild(directory):
    """Recreates `index.sqlite` from the model files' records; see `History.rebuild`."""
    owner = "History.rebuild"
    directory = os.path.abspath(os.fspath(directory))
    if not os.path.isdir(directory):
        raise ValueError(
            f"{owner}: `directory` must be an existing history directory. Received: "
            f"directory={directory!r}."
        )
    path = index_path(directory)
    versions, epochs, meta, problem = _read_index(path)
    records, without = _scan_records(directory)
    if not versions and not records:
        raise ValueError(
            f"{owner}: `directory` must hold model files written by CheckpointOnChange (or a "
            f"readable index). Received: directory={directory!r}: nothing to rebuild from "
            f"({len(without)} model file(s) without a record). Nothing was changed."
        )
    recovered, epoch_rows = _recover_versions(versions, epochs, records, directory)
    history_id = _rebuilt_history_id(meta, records)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    previous = None
    if os.path.exists(path):
        previous = f"{path}.{'before-rebuild' if problem is None else 'damaged'}-{stamp}"
    building = f"{path}.rebuilding-{os.getpid()}"
    try:
        _write_rebuilt_index(building, history_id, versions, epoch_rows, meta)
        if previous is not None:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.replace(path + suffix, previous + suffix)
        os.replace(building, path)
    except OSError as error:
        raise write_error(owner, f"the new index {path}", error) from error
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(building + suffix):
                os.remove(building + suffix)
    return {
        "index": path,
        "previous_index": previous,
        "versions": sorted(versions),
        "recovered": recovered,
        "model_files": len(model_files(directory)),
        "without_record": without,
    }


def _recover_versions(versions, epochs, records, directory):
    """Adds to `versions` the recorded versions the index lacks; (recovered ids, epoch rows).

    One version per configuration: a recorded version whose fingerprint the index already
    holds is skipped (the index's one wins).
    """
    recovered, epoch_rows = [], list(epochs)
    for version_id in sorted(records):
        if version_id in versions:
            continue
        row, rows = _recovered_version(version_id, records[version_id], directory)
        if row is None:
            continue
        if any(v["fingerprint"] == row["fingerprint"] for v in versions.values()):
            continue  # one version per configuration; the index's one wins
        versions[version_id] = row
        epoch_rows.extend(rows)
        recovered.append(version_id)
    return recovered, epoch_rows


def _rebuilt_history_id(meta, records):
    """The index's history id, else the one most records carry, else None."""
    history_ids = collections.Counter(
        record.get("history_id") for items in records.values() for _, record in items
    )
    history_id = json.loads(meta["history_id"]) if "history_id" in meta else None
    if history_id is None and history_ids:
        history_id = history_ids.most_common(1)[0][0]
    return history_id


def _write_rebuilt_index(building, history_id, versions, epoch_rows, meta):
    """Writes the rebuilt index to `building` in one transaction (an epoch row once per step)."""
    connection = index.connect(building, create=True, history_id=history_id)
    try:
        with index.transaction(connection):
            for row in sorted(versions.values(), key=lambda r: r["id"]):
                index.copy_version(connection, row)
            seen = set()
            for row in epoch_rows:
                key = (row["version"], row["step"])
                if row["version"] in versions and key not in seen:
                    seen.add(key)
                    index.copy_epoch(connection, row)
            for key in ("base_version", "current_version"):
                if key in meta:
                    index.set_meta(connection, key, json.loads(meta[key]))
            if "current_version" not in meta and versions:
                index.set_meta(connection, "current_version", max(versions))
    finally:
        connection.close()
