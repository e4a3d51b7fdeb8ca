"""A poisoned version in a shared history cannot run code: History and `kak rollback` load
with Keras safe mode on, and only `safe_mode=False` / `--no-safe-mode` loads it."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.cli.main import main


class _Writer(tf.Module):
    """`x @ w`, and a file written on every call."""

    def __init__(self, path):
        super().__init__()
        self.kernel = tf.Variable(tf.ones([4, 3]))
        self.path = path

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    def __call__(self, inputs):
        tf.io.write_file(self.path, "written")
        return tf.matmul(inputs, self.kernel)


@pytest.fixture
def poisoned(tmp_path):
    """A history whose one version's model writes `written.txt` when called."""
    written = str(tmp_path / "written.txt")
    tf.saved_model.save(_Writer(written), str(tmp_path / "savedmodel"))
    with pytest.warns(UserWarning, match="WriteFile"):
        extractor = kit.transfer.FeatureExtractor(str(tmp_path / "savedmodel"))
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(extractor(inputs)))
    model.compile("sgd", "mse")
    data = np.random.default_rng(0).random((8, 4)).astype("float32")
    model.fit(
        data,
        data[:, :2],
        validation_data=(data, data[:, :2]),
        epochs=1,
        verbose=0,
        callbacks=[kit.callbacks.CheckpointOnChange(tmp_path / "history", monitor="val_loss")],
    )
    os.remove(written)  # training wrote it
    return tmp_path / "history", written, data


def test_history_load_refuses_a_poisoned_version_unless_safe_mode_is_off(poisoned):
    directory, written, data = poisoned
    with kit.History(directory) as history:
        with pytest.raises(ValueError, match=r"WriteFile \(reads or writes files\).*safe_mode=False"):
            history.load("best")
        with pytest.raises(ValueError, match="WriteFile"):
            history.rollback("best")
        assert not os.path.exists(written)
        model = history.load("best", safe_mode=False)
        assert not os.path.exists(written)  # loading ran nothing; calling does
        model.predict(data, verbose=0)
        assert os.path.exists(written)


def test_kak_rollback_export_refuses_unless_no_safe_mode(poisoned, capsys):
    directory, written, _ = poisoned
    export = directory.parent / "exported.keras"
    assert main(["rollback", str(directory), "--export", str(export)]) == 2
    error = capsys.readouterr().err
    assert "kak rollback:" in error and "WriteFile" in error and "--no-safe-mode" in error
    assert not export.exists() and not os.path.exists(written)
    assert main(["rollback", str(directory), "--export", str(export), "--no-safe-mode"]) == 0
    assert export.exists() and not os.path.exists(written)


def test_kak_rollback_help_says_it_loads_in_safe_mode(capsys):
    with pytest.raises(SystemExit):
        main(["rollback", "--help"])
    assert "--no-safe-mode" in capsys.readouterr().out
