"""AccuracyReport end to end on tiny digits runs: the event files are read back."""

import io
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.metrics import confusion_matrix
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting import rendering
from keras_accuracy_kit.reporting import summary_schema as schema
from tests.reporting.digits import CLASS_NAMES, digits, fit_run


def read_back(logdir):
    accumulator = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return accumulator


def values(accumulator, tag):
    return [float(tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]


def kit_summary(accumulator):
    """The latest summary (the tab reads the latest: `record_decision` writes it again)."""
    event = accumulator.Tensors(schema.SUMMARY_TAG)[-1]
    return json.loads(tf.make_ndarray(event.tensor_proto).item())


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("report") / "run"
    budget = kit.callbacks.ProgressiveEpochs(initial_epochs=2, extension=1)
    plateau = kit.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0)
    model, history, _ = fit_run(
        logdir,
        epochs=3,
        callbacks=[budget, plateau],
        tricks=[budget, plateau],
        hparams={"batch_size": 64},
        change="more epochs",
        order=1,
    )
    return logdir, model, history.history, read_back(logdir)


def test_epoch_scalars_include_learning_rate_and_epoch_budget(report_run):
    _, _, history, accumulator = report_run
    epochs = len(history["val_accuracy"])
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "epoch_budget"):
        assert values(accumulator, f"epoch/{key}") == pytest.approx(history[key]), key
        assert [e.step for e in accumulator.Tensors(f"epoch/{key}")] == list(range(epochs))
    assert values(accumulator, "epoch/learning_rate")[0] == pytest.approx(0.01)
    assert values(accumulator, "epoch/epoch_budget")[0] == 2


def test_summary_holds_best_value_and_the_run_label(report_run):
    _, _, history, accumulator = report_run
    summary = kit_summary(accumulator)
    assert set(summary) == set(schema.SUMMARY_KEYS)
    val_accuracy = history["val_accuracy"]
    assert summary["best"] == pytest.approx(max(val_accuracy))
    assert summary["best_epoch"] == int(np.argmax(val_accuracy))
    assert summary["epochs"] == len(val_accuracy)
    assert (summary["change"], summary["order"], summary["monitor"]) == (
        "more epochs",
        1,
        "val_accuracy",
    )
    assert summary["wall_time"] > 0 and summary["version"] is None
    assert summary["class_names"] == CLASS_NAMES


def test_confusion_matrix_per_class_accuracy_and_worst_agree_with_sklearn(report_run):
    _, model, _, accumulator = report_run
    _, (x_val, y_val) = digits()
    probabilities = model.predict(x_val, verbose=0)
    expected = confusion_matrix(y_val, probabilities.argmax(axis=1), labels=range(10))
    summary = kit_summary(accumulator)
    np.testing.assert_array_equal(summary["confusion_matrix"], expected)
    recall = np.diag(expected) / expected.sum(axis=1)
    assert summary["per_class_accuracy"] == pytest.approx(recall.tolist())
    for name, accuracy in zip(CLASS_NAMES, recall):
        assert values(accumulator, f"report/per_class_accuracy/{name}") == pytest.approx([accuracy])
    true_probability = probabilities[np.arange(len(y_val)), y_val]
    worst = np.argsort(true_probability, kind="stable")[:16]
    assert [w["true_probability"] for w in summary["worst"]] == pytest.approx(
        true_probability[worst].tolist(), abs=1e-6
    )
    assert [w["true"] for w in summary["worst"]] == y_val[worst].tolist()

    (event,) = accumulator.Tensors(schema.WORST_IMAGES_TAG)
    pngs = tf.make_ndarray(event.tensor_proto)
    assert len(pngs) == 16
    first = np.asarray(Image.open(io.BytesIO(pngs[0])))
    np.testing.assert_array_equal(first[..., 0], np.round(x_val[worst[0], ..., 0] * 255))


def test_images_for_the_images_tab(report_run):
    _, _, _, accumulator = report_run
    metadata = accumulator.SummaryMetadata("report/worst_predictions")
    assert metadata.plugin_data.plugin_name == "images"
    (event,) = accumulator.Tensors("report/worst_predictions")
    width, height = (int(v) for v in tf.make_ndarray(event.tensor_proto)[:2])
    cell_height = rendering.WORST_CELL_SIZE + rendering.WORST_CAPTION_HEIGHT + 2
    assert (height, width) == (2 * cell_height, 8 * (rendering.WORST_CELL_SIZE + 2))
    assert accumulator.SummaryMetadata("report/confusion_matrix").plugin_data.plugin_name == (
        "images"
    )


