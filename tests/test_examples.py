"""The examples run end to end (they are what `make demo` shows a newcomer)."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tests.conftest import load_script


def test_transform_gallery_writes_the_grid_to_tensorboard(tmp_path, capsys):
    gallery = load_script("examples", "transform_gallery")
    result = gallery.main(["--logdir", str(tmp_path), "--num-images", "5"])
    printed = capsys.readouterr().out
    assert f"tensorboard --logdir {tmp_path}" in printed

    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    assert "transforms/before_after" in accumulator.Tags()["tensors"]
    event = accumulator.Tensors("transforms/before_after")[0]
    width, height = (int(v) for v in tf.make_ndarray(event.tensor_proto)[:2])
    # 8 rows (original + 7 transforms) and 5 columns of 48x80 cells plus 2 px spacing.
    assert (height, width) == (8 * 50, 5 * 82)

    png = tf.io.decode_png(tf.io.read_file(result["png"])).numpy()
    assert png.shape == (8 * 50, 5 * 82, 3)
    np.testing.assert_array_equal(png, np.round(result["grid"][0].numpy() * 255))
    # The letterbox row (second) has gray bars of pad_value 0.5 left and right of the digit.
    assert (png[50 + 10, 0:10] == 128).all()


def test_transform_gallery_rejects_an_unwritable_logdir(tmp_path):
    gallery = load_script("examples", "transform_gallery")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"`logdir` must be a directory the kit can write to"):
        gallery.main(["--logdir", str(blocker / "runs")])


def test_augment_digits_flags_label_changing_steps(tmp_path, capsys):
    example = load_script("examples", "augment_digits")
    result = example.main(["--logdir", str(tmp_path), "--num-images", "600"])
    printed = capsys.readouterr().out
    assert sorted(result["report"].flagged) == ["horizontal_flip", "rotation_range=180"]
    assert result["checked"].rotation_range == 0 and not result["checked"].horizontal_flip
    assert result["checked"].width_shift_range == 0.1
    assert "Augment.checked: removed `horizontal_flip`" in printed
    assert f"tensorboard --logdir {tmp_path}" in printed
    grid = tf.io.decode_png(tf.io.read_file(result["preview"])).numpy()
    assert grid.shape == (4 * 66, 8 * 66, 3)


def scalars(directory, tag):
    """The values of one scalar `tag` in the TensorBoard event files of `directory`."""
    accumulator = event_accumulator.EventAccumulator(
        str(directory), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return [float(tf.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)]


def test_epochs_and_learning_rate_grows_the_budget_or_lowers_the_rate(tmp_path, capsys):
    example = load_script("examples", "epochs_and_learning_rate")
    result = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    assert result["extensions"] >= 1 or result["lr_reductions"] >= 1
    assert 3 <= result["epochs_run"] <= 12  # the first stage, at most fit's ceiling
    assert result["learning_rates"][0] == pytest.approx(result["suggested_lr"], rel=1e-6)
    assert 1e-5 <= result["suggested_lr"] <= 1.0
    assert result["best_val_accuracy"] > 0.5  # chance is 0.1
    # TensorBoard holds the range test and, per epoch, the budget and the rate.
    assert len(scalars(tmp_path / "lr_find", "lr_find/smoothed_loss")) >= 2
    assert scalars(tmp_path / "train", "epoch_epoch_budget") == result["epoch_budget"]
    # The kit logs the rate each epoch trained with; Keras' TensorBoard reads the optimizer
    # after the epoch's callbacks, i.e. the rate of the next epoch.
    np.testing.assert_allclose(
        scalars(tmp_path / "train", "epoch_learning_rate")[:-1],
        result["learning_rates"][1:],
        rtol=1e-6,
    )
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_image_size_feeds_each_model_its_own_size(tmp_path, capsys):
    example = load_script("examples", "image_size")
    result = example.main(["--logdir", str(tmp_path), "--quick", "--sizes", "8", "16"])
    printed = capsys.readouterr().out
    assert [run["size"] for run in result["runs"]] == [8, 16]
    for run in result["runs"]:
        size = run["size"]
        assert run["input_shape"] == (size, size, 1)
        assert run["batch_shape"][1:] == (size, size, 1)
        assert run["val_accuracy"] > 0.3  # chance is 0.1
        assert len(scalars(tmp_path / f"size_{size}" / "validation", "epoch_accuracy")) == 3
        assert f"| {size}x{size} | {run['val_accuracy']:.3f} |" in printed
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_color_spaces_trains_on_rgb_lab_hsv_and_grayscale(tmp_path, capsys):
    example = load_script("examples", "color_spaces")
    result = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    runs = {run["name"]: run for run in result["runs"]}
    assert list(runs) == ["rgb", "lab", "hsv", "grayscale"]
    for name, run in runs.items():
        assert run["channels"] == 3
        assert min(run["min"]) >= 0.0 and max(run["max"]) <= 1.0, name
        assert run["val_accuracy"] > 0.2, name  # chance is 0.1
        assert len(scalars(tmp_path / name / "validation", "epoch_accuracy")) == 3
    # Gray repeated 3 times; Lab's a and b of unit range sit inside [0, 1], not on its ends.
    assert runs["grayscale"]["min"] == [runs["grayscale"]["min"][0]] * 3
    assert runs["grayscale"]["max"] == [runs["grayscale"]["max"][0]] * 3
    assert all(0.05 < v < 0.95 for v in runs["lab"]["min"][1:] + runs["lab"]["max"][1:])
    assert runs["hsv"]["min"][0] < 0.01 and runs["hsv"]["max"][0] > 0.99  # hue: every tint
    assert runs["rgb"]["max"] == [1.0, 1.0, 1.0]
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_transfer_learning_reloads_a_model_that_predicts_identically(tmp_path, capsys):
    example = load_script("examples", "transfer_learning")
    result = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    assert result["model_path"] == str(tmp_path / "models" / "digits_5_to_9.keras")
    history = result["history"]
    epochs = history.head_epochs + history.fine_tune_epochs
    assert 1 <= history.head_epochs <= 5 and history.fine_tune_epochs <= 5
    assert len(history.history["val_accuracy"]) == epochs
    np.testing.assert_allclose(
        result["reloaded_predictions"], result["predictions"], rtol=0, atol=1e-6
    )
    assert result["accuracy"] > 0.3  # 5 classes: chance is 0.2
    # Never worse than the head on the frozen backbone, on the data that judged it.
    assert result["accuracy"] >= history.floor - 1e-9
    assert len(scalars(tmp_path / "fine_tune" / "validation", "epoch_accuracy")) == epochs
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_always_save_your_model_rolls_back_to_the_best_version(tmp_path, capsys):
    example = load_script("examples", "always_save_your_model")
    result = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    first, second = result["versions"]
    assert (first.parent, second.parent) == (None, first.id)
    assert "hparams.dropout: 0.5 -> 0" in second.changes
    assert "hparams.batch_size: 64 -> 16" in second.changes
    assert result["best"].best == max(first.best, second.best)
    assert result["restored_version"] == result["best"].id
    # The exported file is the best version's best model: it scores what was recorded.
    assert result["exported_accuracy"] == pytest.approx(result["best"].best, abs=1e-6)
    assert result["exported"] == str(tmp_path / "best.keras")
    assert len(scalars(tmp_path / "run_2" / "validation", "epoch_accuracy")) == 3
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_depth_builds_one_two_and_three_conv_blocks(tmp_path, capsys):
    example = load_script("examples", "depth")
    result = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    assert [run["depth"] for run in result["runs"]] == [1, 2, 3]
    for run in result["runs"]:
        assert run["conv_layers"] == run["depth"]
        assert run["val_accuracy"] > 0.3  # chance is 0.1
        assert len(scalars(tmp_path / f"depth_{run['depth']}" / "validation", "epoch_loss")) == 3
    assert f"tensorboard --logdir {tmp_path}" in printed


def test_accuracy_ladder_example_runs_the_ladder_and_scores_the_test_set(tmp_path, capsys):
    example = load_script("examples", "accuracy_ladder")
    outcome = example.main(["--logdir", str(tmp_path), "--quick"])
    printed = capsys.readouterr().out
    steps = outcome["result"].steps
    assert [s.name for s in steps][:2] == ["baseline", "epochs"]
    assert sum(s.epochs for s in steps) <= 6
    # The reported test accuracy is scikit-learn's on the best model's own predictions of
    # the test split (not just "above chance"), and the printed line says that number.
    from sklearn.metrics import accuracy_score

    from keras_accuracy_kit.ladder import few_shot_digits

    test_images, test_labels = few_shot_digits(seed=0)[2]
    predictions = outcome["result"].best_model.predict(test_images, verbose=0).argmax(-1)
    assert outcome["test_accuracy"] == pytest.approx(accuracy_score(test_labels, predictions))
    assert outcome["test_accuracy"] > 0.1  # chance on 10 classes
    assert f"test accuracy of the best model: {outcome['test_accuracy']:.4f}" in printed
    assert "baseline" in printed and f"tensorboard --logdir {tmp_path}" in printed


def test_interpretation_example_saves_the_notebook_views_as_pngs(tmp_path, capsys):
    from sklearn.metrics import confusion_matrix

    example = load_script("examples", "interpretation")
    result = example.main(["--output", str(tmp_path), "--epochs", "3"])
    printed = capsys.readouterr().out
    for name, file in (
        ("batch", "batch.png"),
        ("lr_figure", "lr_find.png"),
        ("confusion_matrix", "confusion_matrix.png"),
        ("top_losses", "top_losses.png"),
    ):
        assert result[name].path == str(tmp_path / file)
        decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / file))).numpy()
        assert decoded.shape == result[name].image.shape, name
        assert f"-> {tmp_path / file}" in printed
    images, labels = result["validation"]
    predicted = result["model"].predict(images, verbose=0).argmax(axis=-1)
    interp = result["interpretation"]
    np.testing.assert_array_equal(
        interp.confusion_matrix(), confusion_matrix(labels, predicted, labels=range(10))
    )
    assert interp.accuracy > 0.5  # chance is 0.1
    assert str(result["lr_result"]).splitlines() == [str(result["lr_result"])]
    assert str(result["lr_result"]) in printed and str(interp) in printed
    assert len(result["top_losses"].data["indices"]) == 9


def test_gan_augmentation_measures_with_and_without_generated_digits(tmp_path, capsys):
    example = load_script("examples", "gan_augmentation")
    result = example.main(["--logdir", str(tmp_path), "--gan-epochs", "2", "--epochs", "2"])
    printed = capsys.readouterr().out
    (row,) = result["rows"]
    for name in ("without", "with", "class_consistency"):
        assert 0 <= row[name] <= 1
        # a count of correct images over the images scored (test digits, or 1000 generated)
        count = 1000 if name == "class_consistency" else 1797 - 200
        assert row[name] * count == pytest.approx(round(row[name] * count))
    assert row["frechet_distance"] > 0
    assert f"without {row['without']:.4f}, with generated digits {row['with']:.4f}" in printed
    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path / "seed_0"), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    assert [event.step for event in accumulator.Tensors("generated/per_class")] == [0, 1]
