"""kit.search.tune: kit callbacks in trials, bounded disk, HParams once, results, errors."""

import glob
import logging
import os
import subprocess
import sys

import keras
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import plugin_data_pb2

import keras_accuracy_kit as kit
from tests.search.helpers import dense_block, digits


def depth_search():
    return kit.search.DepthSearch(dense_block, 1, 3, input_shape=(8, 8, 1), num_classes=10)


def test_keep_best_two_leaves_two_trial_models_after_six_trials(tmp_path, caplog):
    train, validation = digits()
    with caplog.at_level(logging.INFO, logger="keras_accuracy_kit.search"):
        result = kit.search.tune(
            depth_search(), train, validation, strategy="random", max_trials=6, epochs=1,
            directory=tmp_path, keep_best=2, seed=0,
        )  # fmt: skip
    assert len(result.trials) == 6
    best_two = [t.trial_id for t in result.tuner.oracle.get_best_trials(2)]
    checkpoints = glob.glob(os.path.join(result.directory, "trial_*", "checkpoint*"))
    assert sorted(os.path.basename(os.path.dirname(p))[6:] for p in checkpoints) == sorted(best_two)

    history = kit.History(os.path.join(result.directory, "history"))
    versions = history.versions()
    history.close()
    assert len(versions) == 6
    kept = [v for v in versions if v.files]
    assert len(kept) == 2
    assert (
        len(glob.glob(os.path.join(result.directory, "history", "**", "*.keras"), recursive=True))
        == 2
    )
    scores = sorted(row["score"] for row in result.trials)
    assert sorted(v.best for v in kept) == pytest.approx(scores[-2:])
    assert {v.configuration["hparams"]["trial_id"] for v in versions} == {
        row["trial_id"] for row in result.trials
    }

    # The best model is the best trial's best epoch: it scores what the tuner recorded.
    _, accuracy = result.best_model.evaluate(validation, verbose=0)
    assert accuracy == pytest.approx(scores[-1], abs=1e-6)
    assert result.best_values == result.trials[int(best_two[0])]["values"]

    # Progress: a start and an end line per trial; the table lists the best trial first.
    lines = [r.getMessage() for r in caplog.records if r.name == "keras_accuracy_kit.search"]
    assert sum(" started: " in line for line in lines) == 6
    assert sum("completed in" in line and "val_accuracy=" in line for line in lines) == 6
    table = result.table().splitlines()
    assert table[0].split()[:4] == ["trial", "status", "val_accuracy", "best@"]
    assert table[1].split()[0] == best_two[0] and len(table) == 7


def hparams_sessions(logdir):
    """The HParams session-start records in the event files under `logdir`."""
    sessions = []
    for path in glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content
                )
                if data.HasField("session_start_info"):
                    sessions.append(dict(data.session_start_info.hparams))
    return sessions


def test_hyperband_logs_each_trial_to_hparams_once_with_a_user_tensorboard(tmp_path):
    train, validation = digits(num_train=200, num_validation=100)
    tensorboard = keras.callbacks.TensorBoard(str(tmp_path / "tb"), write_graph=False)
    result = kit.search.tune(
        depth_search(), train, validation, strategy="hyperband", epochs=3,
        directory=tmp_path / "search", callbacks=[tensorboard], keep_best=2,
    )  # fmt: skip
    assert len(result.trials) >= 3
    for row in result.trials:
        sessions = hparams_sessions(tmp_path / "tb" / row["trial_id"])
        assert len(sessions) == 1, row["trial_id"]
        assert set(sessions[0]) == set(row["values"])
        for name in ("num_blocks", *(f"block_{i}/units" for i in range(3))):
            if name in row["values"]:
                assert sessions[0][name].number_value == row["values"][name]
    checkpoints = glob.glob(os.path.join(result.directory, "trial_*", "checkpoint*"))
    assert len(checkpoints) <= 2


def test_arrays_and_logdir_alone_add_tensorboard_and_hparams(tmp_path):
    train, validation = digits(num_train=128, num_validation=64, batch_size=1000)
    (x, y), (vx, vy) = next(iter(train)), next(iter(validation))
    result = kit.search.tune(
        depth_search(), (x.numpy(), y.numpy()), (vx.numpy(), vy.numpy()), strategy="random",
        max_trials=2, epochs=1, batch_size=32, directory=tmp_path / "search",
        logdir=tmp_path / "tb",
    )  # fmt: skip
    assert [row["status"] for row in result.trials] == ["COMPLETED"] * 2
    for row in result.trials:
        run = tmp_path / "tb" / row["trial_id"] / "execution0"
        assert len(hparams_sessions(run)) == 1
        assert glob.glob(str(run / "validation" / "events.out.tfevents.*"))


def test_same_seed_same_trials(tmp_path):
    train, validation = digits(num_train=128, num_validation=64)
    runs = [
        kit.search.tune(
            depth_search(), train, validation, strategy="random", max_trials=1, epochs=1,
            directory=tmp_path / str(run), seed=7,
        ).trials
        for run in range(2)
    ]  # fmt: skip
    assert runs[0] == runs[1]


def test_bad_arguments_are_errors(tmp_path):
    train, validation = digits(num_train=8, num_validation=8)
    with pytest.raises(ValueError, match=r"`strategy` must be one of \['bayesian', 'hyperband'"):
        kit.search.tune(depth_search(), train, validation, strategy="grid", directory=tmp_path)
    with pytest.raises(ValueError, match="`train` and `validation` must be given"):
        kit.search.tune(depth_search(), directory=tmp_path)
    with pytest.raises(ValueError, match="`keep_best` must be a positive integer"):
        kit.search.tune(depth_search(), train, validation, keep_best=0, directory=tmp_path)
    with pytest.raises(ValueError, match="ProgressiveEpochs: `initial_epochs` must be a positive"):
        kit.search.tune(depth_search(), train, validation, initial_epochs=0, directory=tmp_path)
    with pytest.raises(TypeError, match="`train` must be a tf.data.Dataset"):
        kit.search.tune(depth_search(), "images/", validation, directory=tmp_path)


def test_missing_tuner_extra_names_the_pip_install():
    code = (
        "import sys\n"
        "sys.modules['keras_tuner'] = None\n"
        "import keras_accuracy_kit as kit\n"
        "kit.resize(8, 8)\n"
        "try:\n"
        "    kit.search\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "ImportError: kit.search: `keras_tuner` must be installed" in output
    assert 'pip install "keras-accuracy-kit[tuner]"' in output


class FailingDepthSearch(kit.search.DepthSearch):
    def fit(self, hp, model, *args, **kwargs):
        if hp.get("num_blocks") == 2:
            raise ValueError("two blocks do not fit")
        return super().fit(hp, model, *args, **kwargs)


def test_failed_trials_say_why_and_the_search_goes_on(tmp_path, caplog):
    train, validation = digits(num_train=64, num_validation=32)
    depth = FailingDepthSearch(dense_block, 1, 2, input_shape=(8, 8, 1))
    with caplog.at_level(logging.INFO, logger="keras_accuracy_kit.search"):
        result = kit.search.tune(
            depth, train, validation, strategy="random", max_trials=3, epochs=1,
            directory=tmp_path, seed=2,
        )  # fmt: skip
    statuses = {row["values"]["num_blocks"]: row["status"] for row in result.trials}
    assert statuses == {1: "COMPLETED", 2: "FAILED"}
    assert result.best_values["num_blocks"] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("failed: ValueError: two blocks do not fit" in w for w in warnings)
