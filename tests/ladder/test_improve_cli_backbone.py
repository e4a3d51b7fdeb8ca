"""`kak improve PATH --backbone DIR`: the flag reaches the ladder's transfer rung and its recipe."""

import importlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.cli.main import main


def _digit_directory(root, classes=(0, 1, 2), per_class=12):
    digits = load_digits()
    for label in classes:
        for index in np.flatnonzero(digits.target == label)[:per_class]:
            image = np.round(digits.images[index] * (255 / 16)).astype("uint8")[..., None]
            path = os.path.join(root, f"class_{label}", f"{index}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tf.io.write_file(path, tf.io.encode_png(image))
    return root


def _tiny_backbone(directory):
    """A Conv8 + Flatten feature extractor on 8x8x1 images in [0, 1], as a SavedModel."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, activation="relu")(inputs))
    keras.Model(inputs, features).export(str(directory), verbose=False)
    return str(directory)


@pytest.fixture
def recipe_calls(monkeypatch):
    """Records every `kit.transfer.fine_tune` call the ladder makes, and what it returned."""
    module = importlib.import_module("keras_accuracy_kit.transfer.fine_tune")
    original, calls = module.fine_tune, []

    def recording(model, train, validation=None, **kwargs):
        history = original(model, train, validation, **kwargs)
        calls.append((model, validation, history, kwargs))
        return history

    monkeypatch.setattr(module, "fine_tune", recording)
    return calls


def _improve(tmp_path, *extra):
    data = _digit_directory(str(tmp_path / "photos"))
    backbone = _tiny_backbone(tmp_path / "backbone")
    logdir = tmp_path / "runs"
    arguments = [
        "improve", data, "--logdir", str(logdir), "--epochs", "2", "--budget", "40",
        "--tricks", "transfer", "--backbone", backbone, "--validation-split", "0.25",
        "--no-ensemble", "--no-tta", *extra,
    ]  # fmt: skip
    return main(arguments), backbone, logdir


def test_kak_improve_backbone_runs_the_transfer_rung_with_the_fine_tuning_recipe(
    tmp_path, capsys, recipe_calls
):
    code, backbone, logdir = _improve(tmp_path, "--folds", "1", "--refit", "no")
    out = capsys.readouterr().out
    assert code == 0, out
    transfer_rows = [line for line in out.splitlines() if line.startswith("1  transfer")]
    assert len(transfer_rows) == 1 and f"transfer from {backbone}" in transfer_rows[0]
    # The rung built a classifier on the SavedModel and ran the recipe on it.
    assert len(recipe_calls) == 1
    model, validation, history, kwargs = recipe_calls[0]
    assert kwargs["cache"] == "auto" and kwargs.get("weighted_metrics") is None
    extractor = model.get_layer("feature_extractor")
    assert extractor.handle == backbone
    assert validation is not None and history.floor is not None
    assert history.cached and history.head_epochs >= 1
    with kit.History(str(logdir / "history")) as store:
        hparams = [version.configuration["hparams"] for version in store.versions()]
    assert any(h.get("ladder_step") == "transfer" and h.get("transfer") for h in hparams)


def test_kak_improve_backbone_with_cross_validation(tmp_path, capsys, recipe_calls):
    code, _, _ = _improve(tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3-fold cross-validation" in out
    # One recipe run per fold, each judged on its own held-out fold; then the refit
    # (refit="auto" under cross-validation) on all the data, without validation.
    judged = [call for call in recipe_calls if call[1] is not None]
    assert len(judged) == 3
    assert all(call[1] is None for call in recipe_calls[3:])
    # Held-out images weigh 0 in each member's data: accuracy is a weighted metric.
    assert all(call[3]["weighted_metrics"] == ["accuracy"] for call in recipe_calls)
    # The refit replays the first member's decisions (its kept fine-tuning epochs).
    refits = recipe_calls[3:]
    assert refits and all(
        call[3]["fine_tune_epochs"] == judged[0][2].best_fine_tune_epochs for call in refits
    )
