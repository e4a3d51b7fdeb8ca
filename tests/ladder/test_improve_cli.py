"""`kak improve` on an image directory the test writes, and its early errors."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.cli.main import main


def _write_png(path, image):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(path, tf.io.encode_png(image))


def _digit_directory(root, classes=(0, 1, 2), per_class=12, channels=1):
    digits = load_digits()
    for label in classes:
        indices = np.flatnonzero(digits.target == label)[:per_class]
        for index in indices:
            image = np.round(digits.images[index] * (255 / 16)).astype("uint8")[..., None]
            image = np.repeat(image, channels, axis=-1)
            _write_png(os.path.join(root, f"class_{label}", f"{index}.png"), image)
    return root


def test_kak_improve_on_an_image_directory_runs_end_to_end(tmp_path, capsys):
    data = _digit_directory(str(tmp_path / "photos"))
    logdir = tmp_path / "runs"
    code = main(
        [
            "improve", data, "--logdir", str(logdir), "--epochs", "2", "--budget", "6",
            "--tricks", "epochs,augment", "--validation-split", "0.25",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "baseline" in out and f"tensorboard --logdir {logdir}" in out
    assert "Classes: class_0, class_1, class_2" in out
    assert (logdir / "best.keras").exists()
    versions = kit.History(str(logdir / "history")).versions()
    assert versions and versions[0].configuration["hparams"]["ladder_step"] == "baseline"
    events = [f for _, _, files in os.walk(logdir / "00-baseline") for f in files]
    assert any(name.startswith("events.out.tfevents") for name in events)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda root: os.makedirs(root), "no images in any sub-folder"),
        (lambda root: _digit_directory(root, classes=(4,)), "at least two classes"),
        (
            lambda root: (
                _digit_directory(root, classes=(0,), channels=1),
                _digit_directory(root, classes=(1,), channels=3),
            ),
            r"mixed channel counts \[1, 3\]",
        ),
        (lambda root: None, "does not exist"),
    ],
)
def test_kak_improve_rejects_bad_directories_before_training(tmp_path, capsys, make, match):
    root = str(tmp_path / "photos")
    make(root)
    assert main(["improve", root, "--logdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kak improve: ")
    assert re.search(match, err), err
    assert not (tmp_path / "runs" / "history").exists()


def test_kak_improve_needs_exactly_one_source(tmp_path, capsys):
    assert main(["improve", "--logdir", str(tmp_path)]) == 2
    assert "give exactly one of PATH and --dataset" in capsys.readouterr().err
