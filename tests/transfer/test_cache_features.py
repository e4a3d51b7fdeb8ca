"""kit.transfer.cache_features: the backbone once per image, equal to the SavedModel's own output."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.transfer import FeatureExtractor
from keras_accuracy_kit.transfer.cache_features import split_at_extractor
from tests.transfer import savedmodels


@pytest.fixture(scope="module")
def conv_backbone(tmp_path_factory):
    """A tiny conv backbone on 8x8x1 images in [0, 1], exported with `Model.export`."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    directory = tmp_path_factory.mktemp("conv") / "saved_model"
    keras.Model(inputs, outputs).export(str(directory), verbose=False)
    return str(directory)


def _images(count, seed=0):
    return np.random.default_rng(seed).uniform(0, 16, (count, 8, 8, 1)).astype("float32")


def test_features_are_the_savedmodels_own_outputs_in_data_order(conv_backbone):
    model = kit.transfer.classifier(conv_backbone, 3, (8, 8, 1), value_range=(0, 16))
    images = _images(70)
    labels = np.arange(70) % 3
    weights = np.linspace(0, 1, 70).astype("float32")
    # The reference: the SavedModel called by TensorFlow itself on the rescaled images.
    loaded = tf.saved_model.load(conv_backbone)  # kept alive: its functions use its variables
    expected = loaded.serve(tf.constant(images / 16.0)).numpy()
    features = kit.transfer.cache_features(model, images, batch_size=32)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    got, got_labels = kit.transfer.cache_features(model, (images, labels))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_labels, labels)
    batched = tf.data.Dataset.from_tensor_slices((images, labels, weights)).batch(16)
    got, got_labels, got_weights = kit.transfer.cache_features(model, batched)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_array_equal(got_weights, weights)
    # An unbatched dataset is batched; a shuffled one keeps images and labels together.
    shuffled = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(70, seed=1)
    got, got_labels = kit.transfer.cache_features(model, shuffled, batch_size=8)
    order = [int(np.argmin(np.abs(expected - row).sum(-1))) for row in got]
    assert sorted(order) == list(range(70)) and order != list(range(70))
    np.testing.assert_array_equal(got_labels, labels[order])


def test_a_feature_extractor_alone_gives_its_savedmodels_outputs(tmp_path):
    directory = savedmodels.save_keras_export(tmp_path / "export")
    inputs = np.random.default_rng(0).normal(size=(10, savedmodels.INPUT_DIM)).astype("float32")
    loaded = tf.saved_model.load(directory)
    expected = loaded.serve(tf.constant(inputs)).numpy()
    features = kit.transfer.cache_features(FeatureExtractor(directory), inputs)
    np.testing.assert_allclose(features, expected, rtol=1e-6)


def test_the_model_splits_into_features_and_a_head_that_compute_the_model(conv_backbone):
    model = kit.transfer.classifier(conv_backbone, 3, (8, 8, 1), value_range=(0, 16))
    feature_model, head_model = split_at_extractor(model)
    images = _images(5)
    np.testing.assert_allclose(
        head_model(feature_model(images)), model(images), rtol=1e-6, atol=1e-7
    )
    # The parts share the model's weights: training the head trains the model's head.
    assert head_model.get_layer("head") is model.get_layer("head")
    inputs = keras.Input((8, 8, 1))
    features = FeatureExtractor(conv_backbone)(inputs)
    skip = keras.layers.Concatenate()([features, keras.layers.Flatten()(inputs)])
    unsplittable = keras.Model(inputs, keras.layers.Dense(3)(skip))
    assert "cannot be separated" in split_at_extractor(unsplittable)


@pytest.mark.parametrize(
    "model_kind, data, arguments, match",
    [
        ("dense", "images", {}, "through one kit.transfer.FeatureExtractor.*there are 0"),
        ("none", "images", {}, "must be a keras.Model"),
        ("classifier", "images", {"batch_size": 0}, "`batch_size` must be a positive integer"),
        ("classifier", "empty", {}, "at least one image"),
        ("classifier", "dict", {}, "must hold images"),
        ("classifier", "list", {}, "must be a tf.data.Dataset"),
    ],
)
def test_cache_features_checks_its_arguments(conv_backbone, model_kind, data, arguments, match):
    models = {
        "classifier": lambda: kit.transfer.classifier(conv_backbone, 3, (8, 8, 1)),
        "dense": lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]),
        "none": lambda: "model.keras",
    }
    images = _images(4)
    datasets = {
        "images": images,
        "empty": tf.data.Dataset.from_tensor_slices(images).take(0).batch(2),
        "dict": tf.data.Dataset.from_tensor_slices({"images": images}),
        "list": ["a.png", "b.png"] * 2,
    }
    with pytest.raises(ValueError, match=match):
        kit.transfer.cache_features(models[model_kind](), datasets[data], **arguments)
