"""Fingerprints: a change of learning rate, augmentation, depth or image size opens a new
version whose diff names it; re-running unchanged continues the same version."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.history.helpers import digits_data, digits_model


def train(
    directory, epochs=1, data_config=None, hparams=None, batch_size=64, **model_arguments
):
    image_size = model_arguments.get("image_size", 8)
    x, y, vx, vy = digits_data(image_size)
    model = digits_model(**model_arguments)
    callback = kit.callbacks.CheckpointOnChange(
        directory, data_config=data_config, hparams=hparams
    )
    model.fit(
        x[:256],
        y[:256],
        validation_data=(vx, vy),
        epochs=epochs,
        batch_size=batch_size,
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


def test_a_batch_size_change_opens_a_new_version_through_the_steps_per_epoch(tmp_path):
    # Issue 22: the steps per epoch are part of the fingerprint (documented), but a
    # fingerprint ignoring them passed every test. 256 images: 4 steps of 64, 8 of 32.
    first = train(tmp_path, batch_size=64)
    second = train(tmp_path, batch_size=32)
    assert second != first
    history = kit.History(tmp_path)
    assert len(history.versions()) == 2
    assert history.version(second).changes == ["steps_per_epoch: 4 -> 8"]
    assert train(tmp_path, batch_size=32) == second  # the same steps continue it


def test_rerunning_unchanged_continues_the_version(tmp_path):
    first = train(tmp_path, epochs=2, data_config=[kit.to_lab()])
    second = train(tmp_path, epochs=3, data_config=[kit.to_lab()])
    assert second == first
    history = kit.History(tmp_path)
    assert len(history.versions()) == 1
    assert history.version(first).epochs == 5
    assert [e["epoch"] for e in history.epochs(first)] == [0, 1, 0, 1, 2]
    assert np.isfinite(history.version(first).wall_time)


HASH_SEED_SCRIPT = """
import functools, json, sys
import numpy as np
from keras_accuracy_kit.history.fingerprint import canonical, fingerprint
hparams = {
    "classes": {"cat", "dog", "bird", "fish", "horse"},
    "frozen": frozenset({("a", 1), ("b", 2)}),
    "mean": np.array([0.5, 0.4, 0.3]),
    "reduce": np.mean,
    "partial": functools.partial(np.clip, a_min=0),
}
print(fingerprint(canonical("Demo", "hparams", hparams)))
"""


def test_fingerprint_is_the_same_in_every_process():
    # D7: a set's order follows the hash seed; a function's repr holds its address.
    digests = {
        subprocess.run(
            [sys.executable, "-c", HASH_SEED_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in (1, 2, 3)
    }  # fmt: skip
    assert len(digests) == 1 and len(digests.pop()) == 64


class Scorer:
    def __call__(self, value):
        return value


def _local_function():
    def scale(image):
        return image

    return scale


@pytest.mark.parametrize(
    "arguments, where, reason",
    [
        ({"data_config": [lambda x: x]}, r"data_config\[0\]", r"a lambda"),
        ({"hparams": {"fn": lambda: 1}}, r"hparams\['fn'\]", r"a lambda"),
        ({"hparams": {"thing": object()}}, r"hparams\['thing'\]", r"an instance of object"),
        ({"data_config": {"step": lambda x: x}}, r"data_config\['step'\]", r"a lambda"),
        ({"hparams": {"fn": _local_function()}}, r"hparams\['fn'\]", r"a local function"),
        # A callable object is not a function: described (and refused) as an instance.
        ({"hparams": {"score": Scorer()}}, r"hparams\['score'\]", r"an instance of Scorer"),
    ],
)
def test_values_without_a_stable_description_are_refused_at_construction(
    tmp_path, arguments, where, reason
):
    # D7: they made a new version on every run.
    with pytest.raises(
        TypeError,
        match=rf"CheckpointOnChange: `{where}` must describe itself the same way in every run "
        rf"\(.*\)\. Received: {where}=.*, {reason}",
    ):
        kit.callbacks.CheckpointOnChange(tmp_path, **arguments)


def normalise(image):
    return image


def test_sets_arrays_and_named_functions_continue_their_version(tmp_path):
    # D7 + D8: `hparams={"mean": np.array([.5, .4, .3])}` crashed `fit`.
    def hparams():
        return {"classes": {"dog", "cat"}, "mean": np.array([0.5, 0.4, 0.3]), "f": normalise}

    first = train(tmp_path, hparams=hparams(), data_config=[normalise])
    second = train(tmp_path, hparams=hparams(), data_config=[normalise])
    assert first == second == 1
    configuration = kit.History(tmp_path).version(1).configuration
    assert configuration["hparams"] == {
        "classes": ["cat", "dog"],
        "mean": [0.5, 0.4, 0.3],
        "f": "function:tests.history.test_fingerprint.normalise",
    }
    assert configuration["data"] == ["function:tests.history.test_fingerprint.normalise"]


class Teacher:
    def build(self):
        return "teacher"


class Student:
    def build(self):
        return "student"


def test_functions_of_the_same_name_in_different_classes_differ():
    # Functions are recorded by qualified name: `Teacher.build` and `Student.build` are two
    # configurations, not one (a bare `__name__` would make them collide).
    from keras_accuracy_kit.history.fingerprint import canonical, fingerprint

    teacher = canonical("Demo", "hparams", {"build": Teacher.build})
    student = canonical("Demo", "hparams", {"build": Student.build})
    assert fingerprint(teacher) != fingerprint(student)
    assert "Teacher.build" in str(teacher) and "Student.build" in str(student)