def test_hparams_name_the_tricks_and_their_settings(report_run):
    _, _, _, accumulator = report_run
    content = accumulator.SummaryMetadata(hparams_metadata.SESSION_START_INFO_TAG)
    info = hparams_metadata.parse_session_start_info_plugin_data(content.plugin_data.content)
    hparams = {key: value.ListFields()[0][1] for key, value in info.hparams.items()}
    assert hparams["tricks"] == "progressive_epochs,reduce_lr_on_plateau"
    assert hparams["progressive_epochs.initial_epochs"] == 2
    assert hparams["reduce_lr_on_plateau.factor"] == 0.5
    assert hparams["reduce_lr_on_plateau.patience"] == 0
    assert "reduce_lr_on_plateau.monitor" not in hparams  # "val_loss" is the default
    assert hparams["batch_size"] == 64 and hparams["optimizer"] == "Adam"
    assert hparams["learning_rate"] == pytest.approx(0.01)
    assert (hparams["change"], hparams["order"]) == ("more epochs", 1)


def test_checkpoint_on_change_gives_what_changed_and_the_delta(tmp_path):
    bests = []
    for run, learning_rate in (("first", 0.01), ("second", 0.05)):
        checkpoint = kit.callbacks.CheckpointOnChange(tmp_path / "history")
        fit_run(
            tmp_path / run,
            learning_rate=learning_rate,
            callbacks=[checkpoint],
            tricks=[checkpoint],
        )
        bests.append(kit_summary(read_back(tmp_path / run)))
    first, second = bests
    assert (first["version"], first["parent_version"], first["delta_vs_parent"]) == (1, None, None)
    assert (second["version"], second["parent_version"]) == (2, 1)
    assert any("learning_rate" in line and "0.05" in line for line in second["changes"])
    assert "learning_rate" in second["change"]  # no change= given: the recorded changes
    versions = kit.History(tmp_path / "history").versions()
    assert second["delta_vs_parent"] == pytest.approx(versions[1].best - versions[0].best)
    assert second["best"] == pytest.approx(versions[1].best)


def test_only_the_chief_writes(tmp_path, monkeypatch):
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    )
    fit_run(tmp_path / "worker1", epochs=1)
    assert not os.path.exists(tmp_path / "worker1")


