"""kit.improve: the ladder keeps only what pays, records versions, checks inputs early."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import accuracy_ladder as improve_module
from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn


def _digits(per_class=10, seed=0):
    return few_shot_digits(per_class=per_class, seed=seed)[:2]


def _dense(input_shape, num_classes):
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 16),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def test_the_ladder_keeps_a_trick_only_when_it_beats_the_best(monkeypatch, tmp_path):
    scripted = iter([0.50, 0.60, 0.605, 0.70])  # baseline, epochs, learning rate, depth
    monkeypatch.setattr(improve_module._Ladder, "_accuracy", lambda self, m, v: next(scripted))
    result = kit.improve(
        tutorial_cnn,
        *_digits(per_class=3),
        tricks=["epochs", "learning_rate", "depth"],
        epochs=1,
        min_delta=0.01,
        logdir=str(tmp_path / "runs"),
        verbose=0,
    )
    steps = [(s.name, s.val_accuracy, s.kept) for s in result.steps]
    assert steps == [
        ("baseline", 0.50, True),
        ("epochs", 0.60, True),
        ("learning_rate", 0.605, False),  # +0.005 < min_delta
        ("depth", 0.70, True),
    ]
    assert result.best_accuracy == 0.70
    assert result.best_model.name == "tutorial_cnn_depth3"
    assert [round(s.delta, 3) for s in result.steps[1:]] == [0.1, 0.005, 0.1]
    # Each step trained the best configuration so far plus its own trick.
    versions = kit.History(result.directory).versions()
    hparams = [v.configuration["hparams"] for v in versions]
    assert [h["ladder_step"] for h in hparams] == ["baseline", "epochs", "learning_rate", "depth"]
    assert hparams[2]["progressive_epochs"] and hparams[2]["reduce_lr_on_plateau"]
    assert hparams[3]["progressive_epochs"] and not hparams[3]["reduce_lr_on_plateau"]
    assert [s.version for s in result.steps] == [v.id for v in versions]
    # Each trick's version derives from the best so far, not from the step before it.
    assert [v.parent for v in versions] == [None, 1, 2, 2]
    assert versions[3].changes[0].startswith("hparams.depth")


def test_the_auto_threshold_is_half_a_standard_error_and_at_least_one_image():
    ladder = improve_module._Ladder.__new__(improve_module._Ladder)
    ladder.min_delta = "auto"
    ladder.facts = type("Facts", (), {"num_validation": 100})()
    assert ladder._threshold(0.9) == pytest.approx(0.5 * (0.9 * 0.1 / 100) ** 0.5)  # 0.015
    assert ladder._threshold(0.999) == pytest.approx(0.01)  # one image of 100


def test_a_real_ladder_on_digits_writes_history_tensorboard_and_the_best_model(tmp_path):
    result = kit.improve(
        _dense,
        *_digits(per_class=5),
        tricks=["epochs", "augment", "image_size"],
        epochs=2,
        budget=12,
        logdir=str(tmp_path / "runs"),
        verbose=0,
    )
    names = [step.name for step in result.steps]
    assert names[:3] == ["baseline", "epochs", "augment"]
    assert sum(step.epochs for step in result.steps) <= 12
    augment_step = result.steps[2]
    assert "horizontal_flip" in augment_step.note  # the guard removed the flip
    assert "horizontal_flip" not in augment_step.change
    assert result.best_accuracy == max(s.val_accuracy for s in result.steps if s.kept)
    assert any(s.note == "budget spent" for s in result.steps) or names.count("image_size") >= 1
    runs = sorted(os.listdir(result.logdir))
    assert "00-baseline" in runs and "01-epochs" in runs
    accumulator = event_accumulator.EventAccumulator(
        os.path.join(result.logdir, "00-baseline", "validation")
    )
    accumulator.Reload()
    assert "epoch_accuracy" in accumulator.Tags()["tensors"] + accumulator.Tags()["scalars"]
    assert len(kit.History(result.directory).versions()) == len(
        [s for s in result.steps if s.val_accuracy is not None]
    )
    # Each trained step carries the Accuracy Kit summary: its change and rung.
    from tests.reporting.test_accuracy_report import kit_summary, read_back

    for index, step in enumerate(result.steps):
        run = os.path.join(result.logdir, f"{index:02d}-{step.name}")
        if step.val_accuracy is None:
            assert not os.path.exists(run)
            continue
        summary = kit_summary(read_back(run))
        assert (summary["order"], summary["change"]) == (index, step.change)
        assert summary["version"] == step.version
    table = result.table()
    assert table.splitlines()[0].split()[:3] == ["#", "step", "val_acc"]
    assert "baseline" in table


def test_colour_trick_runs_on_rgb_and_is_skipped_on_gray(monkeypatch, tmp_path):
    (x, y), (vx, vy) = _digits(per_class=3)
    rgb = np.repeat(x * (255 / 16), 3, axis=-1).astype("uint8")
    validation_rgb = np.repeat(vx * (255 / 16), 3, axis=-1).astype("uint8")
    scripted = iter([0.5, 0.4, 0.7, 0.5])  # rgb: baseline, lab, hsv; then gray: baseline
    monkeypatch.setattr(improve_module._Ladder, "_accuracy", lambda self, m, v: next(scripted))
    result = kit.improve(
        _dense, (rgb, y), (validation_rgb, vy), tricks=["color"], epochs=1,
        logdir=str(tmp_path / "rgb"), verbose=0,
    )  # fmt: skip
    assert [(s.change, s.kept) for s in result.steps[1:]] == [
        ("colour space lab", False),
        ("colour space hsv", True),
    ]
    assert [type(t).__name__ for t in result.best_transforms] == ["ToHSV"]
    # The best model takes raw RGB images: HSV and the rescale back to [0, 255] are inside.
    layers = [type(layer).__name__ for layer in result.best_model.layers]
    assert layers[1:3] == ["ToHSV", "Rescaling"]
    hsv = kit.to_hsv(value_range=(0, 255))(validation_rgb[:4].astype("float32")) * 255.0
    np.testing.assert_allclose(
        result.best_model.predict(validation_rgb[:4], verbose=0),
        result.best_model.layers[-1].predict(hsv.numpy(), verbose=0),
        atol=1e-5,
    )
    gray = kit.improve(
        _dense, (x, y), (vx, vy), tricks=["color"], epochs=1, logdir=str(tmp_path / "gray"),
        verbose=0,
    )  # fmt: skip
    assert gray.steps[1].note == "grayscale images" and gray.steps[1].val_accuracy is None


def test_a_model_instance_is_cloned_per_step_and_keeps_its_compile(tmp_path):
    model = _dense((8, 8, 1), 10)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    result = kit.improve(
        model, *_digits(per_class=3), tricks=["image_size"], epochs=1,
        logdir=str(tmp_path / "runs"), verbose=0,
    )  # fmt: skip
    assert result.best_model is not model
    assert isinstance(result.best_model.optimizer, keras.optimizers.SGD)
    assert result.steps[1].note == "needs a build function"


def _labels_dataset(labels, images=None):
    images = np.zeros((len(labels), 8, 8, 1), "float32") if images is None else images
    return tf.data.Dataset.from_tensor_slices((images, np.asarray(labels))).batch(4)


@pytest.mark.parametrize(
    "train, validation, match",
    [
        (_labels_dataset([]), _labels_dataset([0, 1]), "`train` must not be empty"),
        (_labels_dataset([1, 1, 1]), _labels_dataset([1]), "at least two classes"),
        (_labels_dataset([0, 1, 0]), _labels_dataset([0, 2]), r"validation classes \[2\]"),
        (
            _labels_dataset([0, 1], np.zeros((2, 8, 8, 2), "float32")),
            _labels_dataset([0, 1], np.zeros((2, 8, 8, 2), "float32")),
            "1 or 3 channels",
        ),
        (
            _labels_dataset([0, 1]),
            _labels_dataset([0, 1], np.zeros((2, 8, 8, 3), "float32")),
            "must have the training images' shape",
        ),
        (np.zeros((4, 8, 8, 1)), _labels_dataset([0, 1]), "must be a tf.data.Dataset"),
    ],
)
def test_bad_data_fails_before_any_training(tmp_path, train, validation, match):
    with pytest.raises(ValueError, match=match):
        kit.improve(_dense, train, validation, logdir=str(tmp_path), verbose=0)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"budget": "soon"}, "`budget` must be"),
        ({"budget": 0}, "`budget` must be"),
        ({"tricks": ["more_cowbell"]}, "`tricks` must be"),
        ({"epochs": 0}, "`epochs` must be"),
        ({"min_delta": -1}, "`min_delta` must be"),
        ({"model": "cnn"}, "`model` must be"),
    ],
)
def test_bad_arguments_say_what_and_how(tmp_path, arguments, match):
    full = {"model": _dense, "logdir": str(tmp_path), "verbose": 0} | arguments
    with pytest.raises(ValueError, match=match):
        kit.improve(train=_digits(3)[0], validation=_digits(3)[1], **full)


def test_pipelines_keep_the_data_value_range_after_kit_transforms(tmp_path):
    ladder = improve_module._Ladder(
        _dense, *_digits(per_class=3), "auto", None, str(tmp_path), None, 1, None, 32,
        "auto", None, False, 0, 0,
    )  # fmt: skip
    assert ladder.facts.value_range == (0.0, 16.0)
    base = improve_module._Config(epochs=1)
    for config in (
        improve_module._Config(epochs=1, augment={"rotation_range": 10}),
        improve_module._Config(epochs=1, image_size=16),
    ):
        transforms = ladder._transforms(config)
        train, validation = ladder._pipelines(config, transforms)
        for dataset in (train, validation):
            images = np.concatenate([x.numpy() for x, _ in dataset])
            assert 8 < images.max() <= 16.0 + 1e-4 and images.min() >= -1e-4
    raw = np.concatenate([x.numpy() for x, _ in ladder._pipelines(base, [])[1]])
    assert raw.max() == 16.0


def test_refit_trains_the_best_setup_on_train_and_validation(tmp_path, monkeypatch):
    seen = []
    original_fit = keras.Model.fit

    def recording_fit(self, x=None, *args, **kwargs):
        seen.append((sum(int(b[0].shape[0]) for b in x), kwargs.get("epochs")))
        return original_fit(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    result = kit.improve(
        _dense, *_digits(per_class=3), tricks=["epochs"], epochs=2, refit=True,
        logdir=str(tmp_path), verbose=0,
    )  # fmt: skip
    refit = result.steps[-1]
    assert refit.name == "refit" and refit.val_accuracy is None and refit.kept
    # Baseline and epochs on the 30 training images, then the refit on all 60.
    assert [count for count, _ in seen] == [30, 30, 60]
    assert seen[-1][1] == refit.epochs
    assert 1 <= refit.epochs <= 20  # at most 10 stages of 2 epochs


def test_the_transfer_rung_fine_tunes_a_savedmodel_backbone(tmp_path):
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, activation="relu")(inputs))
    keras.Model(inputs, features).export(str(tmp_path / "backbone"), verbose=False)
    result = kit.improve(
        _dense, *_digits(per_class=3), tricks=["transfer"], epochs=2, min_delta=1.0,
        backbone=str(tmp_path / "backbone"), logdir=str(tmp_path / "runs"), verbose=0,
    )  # fmt: skip
    step = result.steps[1]
    assert (step.name, step.change) == ("transfer", f"transfer from {tmp_path / 'backbone'}")
    assert step.val_accuracy is not None and step.epochs == 2 and not step.kept
    with kit.History(result.directory) as history:
        assert history.versions()[-1].configuration["hparams"]["transfer"] is True
