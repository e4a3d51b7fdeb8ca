"""kit.improve: the ladder keeps only what pays, records versions, checks inputs early."""

import os
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import accuracy_ladder, few_shot_digits, tutorial_cnn
from keras_accuracy_kit.ladder.rungs import Config


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


def test_a_real_ladder_on_digits_writes_history_tensorboard_and_the_best_model(tmp_path):
    result = kit.improve(
        _dense,
        *_digits(per_class=5),
        tricks=["epochs", "augment", "image_size"],
        epochs=2,
        budget=400,
        ensemble=False,
        logdir=str(tmp_path / "runs"),
        verbose=0,
    )
    names = [step.name for step in result.steps]
    assert names[:3] == ["baseline", "epochs", "augment"]
    assert sum(step.epochs for step in result.steps) <= 400
    assert "3-fold cross-validation over the 100" in result.evidence  # 50 + 50 images
    augment_step = result.steps[2]
    assert "horizontal_flip" in augment_step.note  # the guard removed the flip
    assert "horizontal_flip" not in augment_step.change
    judged = [s.val_accuracy for s in result.steps if s.kept and s.val_accuracy is not None]
    assert result.best_accuracy == max(judged)
    assert any(s.note == "budget spent" for s in result.steps) or names.count("image_size") >= 1
    runs = sorted(os.listdir(result.logdir))
    assert "00-baseline" in runs and "01-epochs" in runs
    accumulator = event_accumulator.EventAccumulator(os.path.join(result.logdir, "00-baseline"))
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"] + accumulator.Tags()["scalars"]
    assert {"epoch/val_accuracy", "epoch/accuracy", "epoch/val_loss"} <= set(tags)
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
    assert table.splitlines()[0].split()[:3] == ["#", "step", "accuracy"]
    assert "baseline" in table


def test_a_model_instance_is_cloned_per_step_and_keeps_its_compile(tmp_path):
    model = _dense((8, 8, 1), 10)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    result = kit.improve(
        model, *_digits(per_class=3), tricks=["image_size"], epochs=1, ensemble=False,
        refit=False, logdir=str(tmp_path / "runs"), verbose=0,
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
        ({"folds": 0}, "`folds` must be"),
        ({"refit": "yes"}, "`refit` must be"),
        ({"tta": 1}, "`tta` must be"),
        ({"batch_size": 0}, "`batch_size` must be"),
    ],
)
def test_bad_arguments_say_what_and_how(tmp_path, arguments, match):
    full = {"model": _dense, "logdir": str(tmp_path), "verbose": 0} | arguments
    with pytest.raises(ValueError, match=match):
        kit.improve(train=_digits(3)[0], validation=_digits(3)[1], **full)




def test_the_ladder_accuracy_is_the_best_models_accuracy_by_scikit_learn(tmp_path):
    from sklearn.metrics import accuracy_score

    train, validation = _digits(per_class=3)
    result = kit.improve(
        _dense, train, validation, tricks=["epochs"], epochs=2, folds=1, ensemble=False,
        tta=False, refit=False, logdir=str(tmp_path), verbose=0,
    )  # fmt: skip
    predictions = result.best_model.predict(validation[0], verbose=0).argmax(-1)
    assert result.best_accuracy == pytest.approx(accuracy_score(validation[1], predictions))
    kept = [step for step in result.steps if step.kept]
    assert result.best_accuracy == pytest.approx(kept[-1].val_accuracy)
    assert result.evidence == "the 30 validation images"


def test_a_time_budget_is_spent_to_at_least_90_percent_and_not_overrun(tmp_path):
    start = time.monotonic()
    result = kit.improve(
        tutorial_cnn, *_digits(per_class=5), budget="40s", logdir=str(tmp_path), verbose=0
    )
    elapsed = time.monotonic() - start
    epoch_seconds = max(s.seconds / s.epochs for s in result.steps if s.epochs)
    assert result.seconds >= 0.9 * 40, result.table()
    # Training stops at the batch that passes the deadline, which keeps 5 % of the budget
    # (or what a step needed after training, twice) to build the best model.
    assert result.seconds <= 40 + epoch_seconds + 5, result.table()
    assert elapsed <= 40 + epoch_seconds + 10
    assert "of a 40s budget" in result.table()


def test_the_best_model_with_ensemble_and_tta_loads_in_a_fresh_process(tmp_path):
    from tests.ladder.test_test_time_augmentation import predict_in_a_fresh_process

    (x, y), (vx, vy) = _digits(per_class=3)
    ladder = _ladder(
        tmp_path / "runs", ((x, y), (vx, vy)), tricks=[], folds="auto", ensemble=True, tta=True
    )
    config = Config(epochs=1, augment={"rotation_range": 10}, image_size=16)
    outcome = ladder._train_step("baseline", "test", config)
    outcome.tta = kit.augment(rotation_range=10, value_range=ladder.facts.value_range)
    assert len(outcome.members) == 3  # one per fold
    model = ladder._deployable(outcome)
    names = [layer.name for layer in model.layers]
    assert "tta" in names and {"member_0", "member_1", "member_2"} <= set(names)
    model.save(tmp_path / "best.keras")
    np.testing.assert_allclose(
        predict_in_a_fresh_process(tmp_path / "best.keras", vx[:6], tmp_path),
        model.predict(vx[:6], verbose=0),
        atol=1e-5,
    )


