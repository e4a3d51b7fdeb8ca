"""kit.tta and the ladder's ensemble: predictions by hand, `.keras` round trips."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import TestTimeAugmentation, ensemble


def _classifier(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def _images():
    return np.random.default_rng(0).uniform(0, 16, (5, 8, 8, 1)).astype("float32")


def test_tta_averages_the_model_over_the_original_and_fixed_augmented_copies():
    model = _classifier(0)
    augment = kit.augment(rotation_range=20, width_shift_range=0.2, value_range=(0, 16), seed=3)
    robust = kit.tta(model, augment, num_augmentations=3, seed=7)
    images = _images()
    expected = [model.predict(images, verbose=0)]
    for index in range(3):
        seed = tf.constant([7, index], tf.int32)
        copy = augment.apply_with_seed(tf.constant(images), seed).numpy() * 16.0
        expected.append(model.predict(copy, verbose=0))
    np.testing.assert_allclose(
        robust.predict(images, verbose=0), np.mean(expected, axis=0), atol=1e-6
    )
    # Deterministic: the same copies every call.
    np.testing.assert_array_equal(
        robust.predict(images, verbose=0), robust.predict(images, verbose=0)
    )


def test_ensemble_averages_its_members():
    members = [_classifier(seed) for seed in range(3)]
    images = _images()
    expected = np.mean([m.predict(images, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(
        ensemble(members).predict(images, verbose=0), expected, atol=1e-6
    )
    assert ensemble(members[:1]) is members[0]


def test_bad_arguments_say_what_and_how():
    with pytest.raises(TypeError, match="`augment` must be a `kit.augment"):
        TestTimeAugmentation("flip")
    with pytest.raises(ValueError, match="`num_augmentations` must be a positive int"):
        TestTimeAugmentation(kit.augment(rotation_range=1), 0)
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        kit.tta("model", kit.augment(rotation_range=1))
    with pytest.raises(TypeError, match="non-empty list of keras.Model"):
        ensemble([])


_LOAD_AND_PREDICT = """
import sys, numpy as np, keras
import keras_accuracy_kit  # registers the kit's layers
model = keras.models.load_model(sys.argv[1], safe_mode=True)
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


def predict_in_a_fresh_process(path, images, tmp_path):
    np.save(tmp_path / "images.npy", images)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, str(path), str(tmp_path / "images.npy"),
         str(tmp_path / "predictions.npy")],
        check=True, env=environment, timeout=300,
    )  # fmt: skip
    return np.load(tmp_path / "predictions.npy")


def test_an_ensemble_with_tta_saves_and_loads_in_a_fresh_process_with_safe_mode(tmp_path):
    augment = kit.augment(rotation_range=15, zoom_range=0.1, value_range=(0, 16), seed=0)
    model = kit.tta(ensemble([_classifier(0), _classifier(1)]), augment, 4)
    images = _images()
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(
        predict_in_a_fresh_process(tmp_path / "model.keras", images, tmp_path),
        model.predict(images, verbose=0),
        atol=1e-5,
    )
