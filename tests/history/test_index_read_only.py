"""`index.connect_readonly` chooses a read-only opening when the file OR its directory is
read-only (found by the mutation check, issue 22: `and` -> `or` at index.py:110 passed).

A WAL index is read through its `-shm` and `-wal` files beside it: an ordinary connection in a
directory it cannot write fails with "unable to open database file". As in
`test_index_retry.py`, the read-only filesystem is simulated (the tests run as root, who
may write anywhere): `os.access` answers as it would, and an ordinary connection fails as
SQLite's does there.
"""

import os
import sqlite3
import urllib.parse

import pytest

from keras_accuracy_kit.history import index


@pytest.mark.parametrize(
    "file_writable, directory_writable", [(True, False), (False, True), (False, False)]
)
def test_an_index_in_a_read_only_place_is_opened_read_only(
    tmp_path, monkeypatch, file_writable, directory_writable
):
    path = str(tmp_path / "index.sqlite")
    connection = index.connect(path, create=True)
    index.set_meta(connection, "probe", 7)
    connection.close()
    writable = {os.path.abspath(path): file_writable, str(tmp_path): directory_writable}
    opened = []
    checked = index._checked_connection

    def sqlite_where_it_cannot_write(uri):
        opened.append(uri)
        if "mode=ro" not in uri:  # read-write: cannot make the -shm and -wal files
            raise sqlite3.OperationalError("unable to open database file")
        return checked(uri)

    monkeypatch.setattr(index.os, "access", lambda name, mode: writable[os.path.abspath(name)])
    monkeypatch.setattr(index, "_checked_connection", sqlite_where_it_cannot_write)
    connection = index.connect_readonly(path)
    try:
        assert index.get_meta(connection, "probe") == 7
    finally:
        connection.close()
    assert opened == [f"file:{urllib.parse.quote(path)}?mode=ro"]


def test_an_index_in_a_writable_place_is_opened_as_usual(tmp_path):
    # Writable file and directory: an ordinary connection, which tidies the journal up.
    path = str(tmp_path / "index.sqlite")
    index.connect(path, create=True).close()
    connection = index.connect_readonly(path)
    connection.close()
    assert not os.path.exists(f"{path}-wal") and not os.path.exists(f"{path}-shm")
