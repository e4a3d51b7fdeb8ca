"""Every registered transform round-trips through get_config and a .keras file."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transforms import registered_transforms
from tests.transforms.conftest import REQUIRED_ARGUMENTS, expected_shape, make_transform

# Non-default arguments per transform, so the round trip proves each one is kept.
NON_DEFAULT_ARGUMENTS = {
    "Augment": {
        "rotation_range": 15.0,
        "width_shift_range": [2, 4],
        "height_shift_range": 3,
        "shear_range": 5.0,
        "zoom_range": [0.9, 1.2],
        "horizontal_flip": True,
        "vertical_flip": True,
        "brightness_range": [0.8, 1.2],
        "channel_shift_range": 10.0,
        "fill_mode": "reflect",
        "cval": 0.5,
        "contrast_range": [0.7, 1.3],
        "hue_range": 0.05,
        "saturation_range": [0.5, 1.5],
        "erasing_probability": 0.25,
        "erasing_scale": [0.05, 0.2],
        "erasing_ratio": [0.5, 2.0],
        "erasing_value": 0.5,
        "policy": "randaugment",
        "interpolation": "nearest",
        "seed": 7,
    },
    "Resize": {
        "mode": "crop",
        "interpolation": "area",
        "antialias": True,
        "pad_value": [0.5, 0.5, 0.5],
    },
    "ToGrayscale": {"keep_channels": 3, "weights": "rec709", "output_range": "symmetric"},
    "ToHSV": {"output_range": "symmetric"},
    "ToLab": {"output_range": "unit", "jit_compile": False},
    "ToYUV": {"output_range": "unit"},
}
# The same for the transforms that mix images and labels (not layers: no model tests).
LABEL_MIXING_ARGUMENTS = {
    "MixUp": {"alpha": 0.4, "seed": 3},
    "CutMix": {"alpha": 0.5, "seed": 4},
}


def test_every_registered_transform_has_round_trip_arguments():
    assert sorted(NON_DEFAULT_ARGUMENTS) == sorted(registered_transforms())
    assert sorted(LABEL_MIXING_ARGUMENTS) == sorted(registered_transforms(label_mixing=True))


def test_config_round_trip(transform_name):
    transform = make_transform(
        transform_name, value_range=(0, 255), **NON_DEFAULT_ARGUMENTS[transform_name]
    )
    config = transform.get_config()
    for argument, value in {
        **REQUIRED_ARGUMENTS.get(transform_name, {}),
        **NON_DEFAULT_ARGUMENTS[transform_name],
    }.items():
        assert config[argument] == value, argument
    assert config["value_range"] == [0.0, 255.0]
    rebuilt = type(transform).from_config(config)
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(transform)
    assert serialized["registered_name"] == f"keras_accuracy_kit>{transform_name}"
    assert keras.saving.deserialize_keras_object(serialized).get_config() == config


def test_keras_file_save_and_load(transform_name, tmp_path):
    transform = make_transform(transform_name, **NON_DEFAULT_ARGUMENTS[transform_name])
    inputs = keras.Input((16, 20, 3), dtype="uint8")
    features = transform(inputs)
    assert tuple(features.shape) == expected_shape(transform_name, (None, 16, 20, 3), transform)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(features))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 20, 3)).astype(np.uint8)
    expected = model.predict(images, verbose=0)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), expected, atol=1e-5)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


def test_transform_in_a_model_trains_under_a_distribution_strategy(transform_name):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    images = np.random.default_rng(0).integers(0, 256, (8, 16, 20, 3)).astype(np.uint8)
    labels = np.arange(8) % 2
    with strategy.scope():
        inputs = keras.Input((16, 20, 3), dtype="uint8")
        features = make_transform(transform_name)(inputs)
        outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(features))
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    history = model.fit(images, labels, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_model_input_with_wrong_channels_fails_when_the_model_is_built():
    with pytest.raises(ValueError, match=r"ToLab: `images` must have 3 channel\(s\)"):
        make_transform("ToLab")(keras.Input((16, 16, 1)))


@pytest.fixture(params=sorted(registered_transforms(label_mixing=True)))
def mixing_name(request):
    return request.param


def _one_hot_batch(num=6):
    images = np.random.default_rng(1).integers(0, 256, (num, 8, 10, 3)).astype(np.uint8)
    return images, tf.one_hot(np.arange(num) % 3, 3)


def test_label_mixing_config_round_trip(mixing_name):
    cls = registered_transforms(label_mixing=True)[mixing_name]
    arguments = LABEL_MIXING_ARGUMENTS[mixing_name]
    transform = cls(value_range=(0, 255), **arguments)
    config = transform.get_config()
    assert config == {**arguments, "value_range": [0.0, 255.0]}
    rebuilt = cls.from_config(config)
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(transform)
    assert serialized["registered_name"] == f"keras_accuracy_kit>{mixing_name}"
    deserialized = keras.saving.deserialize_keras_object(serialized)
    assert type(deserialized) is cls and deserialized.get_config() == config
    # The rebuilt transform mixes a batch exactly as the original for the same seed.
    seed = tf.constant([5, 6], tf.int64)
    batch = _one_hot_batch()
    for ours, theirs in zip(
        transform.apply_with_seed(batch, seed), deserialized.apply_with_seed(batch, seed)
    ):
        np.testing.assert_array_equal(ours, theirs)


def test_label_mixing_runs_in_a_distributed_fit(mixing_name):
    cls = registered_transforms(label_mixing=True)[mixing_name]
    images, labels = _one_hot_batch(8)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    data = data.apply(cls(**LABEL_MIXING_ARGUMENTS[mixing_name]))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((8, 10, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)]
        )
        model.compile(
            optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True)
        )
    history = model.fit(data, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
