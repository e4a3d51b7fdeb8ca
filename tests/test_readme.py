"""The README's quick start runs as written, on JPEG files the test makes."""

import pathlib
import re

import numpy as np
import tensorflow as tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(after="## Quick start"):
    text = README.read_text()
    return re.findall(r"```python\n(.*?)```", text[text.index(after) :], flags=re.S)


def test_quick_start_block_runs(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for label, size in [("cat", (48, 64)), ("dog", (64, 40))]:
        (tmp_path / "photos" / label).mkdir(parents=True)
        for index in range(3):
            pixels = rng.integers(0, 256, (*size, 3)).astype(np.uint8)
            tf.io.write_file(
                str(tmp_path / "photos" / label / f"{index}.jpg"), tf.io.encode_jpeg(pixels)
            )
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(python_blocks()[0], namespace)  # noqa: S102 - the README's own code
    images, labels = next(iter(namespace["train"]))
    assert images.shape == (6, 224, 224, 3)
    assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
    assert sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1, 1]
    assert tuple(namespace["x"].shape) == (None, 160, 160, 3)


def test_transforms_in_a_sequential_model_built_on_first_call():
    import keras

    import keras_accuracy_kit as kit

    model = keras.Sequential(
        [kit.resize(16, 16), kit.to_hsv(), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    out = model(np.zeros((2, 30, 20, 3), np.uint8))
    assert out.shape == (2, 2)
