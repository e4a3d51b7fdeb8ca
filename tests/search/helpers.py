"""Tiny digits data and recording hypermodels for the search tests."""

import re

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

BLOCK_LAYER = re.compile(r"block_(\d+)")


def digits(num_train=400, num_validation=200, channels=1, batch_size=64):
    """load_digits as uint8 8x8 images in batched datasets `(train, validation)`."""
    data = load_digits()
    images = np.round(data.images * (255.0 / 16.0)).astype("uint8")[..., None]
    images = np.repeat(images, channels, axis=-1)
    x, y = images[: num_train + num_validation], data.target[: num_train + num_validation]
    train = tf.data.Dataset.from_tensor_slices((x[:num_train], y[:num_train])).batch(batch_size)
    validation = tf.data.Dataset.from_tensor_slices((x[num_train:], y[num_train:])).batch(
        batch_size
    )
    return train, validation


def built_blocks(model):
    """Indices of the blocks a DepthSearch model built (its `block_{i}` marker layers)."""
    return sorted(
        int(match.group(1))
        for match in (BLOCK_LAYER.fullmatch(layer.name) for layer in model.layers)
        if match
    )


def dense_block(hp, x, index):
    """A user block: its hyper-parameter is recorded as `block_{index}/units`."""
    import keras

    if len(x.shape) > 2:
        x = keras.layers.Flatten()(x)
    return keras.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu")(x)


class RecordingDepthSearch(kit.search.DepthSearch):
    """A DepthSearch that records what each trial actually trained."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trained = []

    def fit(self, hp, model, x, *args, **kwargs):
        images, _ = next(iter(x))
        self.trained.append(
            {
                "values": kit.search.active_values(hp),
                "blocks": built_blocks(model),
                "input_shape": tuple(model.input_shape[1:]),
                "batch_shape": tuple(images.shape[1:]),
                "units": [
                    layer.units
                    for layer in model.layers
                    if layer.__class__.__name__ == "Dense" and layer.name != "logits"
                ],
            }
        )
        return super().fit(hp, model, x, *args, **kwargs)
