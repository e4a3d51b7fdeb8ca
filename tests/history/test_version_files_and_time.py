"""What a version keeps on disk and what its records say, checked against the index itself:
a run that continues a version replaces its last model file (the old one is deleted, with
its record), and the training time a rebuild recovers from the best model's record is the
sum of the epoch times the index recorded up to that epoch."""

import os

import keras
import pytest

import keras_accuracy_kit as kit
from tests.history import helpers


def fit_into(directory, epochs, **checkpoint_arguments):
    keras.utils.set_random_seed(0)
    return helpers.fit_into(directory, epochs=epochs, **checkpoint_arguments)


def files_on_disk(directory, version_id):
    folder = os.path.join(directory, "versions", str(version_id))
    return sorted(os.path.join("versions", str(version_id), name) for name in os.listdir(folder))


def test_a_continued_version_replaces_its_last_file_and_its_record(tmp_path):
    directory = tmp_path / "history"
    assert fit_into(directory, epochs=1).version_id == 1
    with kit.History(directory) as history:
        first_last = history.version(1).files["last"]
    assert fit_into(directory, epochs=1).version_id == 1  # same configuration: continued
    with kit.History(directory) as history:
        version = history.version(1)
        named = [os.path.relpath(path, directory) for path in version.files.values()]
    assert version.epochs == 2
    assert os.path.relpath(version.files["last"], directory) != os.path.relpath(
        first_last, directory
    )
    # Exactly the files the index names, each with its record: the first run's last model
    # and its record are gone.
    assert files_on_disk(directory, 1) == sorted(named + [f"{path}.json" for path in named])


def test_the_rebuilt_training_time_is_the_recorded_epoch_times_up_to_the_best(tmp_path):
    # Without a last file (a run that crashed before its end, or save_last=False), the only
    # records of a version are its best models': a rebuild takes the version's training time
    # from them, and it must be the time spent up to the best epoch, as the index had it.
    directory = tmp_path / "history"
    fit_into(directory, epochs=3, monitor="loss", save_last=False)
    with kit.History(directory) as history:
        version = history.version(1)
        epochs = history.epochs(1)
    assert version.wall_time == pytest.approx(sum(e["wall_time"] for e in epochs))
    expected = sum(e["wall_time"] for e in epochs if e["step"] <= version.best_epoch)
    assert expected > 0
    os.remove(directory / "index.sqlite")
    kit.History.rebuild(directory)
    with kit.History(directory) as history:
        rebuilt = history.version(1)
    assert rebuilt.best_epoch == version.best_epoch
    assert rebuilt.wall_time == pytest.approx(expected, rel=1e-9)
