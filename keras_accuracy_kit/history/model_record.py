"""The record beside each model file: enough to rebuild the index, and proof of ownership.

Every `versions/<id>/<name>.keras` of a history has a `<name>.keras.json` beside it,
written atomically *before* the model file, holding the version's configuration and
fingerprint, the epoch and value the file is the model of, and the history's random id.
With it a lost or damaged index can be rebuilt from the files (`History.rebuild`), and
the clean-up after a crash deletes a file only when its record proves it is this
history's own leftover.
"""

import json
import os

from keras_accuracy_kit._core import atomic

#: Marks a JSON file as one of these records.
KIND = "keras-accuracy-kit model record"
#: Version of the record layout.
FORMAT = 1
#: Extension of a record, appended to the model file's name.
SUFFIX = ".json"


def record_path(model_path):
    """The record of a model file: `best-x.keras` -> `best-x.keras.json`."""
    return f"{model_path}{SUFFIX}"


def write(model_path, record):
    """Writes the record of `model_path` atomically (temporary file, fsync, rename)."""
    payload = dict(record, kind=KIND, format=FORMAT, model=os.path.basename(model_path))
    data = json.dumps(payload, sort_keys=True).encode("utf-8")
    atomic.atomic_write_bytes(record_path(model_path), data)


def read(model_path):
    """The record of `model_path`, or None if it is missing or not a record of the kit."""
    try:
        with open(record_path(model_path), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("kind") != KIND:
        return None
    if not isinstance(record.get("format"), int) or record["format"] > FORMAT:
        return None
    if record.get("model") != os.path.basename(model_path):
        return None
    return record


def belongs_to(record, history_id, version_id, fingerprint):
    """Whether `record` proves its file is this history's, in this version."""
    return (
        record is not None
        and history_id is not None
        and record.get("history_id") == history_id
        and record.get("version") == version_id
        and record.get("fingerprint") == fingerprint
    )
