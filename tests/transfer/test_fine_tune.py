"""kit.transfer.classifier and fine_tune: input adapters, two phases, and a real transfer gain."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.transfer import DiscriminativeOptimizer, FeatureExtractor
from tests.conftest import ROOT

SHOTS = 5


def _digits():
    digits = load_digits()
    images = digits.images[..., None].astype("float32")  # values 0..16
    return images, digits.target.astype("int32")


def _backbone_architecture(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, outputs, name="digits_backbone")


@pytest.fixture(scope="module")
def pretrained_backbone(tmp_path_factory):
    """A backbone pretrained on digits 0-4 (inputs in [0, 1]), exported as a SavedModel."""
    images, labels = _digits()
    source = labels < 5
    backbone = _backbone_architecture(seed=123)
    head = keras.layers.Dense(5, activation="softmax")(backbone.output)
    model = keras.Model(backbone.input, head)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(images[source] / 16.0, labels[source], epochs=15, batch_size=32, verbose=0)
    directory = tmp_path_factory.mktemp("backbone") / "saved_model"
    backbone.export(str(directory), verbose=False)
    return str(directory)


def _few_shot_split(seed):
    images, labels = _digits()
    target = labels >= 5
    images, labels = images[target], labels[target] - 5
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), SHOTS, replace=False) for c in range(5)]
    )
    test = np.setdiff1d(np.arange(len(labels)), train)
    batches = tf.data.Dataset.from_tensor_slices((images[train], labels[train])).batch(SHOTS * 5)
    return batches, (images[test], labels[test])


def _accuracy(model, test):
    predictions = model.predict(test[0], verbose=0).argmax(-1)
    return float((predictions == test[1]).mean())


def test_fine_tune_freezes_then_unfreezes_with_a_slower_backbone(pretrained_backbone):
    train, _ = _few_shot_split(0)
    model = kit.transfer.classifier(
        pretrained_backbone, num_classes=5, input_shape=(8, 8, 1), value_range=(0, 16)
    )
    extractor = model.get_layer("feature_extractor")
    frozen = [w.numpy().copy() for w in extractor.weights]
    history = kit.transfer.fine_tune(model, train, head_epochs=2, epochs=2, verbose=0)
    assert history.epoch == [0, 1]
    for old, weight in zip(frozen, extractor.weights):
        np.testing.assert_array_equal(old, weight.numpy())
    history = kit.transfer.fine_tune(
        model, train, head_epochs=1, epochs=3, backbone_lr_ratio=0.1, verbose=0
    )
    assert history.epoch == [0, 1, 2]
    assert len(history.history["loss"]) == 3
    assert extractor.trainable
    optimizer = model.optimizer
    assert isinstance(optimizer, DiscriminativeOptimizer)
    assert set(optimizer.lr_multipliers) == {w.path for w in extractor.trainable_weights}
    assert set(optimizer.lr_multipliers.values()) == {0.1}
    assert any(not np.allclose(old, w.numpy()) for old, w in zip(frozen, extractor.weights))


def test_fine_tune_works_with_kit_callbacks(pretrained_backbone):
    train, test = _few_shot_split(1)
    validation = tf.data.Dataset.from_tensor_slices(test).batch(256)
    model = kit.transfer.classifier(
        pretrained_backbone, num_classes=5, input_shape=(8, 8, 1), value_range=(0, 16)
    )
    reduce = kit.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=0, min_delta=1.0
    )
    history = kit.transfer.fine_tune(
        model,
        train,
        validation,
        head_epochs=1,
        epochs=3,
        base_lr=1e-3,
        callbacks=[reduce],
        verbose=0,
    )
    assert "val_accuracy" in history.history
    rates = sorted(float(g.learning_rate) for g in model.optimizer._groups.values())
    # Phase 2 starts at 1e-3 / 1e-4 and every epoch halves both (min_delta=1.0 never met).
    assert rates[1] < 1e-3 and rates[0] == pytest.approx(rates[1] * 0.1, rel=1e-5)


def test_named_backbone_unfreezes_top_layers_and_keeps_batch_norm_in_inference(tmp_path):
    images, labels = _digits()
    train = tf.data.Dataset.from_tensor_slices((images[:32], labels[:32] % 5)).batch(16)
    model = kit.transfer.classifier(
        "mobilenet_v2",
        num_classes=5,
        input_shape=(8, 8, 1),
        value_range=(0, 16),
        image_size=(32, 32),
        weights=None,
    )
    assert [layer.name for layer in model.layers][1:5] == [
        "value_range",
        "gray_to_rgb",
        "resize",
        "feature_extractor",
    ]
    backbone = model.get_layer("feature_extractor").backbone_model
    norms = [
        layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    moving = [layer.moving_mean.numpy().copy() for layer in norms]
    kit.transfer.fine_tune(model, train, head_epochs=1, epochs=2, unfreeze=10, verbose=0)
    trainable = [layer for layer in backbone.layers if layer.trainable and layer.weights]
    assert trainable and all(layer in backbone.layers[-10:] for layer in trainable)
    assert not any(layer.trainable for layer in norms)
    for old, layer in zip(moving, norms):
        np.testing.assert_array_equal(old, layer.moving_mean.numpy())
    # The unfrozen layers survive saving: same trainable weights, optimizer state restored.
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert len(restored.trainable_weights) == len(model.trainable_weights)
    restored_backbone = restored.get_layer("feature_extractor").backbone_model
    assert [layer.trainable for layer in restored_backbone.layers] == [
        layer.trainable for layer in backbone.layers
    ]
    assert len(restored.optimizer.variables) == len(model.optimizer.variables)


def test_transfer_model_saves_and_loads_without_the_backbone_directory(
    tmp_path, pretrained_backbone
):
    import shutil

    source = tmp_path / "backbone"
    shutil.copytree(pretrained_backbone, source)
    model = kit.transfer.classifier(str(source), 5, (8, 8, 1), value_range=(0, 16))
    train, test = _few_shot_split(2)
    kit.transfer.fine_tune(model, train, head_epochs=1, epochs=2, verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", test[0][:16])
    np.save(tmp_path / "expected.npy", model.predict(test[0][:16], verbose=0))
    shutil.rmtree(source)
    script = textwrap.dedent(
        f"""
        import numpy as np, keras
        import keras_accuracy_kit
        model = keras.saving.load_model({str(tmp_path / "model.keras")!r}, safe_mode=True)
        got = model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0)
        np.testing.assert_allclose(got, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"input_shape": (8, 8)}, "input_shape"),
        ({"input_shape": (8, 8, 2)}, "1 or 3 channels"),
        ({"dropout": 1.0}, "dropout"),
        ({"value_range": (1, 0)}, "value_range"),
    ],
)
def test_classifier_checks_its_arguments(pretrained_backbone, arguments, match):
    full = {"num_classes": 5, "input_shape": (8, 8, 1)} | arguments
    with pytest.raises(ValueError, match=match):
        kit.transfer.classifier(pretrained_backbone, **full)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"head_epochs": -1}, "head_epochs"),
        ({"head_epochs": 5, "epochs": 3}, "must be >= `head_epochs`"),
        ({"base_lr": 0}, "base_lr"),
        ({"backbone_lr_ratio": -0.1}, "backbone_lr_ratio"),
        ({"unfreeze": 0}, "unfreeze"),
        ({"optimizer": keras.optimizers.Adam()}, "name or class"),
    ],
)
def test_fine_tune_checks_its_arguments(pretrained_backbone, arguments, match):
    model = kit.transfer.classifier(pretrained_backbone, 5, (8, 8, 1), value_range=(0, 16))
    train, _ = _few_shot_split(0)
    with pytest.raises(ValueError, match=match):
        kit.transfer.fine_tune(model, train, **arguments)


def test_fine_tune_needs_a_feature_extractor():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="must contain a kit.transfer.FeatureExtractor"):
        kit.transfer.fine_tune(model, None)


def test_a_named_backbone_rejects_the_wrong_channel_count():
    extractor = FeatureExtractor("mobilenet_v2", weights=None)
    with pytest.raises(ValueError, match="must be images"):
        extractor(keras.Input((32, 32, 1)))
