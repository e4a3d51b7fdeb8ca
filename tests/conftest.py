"""Test-wide set-up: quiet TensorFlow logs and seed every random generator per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import random  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

SEED = 1337


@pytest.fixture(autouse=True)
def seed_everything():
    """Seeds `random`, numpy and TensorFlow (via Keras) so every test is reproducible."""
    random.seed(SEED)
    np.random.seed(SEED)
    tf.random.set_seed(SEED)
    keras.utils.set_random_seed(SEED)
    yield
