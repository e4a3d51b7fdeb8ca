"""Writes to the history index: transactions and stored text (found by the mutation check,
issue 22: `transaction.__exit__` returning True, index.py:197, and `sort_keys=True` -> False
in `add_version`, index.py:283, passed every other test)."""

import json

import pytest

from keras_accuracy_kit.history import index


@pytest.fixture
def connection(tmp_path):
    connection = index.connect(str(tmp_path / "index.sqlite"), create=True)
    yield connection
    connection.close()


def test_an_error_inside_a_transaction_rolls_it_back_and_is_raised(connection):
    # As `with sqlite3_connection:` does: the block's changes are undone, the error not hidden.
    with pytest.raises(KeyError, match="raised inside"):
        with index.transaction(connection):
            index.set_meta(connection, "probe", 1)
            raise KeyError("raised inside")
    assert index.get_meta(connection, "probe") is None
    assert not connection.in_transaction
    with index.transaction(connection):
        index.set_meta(connection, "probe", 2)
    assert index.get_meta(connection, "probe") == 2


def test_a_version_s_configuration_is_stored_as_json_with_sorted_keys(connection):
    # The same canonical text as a rebuilt index's (store.py writes it with sorted keys),
    # whatever order the configuration was built in.
    configuration = {"model": {"units": 3, "activation": "relu"}, "compile": None, "data": []}
    with index.transaction(connection):
        index.add_version(connection, 1, None, "digest", configuration, "val_loss", "min")
    (text,) = connection.execute("SELECT configuration FROM versions").fetchone()
    assert text == '{"compile": null, "data": [], "model": {"activation": "relu", "units": 3}}'
    assert json.loads(text) == configuration