def test_the_best_model_is_traced_for_any_batch_size_before_it_is_returned(tmp_path):
    """An ensemble's first `predict` traces every member: the ladder pays it inside its
    budget, for any batch size, so your first call does not."""
    (x, y), (vx, vy) = _digits(per_class=3)
    ladder = _ladder(tmp_path / "runs", ((x, y), (vx, vy)), tricks=[], folds="auto", ensemble=True)
    outcome = ladder._train_step("baseline", "test", Config(epochs=1))
    model = ladder._deployable(outcome)
    assert model.predict_function is None  # nothing traced yet
    ladder._make_ready(model)
    traced = model.predict_function.experimental_get_tracing_count()
    for batch_size in (7, 64):
        model.predict(vx, batch_size=batch_size, verbose=0)
    assert model.predict_function.experimental_get_tracing_count() == traced


def test_pipelines_keep_the_data_value_range_after_kit_transforms(tmp_path):
    ladder = _ladder(tmp_path)
    assert ladder.facts.value_range == (0.0, 16.0)
    for config in (Config(epochs=1, augment={"rotation_range": 10}), Config(1, image_size=16)):
        pipeline = ladder._pipeline(config, ladder._transforms(config))
        for dataset in (ladder.train, ladder.validation):
            images = np.concatenate([x.numpy() for x, _ in pipeline(dataset)])
            assert 8 < images.max() <= 16.0 + 1e-4 and images.min() >= -1e-4
    plain = ladder._pipeline(Config(epochs=1), [])
    assert np.concatenate([x.numpy() for x, _ in plain(ladder.validation)]).max() == 16.0


def test_refit_trains_the_best_setup_on_train_and_validation(tmp_path, monkeypatch):
    seen = []
    original_fit = keras.Model.fit

    def recording_fit(self, x=None, *args, **kwargs):
        # The ladder repeats its datasets: one epoch is `steps_per_epoch` batches.
        steps = kwargs.get("steps_per_epoch")
        batches = x.take(steps) if steps else x
        seen.append((sum(int(b[0].shape[0]) for b in batches), kwargs.get("epochs")))
        return original_fit(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    result = kit.improve(
        _dense, *_digits(per_class=3), tricks=["epochs"], epochs=2, refit=True, folds=1,
        ensemble=False, budget=100, logdir=str(tmp_path), verbose=0,
    )  # fmt: skip
    refit = result.steps[-1]
    assert refit.name == "refit" and refit.val_accuracy is None and refit.kept
    # Baseline and epochs on the 30 training images, then the refit on all 60.
    assert [count for count, _ in seen] == [30, 30, 60]
    assert seen[-1][1] == refit.epochs


def test_the_transfer_rung_fine_tunes_a_savedmodel_backbone(tmp_path):
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, activation="relu")(inputs))
    keras.Model(inputs, features).export(str(tmp_path / "backbone"), verbose=False)
    result = kit.improve(
        _dense, *_digits(per_class=3), tricks=["transfer"], epochs=2, min_delta=1.0, folds=1,
        ensemble=False, refit=False, backbone=str(tmp_path / "backbone"),
        logdir=str(tmp_path / "runs"), verbose=0,
    )  # fmt: skip
    step = result.steps[1]
    assert (step.name, step.change) == ("transfer", f"transfer from {tmp_path / 'backbone'}")
    assert step.val_accuracy is not None and step.epochs >= 2 and not step.kept
    with kit.History(result.directory) as history:
        assert history.versions()[-1].configuration["hparams"]["transfer"] is True


def _ladder(tmp_path, data=None, **overrides):
    train, validation = data or _digits(per_class=3)
    arguments = dict(
        model=_dense, train=train, validation=validation, tricks="auto", budget=None,
        logdir=str(tmp_path), directory=None, epochs=1, backbone=None, batch_size=32,
        min_delta="auto", class_names=None, refit=False, folds=1, ensemble=False, tta=False,
        seed=0, verbose=0,
    )  # fmt: skip
    return accuracy_ladder._Ladder(**(arguments | overrides))


def test_a_colour_transform_after_resize_reads_its_unit_range(tmp_path):
    (x, y), (vx, vy) = _digits(per_class=3)
    rgb = np.repeat(x * (255 / 16), 3, axis=-1).astype("float32")
    validation_rgb = np.repeat(vx * (255 / 16), 3, axis=-1).astype("float32")
    ladder = _ladder(tmp_path, data=((rgb, y), (validation_rgb, vy)))
    resize, lab = ladder._transforms(Config(1, image_size=16, color="lab"))
    assert resize.value_range == (0.0, 255.0) and lab.value_range == (0.0, 1.0)
    (only_lab,) = ladder._transforms(Config(1, color="lab"))
    assert only_lab.value_range == (0.0, 255.0)


def test_standardized_inputs_are_inside_the_best_model(tmp_path):
    ladder = _ladder(tmp_path)
    config = Config(epochs=1, normalize=True)
    images = np.concatenate([x.numpy() for x, _ in ladder.validation])
    standardized = np.concatenate(
        [x.numpy() for x, _ in ladder._pipeline(config, [])(ladder.validation)]
    )
    # Per channel, by hand: the mean and variance of the judged images (validation here).
    expected = (images - images.mean()) / images.std()
    np.testing.assert_allclose(standardized, expected, atol=1e-4)
    outcome = ladder._train_step("baseline", "test", config)
    model = ladder._deployable(outcome)
    assert "standardize" in [layer.name for layer in model.layers]
    member = ladder._materialize(outcome)[0]
    np.testing.assert_allclose(
        model.predict(images, verbose=0), member.predict(standardized, verbose=0), atol=1e-5
    )
