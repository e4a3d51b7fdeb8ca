"""`kak improve`: photos at a trainable size, and every bad input refused before training."""

import os
import re
import time
import types

import pytest

import keras_accuracy_kit.ladder
from keras_accuracy_kit.cli.main import main
from tests.ladder.test_image_directory_datasets import photo_directory


def _refused(capsys, argv, match, tmp_path):
    """Runs `kak improve`; checks it stopped with one clear message and trained nothing."""
    assert main(["improve", *argv, "--logdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kak improve: ") and "kak improve: kak improve:" not in err  # D29
    assert re.search(match, err), err
    assert not (tmp_path / "runs" / "history").exists()
    return err


def test_large_photos_train_at_a_small_size_with_a_corrupt_file_named(tmp_path, capsys):
    # Issue 18 item 3 (1000x800 JPEGs) and issue 15 D24 (a truncated file among them).
    root = photo_directory(str(tmp_path / "photos"), per_class=4, height=800, width=1000)
    truncated = os.path.join(root, "red", "truncated.jpg")
    with open(os.path.join(root, "red", "0.jpg"), "rb") as source, open(truncated, "wb") as out:
        out.write(source.read()[:2000])
    start = time.monotonic()
    code = main(
        ["improve", root, "--logdir", str(tmp_path / "runs"), "--budget", "20s",
         "--tricks", "epochs", "--no-ensemble", "--no-tta", "--refit", "no", "--epochs", "2"]
    )  # fmt: skip
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Images of 2 classes at 64x80 px (the median image's size" in captured.out
    assert "baseline" in captured.out and (tmp_path / "runs" / "best.keras").exists()
    assert "kak improve: warning: skipped 1 image file(s)" in captured.err
    assert truncated in captured.err
    print(f"kak improve on 8 photos of 1000x800, --budget 20s: {elapsed:.1f} s")


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--batch-size", "0"], r"`--batch-size` must be a positive int. Received: --batch-size=0"),
        (["--batch-size", "-4"], r"--batch-size=-4"),
        (["--image-size", "0", "0"], r"`--image-size` must be two ints H W .* --image-size 0 0"),
        (["--image-size", "-5", "8"], r"--image-size -5 8"),
        (["--validation-split", "0"], r"`--validation-split` must be a fraction in \(0, 1\)"),
        (["--validation-split", "1.5"], r"--validation-split=1.5"),
        (["--epochs", "0"], r"`--epochs` must be a positive int"),
        (["--folds", "x"], r"`--folds` must be 'auto' or a positive int"),
    ],
)
def test_invalid_numbers_are_refused_with_the_flag_named(tmp_path, capsys, argv, match):
    # Issue 15 D27.
    root = photo_directory(str(tmp_path / "photos"), per_class=2, height=20, width=20)
    _refused(capsys, [root, *argv], match, tmp_path)


def test_image_size_with_the_digits_dataset_is_refused(tmp_path, capsys):
    _refused(capsys, ["--dataset", "digits", "--image-size", "16", "16"],
             r"`--image-size` applies to an image directory", tmp_path)  # fmt: skip


def test_a_file_given_as_path_is_called_a_file(tmp_path, capsys):
    # Issue 15 D25: it said the file "does not exist".
    path = tmp_path / "some_file.txt"
    path.write_text("hello")
    _refused(capsys, [str(path)], r"which is a file, not a folder", tmp_path)


def test_two_classes_of_one_image_each_stop_before_training(tmp_path, capsys):
    # Issue 15 D26.
    root = photo_directory(str(tmp_path / "photos"), per_class=1, height=20, width=20)
    _refused(capsys, [root], r"at least two images \(one to train on, one to validate\)", tmp_path)


@pytest.mark.parametrize(
    "output, match",
    [
        ("{tmp}/a_file/best.keras", r"`--output` must be writable.* is a file, not a directory"),
        ("{tmp}/best.txt", r"`--output` must end in .keras or .h5"),
        ("{tmp}", r"`--output` must be a file path, not a directory"),
    ],
)
def test_an_unusable_output_is_refused_before_training(tmp_path, capsys, output, match):
    # Issue 15 D28: found only after the whole ladder had trained.
    (tmp_path / "a_file").write_text("x")
    output = output.format(tmp=tmp_path)
    _refused(capsys, ["--dataset", "digits", "--output", output], match, tmp_path)


