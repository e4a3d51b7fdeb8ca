"""`kit.transfer.classifier`: RGB images into a 1-channel backbone that reads [0, 255]."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit


@pytest.fixture(scope="module")
def gray_backbone(tmp_path_factory):
    """A tiny conv backbone on 8x8x1 images, exported with `Model.export`."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    directory = tmp_path_factory.mktemp("gray") / "saved_model"
    keras.Model(inputs, outputs).export(str(directory), verbose=False)
    return str(directory)


def test_rgb_to_a_0_255_gray_backbone_keeps_the_backbones_range(gray_backbone):
    # ToGrayscale was built without `value_range`: images in [0, 255] were refused (or,
    # before the range check, clipped to [0, 1]).
    model = kit.transfer.classifier(
        gray_backbone, 3, (8, 8, 3), value_range=(0, 255), backbone_value_range=(0, 255)
    )
    images = np.random.default_rng(0).uniform(0, 255, (20, 8, 8, 3)).astype("float32")
    # The reference: Rec. 601 gray in the same [0, 255] units, fed to the SavedModel.
    gray = (images @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None]
    loaded = tf.saved_model.load(gray_backbone)
    expected = loaded.serve(tf.constant(gray)).numpy()
    features = kit.transfer.cache_features(model, images, batch_size=8)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-3)


def test_rgb_to_a_unit_range_gray_backbone(gray_backbone):
    model = kit.transfer.classifier(gray_backbone, 3, (8, 8, 3), value_range=(0, 255))
    images = np.random.default_rng(1).uniform(0, 255, (10, 8, 8, 3)).astype("float32")
    gray = (images / 255.0 @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None]
    loaded = tf.saved_model.load(gray_backbone)
    expected = loaded.serve(tf.constant(gray)).numpy()
    features = kit.transfer.cache_features(model, images, batch_size=8)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["stretch", "pad"])
def test_resized_images_reach_a_0_255_backbone_in_its_range(gray_backbone, mode):
    # Resize outputs [0, 1]: without mapping it back, a (0, 255) backbone (every named
    # Keras backbone) was fed values 255 times too small whenever the sizes differed.
    model = kit.transfer.classifier(
        gray_backbone, 3, (5, 6, 1), value_range=(0, 255), backbone_value_range=(0, 255),
        resize_mode=mode,
    )  # fmt: skip
    images = np.random.default_rng(2).uniform(0, 255, (10, 5, 6, 1)).astype("float32")
    resized = kit.resize(8, 8, mode=mode, value_range=(0, 255))(tf.constant(images)) * 255.0
    loaded = tf.saved_model.load(gray_backbone)
    expected = loaded.serve(tf.constant(resized)).numpy()
    features = kit.transfer.cache_features(model, images, batch_size=5)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-3)
