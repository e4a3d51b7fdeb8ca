"""Fingerprints: a change of learning rate, augmentation, depth or image size opens a new
version whose diff names it; re-running unchanged continues the same version."""

import re

import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.history.helpers import digits_data, digits_model


def train(directory, epochs=1, data_config=None, **model_arguments):
    image_size = model_arguments.get("image_size", 8)
    x, y, vx, vy = digits_data(image_size)
    model = digits_model(**model_arguments)
    callback = kit.callbacks.CheckpointOnChange(directory, data_config=data_config)
    model.fit(
        x[:256],
        y[:256],
        validation_data=(vx, vy),
        epochs=epochs,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
    )
    return callback.version_id


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"learning_rate": 0.05}, r"compile\.optimizer\.config\.learning_rate: 0\.01 -> 0\.05"),
        ({"depth": 2}, r'model\.layers\[4\]\.class_name: added "Dense"'),
        ({"image_size": 12}, r"model\.layers\[0\]\.config\.batch_shape\[1\]: 8 -> 12"),
        ({"units": 64}, r"model\.layers\[2\]\.config\.units: 32 -> 64"),
    ],
)
def test_model_changes_open_a_new_version_with_a_readable_diff(tmp_path, change, expected):
    first = train(tmp_path)
    second = train(tmp_path, **change)
    assert second != first
    version = kit.History(tmp_path).version(second)
    assert version.parent == first
    assert any(re.search(expected, line) for line in version.changes), version.changes


def test_augmentation_setting_change_opens_a_new_version(tmp_path):
    first = train(tmp_path, data_config=[kit.resize(8, 8, mode="pad")])
    second = train(tmp_path, data_config=[kit.resize(8, 8, mode="crop")])
    assert second != first
    changes = kit.History(tmp_path).version(second).changes
    assert changes == ['data[0].config.mode: "pad" -> "crop"']


def test_rerunning_unchanged_continues_the_version(tmp_path):
    first = train(tmp_path, epochs=2, data_config=[kit.to_lab()])
    second = train(tmp_path, epochs=3, data_config=[kit.to_lab()])
    assert second == first
    history = kit.History(tmp_path)
    assert len(history.versions()) == 1
    assert history.version(first).epochs == 5
    assert [e["epoch"] for e in history.epochs(first)] == [0, 1, 0, 1, 2]
    assert np.isfinite(history.version(first).wall_time)
