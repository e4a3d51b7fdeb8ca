"""Test-wide set-up: quiet TensorFlow logs and seed every random generator per test."""

import importlib.util
import os
import pathlib

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


ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_script(folder, name):
    """Imports `<repo>/<folder>/<name>.py` (examples and benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
