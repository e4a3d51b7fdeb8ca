"""The history index's on-disk layout, pinned: schema 1 is what every released kit reads.

`store.check_schema` refuses an index whose `schema_version` is above the kit's own, so a
kit that wrote a higher number for the same layout would lock every released kit out of
its histories. Found by the mutation check (issue 22: `SCHEMA_VERSION = 1` -> `2` passed).
"""

import sqlite3

import pytest

from keras_accuracy_kit.history import index, store

#: Schema 1's tables and columns, in order (docs: the index is SQLite, one row per version).
SCHEMA_1 = {
    "meta": ["key", "value"],
    "versions": [
        "id", "parent", "fingerprint", "configuration", "created", "monitor", "mode",
        "best_value", "best_epoch", "best_file", "last_file", "epochs", "wall_time",
        "files_deleted",
    ],
    "epochs": ["version", "step", "epoch", "metrics", "wall_time"],
}  # fmt: skip


def test_a_new_index_is_schema_1_in_schema_1s_layout(tmp_path):
    path = str(tmp_path / "index.sqlite")
    index.connect(path, create=True).close()
    connection = sqlite3.connect(path)
    try:
        stored = connection.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        tables = {
            name: [row[1] for row in connection.execute(f"PRAGMA table_info({name})")]
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        connection.close()
    assert stored == ("1",)
    assert tables == SCHEMA_1


def test_an_index_of_schema_1_is_read_and_one_of_schema_2_refused(tmp_path):
    path = str(tmp_path / "index.sqlite")
    connection = index.connect(path, create=True)
    try:
        store.check_schema("History", connection, str(tmp_path))  # schema 1: read
        index.set_meta(connection, "schema_version", 2)
        with pytest.raises(index.NewerSchemaError, match=r"schema 2; this one reads up to 1\)"):
            store.check_schema("History", connection, str(tmp_path))
    finally:
        connection.close()