def test_an_unusable_logdir_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "runs").write_text("a file where the logdir should go")
    assert main(["improve", "--dataset", "digits", "--logdir", str(tmp_path / "runs")]) == 2
    assert "`--logdir` must be a directory" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_output_directory_is_refused_before_training(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _refused(capsys, ["--dataset", "digits", "--output", str(locked / "best.keras")],
                 r"`--output` must be writable.*cannot be written", tmp_path)  # fmt: skip
    finally:
        locked.chmod(0o700)


class _FakeModel:
    def save(self, path):
        raise OSError(28, "No space left on device")


def _fake_improve(calls):
    def improve(model, train, validation, **kwargs):
        calls.append(kwargs)
        return types.SimpleNamespace(
            best_model=_FakeModel(),
            table=lambda: "#  step  accuracy\n0  baseline  0.9000",
            steps=[],
            best_accuracy=0.9,
            best_transforms=[],
            directory="runs/history",
            logdir=kwargs["logdir"],
        )

    return improve


def test_the_table_is_printed_when_saving_fails_after_training(tmp_path, capsys, monkeypatch):
    # Issue 15 D28: the table was never printed when the save failed.
    calls = []
    monkeypatch.setattr(keras_accuracy_kit.ladder, "improve", _fake_improve(calls))
    code = main(["improve", "--dataset", "digits", "--logdir", str(tmp_path / "runs")])
    captured = capsys.readouterr()
    assert code == 2
    assert "0  baseline  0.9000" in captured.out
    assert "could not save the best model" in captured.err
    assert "kak rollback runs/history --export PATH" in captured.err


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_verbose_reaches_the_ladder(tmp_path, capsys, monkeypatch, verbose):
    calls = []
    monkeypatch.setattr(keras_accuracy_kit.ladder, "improve", _fake_improve(calls))
    main(["improve", "--dataset", "digits", "--logdir", str(tmp_path), "--verbose", str(verbose)])
    assert calls[0]["verbose"] == verbose


@pytest.mark.parametrize("installed", [True, False])
def test_a_missing_tensorboard_plugin_gets_a_hint(tmp_path, capsys, monkeypatch, installed):
    # Issue 18 item 5: a wheel user got no tab and no hint.
    import keras_accuracy_kit.cli.improve as improve_cli

    calls = []
    monkeypatch.setattr(keras_accuracy_kit.ladder, "improve", _fake_improve(calls))
    monkeypatch.setattr(_FakeModel, "save", lambda self, path: None)
    if not installed:
        monkeypatch.setattr(improve_cli, "PLUGIN_MODULE", "no_such_plugin_module_xyz")
    assert main(["improve", "--dataset", "digits", "--logdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ('"Accuracy Kit" tab needs the plugin' in out) is not installed


@pytest.mark.parametrize("verbose, hidden", [(1, True), (2, False)])
def test_framework_chatter_is_hidden_below_verbose_2(tmp_path, monkeypatch, verbose, hidden):
    import warnings

    import tensorflow as tf

    seen = {}

    def chatty_improve(model, train, validation, **kwargs):
        warnings.warn("`shuffle=True` was passed, but will be ignored since ...", UserWarning)
        warnings.warn("kit.improve: a warning of the kit's own", UserWarning)
        seen["tf_level"] = tf.get_logger().level
        return _fake_improve([])(model, train, validation, **kwargs)

    monkeypatch.setattr(keras_accuracy_kit.ladder, "improve", chatty_improve)
    monkeypatch.setattr(_FakeModel, "save", lambda self, path: None)
    level = tf.get_logger().level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(["improve", "--dataset", "digits", "--logdir", str(tmp_path),
              "--verbose", str(verbose)])  # fmt: skip
    messages = [str(w.message) for w in caught]
    assert "kit.improve: a warning of the kit's own" in messages
    assert any(m.startswith("`shuffle=True`") for m in messages) is not hidden
    assert (seen["tf_level"] == 40) is hidden
    assert tf.get_logger().level == level  # restored: main() may run in-process