def test_without_validation_data_still_writes_scalars_and_summary(tmp_path):
    fit_run(tmp_path / "run", epochs=1, validation_data=None, learning_rate=0.02)
    accumulator = read_back(tmp_path / "run")
    # Without ReduceLROnPlateau in the logs, the rate is read from the optimizer.
    assert values(accumulator, "epoch/learning_rate") == pytest.approx([0.02])
    summary = kit_summary(accumulator)
    assert summary["confusion_matrix"] is None and summary["worst"] == []
    assert summary["change"] == "run"  # the directory name when nothing else says


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hparams": [1]}, r"`hparams` must be a dict. Received: hparams=\[1\]"),
        ({"change": 3}, r"`change` must be a string. Received: change=3"),
        ({"order": 1.5}, r"`order` must be an int .* Received: order=1.5"),
        ({"class_names": "abc"}, r"`class_names` must be a list of strings"),
        ({"validation_data": [1, 2]}, r"`validation_data` must be a tf.data.Dataset .*list"),
        ({"num_worst": -1}, r"`num_worst` must be a non-negative integer"),
        ({"mode": "up"}, r"`mode` must be one of"),
    ],
)
def test_bad_arguments_fail_at_construction(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kit.callbacks.AccuracyReport(tmp_path, **kwargs)


def test_errors_at_train_begin_and_first_epoch(tmp_path):
    with pytest.raises(ValueError, match=r"one name per class of the model \(10\).*3 names"):
        fit_run(tmp_path / "a", epochs=1, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"monitor='val_top5'; available: \[.*'val_accuracy'"):
        fit_run(tmp_path / "b", epochs=1, monitor="val_top5")


def test_get_config_holds_the_constructor_arguments(tmp_path):
    report = kit.callbacks.AccuracyReport(tmp_path, change="x", order=2, num_worst=4)
    config = report.get_config()
    assert (config["change"], config["order"], config["num_worst"]) == ("x", 2, 4)
    assert config["logdir"] == str(tmp_path)


def test_dataset_validation_data_with_one_hot_labels(tmp_path):
    _, (x_val, y_val) = digits()
    one_hot = tf.one_hot(y_val, 10)
    dataset = tf.data.Dataset.from_tensor_slices((x_val, one_hot)).batch(48)
    model, _, _ = fit_run(tmp_path / "run", epochs=1, validation_data=dataset, num_worst=5)
    summary = kit_summary(read_back(tmp_path / "run"))
    predicted = model.predict(x_val, verbose=0).argmax(axis=1)
    np.testing.assert_array_equal(
        summary["confusion_matrix"], confusion_matrix(y_val, predicted, labels=range(10))
    )
    assert len(summary["worst"]) == 5


def test_a_decision_after_training_writes_the_summary_again_with_it(tmp_path):
    _, history, report = fit_run(tmp_path / "run", epochs=2)
    assert kit_summary(read_back(tmp_path / "run"))["decision"] is None
    wall_time = kit_summary(read_back(tmp_path / "run"))["wall_time"]
    report.record_decision(
        False, value=0.5, gain=-0.25, low=-0.5, high=0.0, rule="gain > min_delta=0", note="n"
    )
    accumulator = read_back(tmp_path / "run")
    steps = [event.step for event in accumulator.Tensors(schema.SUMMARY_TAG)]
    assert steps == [1, 2]  # the last epoch, then one step later: the latest is read
    summary = kit_summary(accumulator)
    assert summary["decision"] == {
        "kept": False, "value": 0.5, "gain": -0.25, "low": -0.5, "high": 0.0,
        "rule": "gain > min_delta=0", "note": "n",
    }  # fmt: skip
    assert summary["best"] == pytest.approx(max(history.history["val_accuracy"]))
    assert summary["wall_time"] == pytest.approx(wall_time)  # training's time, not since
    assert sorted(summary["decision"]) == sorted(schema.DECISION_KEYS)


@pytest.mark.parametrize("logdir", ["", None, 7, b"runs", "ru\0ns"])
def test_logdir_must_be_a_path(logdir):
    with pytest.raises(
        TypeError,
        match=r"^AccuracyReport: `logdir` must be a path \(a non-empty string or os\.PathLike\)"
        r"\. Received: logdir=.*\. E\.g\. logdir='runs/ladder/01-augment'\.$",
    ):
        kit.callbacks.AccuracyReport(logdir)


def test_a_decision_before_the_end_goes_into_the_one_summary(tmp_path):
    report = kit.callbacks.AccuracyReport(tmp_path / "run")
    report.record_decision(None)  # pending
    fit_run(tmp_path / "other", epochs=1, callbacks=[report])
    accumulator = read_back(tmp_path / "run")
    assert len(accumulator.Tensors(schema.SUMMARY_TAG)) == 1
    assert kit_summary(accumulator)["decision"]["kept"] is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kept": 1}, r"`kept` must be True, False or None \(pending\). Received: kept=1"),
        ({"kept": True, "gain": "+1"}, r"`gain` must be a number or None. Received: gain='\+1'"),
        ({"kept": True, "rule": None}, r"`rule` must be a string. Received: rule=None"),
    ],
)
def test_bad_decisions_are_refused(tmp_path, kwargs, message):
    report = kit.callbacks.AccuracyReport(tmp_path)
    with pytest.raises(TypeError, match=message):
        report.record_decision(**kwargs)
    assert report.decision is None


def test_two_fits_before_train_end_make_one_run_with_one_best(tmp_path):
    """A fine-tuning recipe's phases (`kit.transfer.fine_tune`): one writer, epochs go on."""

    class Phases(kit.callbacks.AccuracyReport):
        def on_train_end(self, logs=None):  # the recipe's caller ends the run itself
            pass

    (x, y), (x_val, y_val) = digits()
    from tests.reporting.digits import tiny_model

    model = tiny_model()
    report = Phases(tmp_path / "run", validation_data=(x_val, y_val))
    first = model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
                      callbacks=[report])  # fmt: skip
    second = model.fit(x, y, validation_data=(x_val, y_val), epochs=4, initial_epoch=2,
                       verbose=0, callbacks=[report])  # fmt: skip
    kit.callbacks.AccuracyReport.on_train_end(report)
    accumulator = read_back(tmp_path / "run")
    history = first.history["val_accuracy"] + second.history["val_accuracy"]
    assert values(accumulator, "epoch/val_accuracy") == pytest.approx(history)
    assert [e.step for e in accumulator.Tensors("epoch/val_accuracy")] == [0, 1, 2, 3]
    summary = kit_summary(accumulator)
    assert summary["epochs"] == 4
    assert summary["best"] == pytest.approx(max(history))
    assert summary["best_epoch"] == int(np.argmax(history))
    assert len(os.listdir(tmp_path / "run")) == 1  # one event file: one writer
