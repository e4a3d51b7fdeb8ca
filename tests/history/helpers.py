"""Small digits models and data for the history tests."""

import keras
import numpy as np
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit


def digits_data(image_size=8):
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    if image_size != 8:
        x = keras.ops.convert_to_numpy(keras.ops.image.resize(x, (image_size, image_size)))
    return x[:1200], digits.target[:1200], x[1200:], digits.target[1200:]


def digits_model(depth=1, learning_rate=1e-2, image_size=8, units=32):
    layers = [keras.Input((image_size, image_size, 1)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(units, activation="relu") for _ in range(depth)]
    layers.append(keras.layers.Dense(10))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def probe(image_size=8):
    return np.random.default_rng(7).random((5, image_size, image_size, 1)).astype("float32")


def fit_into(directory, units=8, epochs=2, callbacks=(), model=None, **checkpoint_arguments):
    """Fits a digits model into a history at `directory`; returns the `CheckpointOnChange`."""
    x, y, vx, vy = digits_data()
    model = model or digits_model(units=units)
    checkpoint = kit.callbacks.CheckpointOnChange(directory, **checkpoint_arguments)
    model.fit(
        x[:256],
        y[:256],
        validation_data=(vx[:200], vy[:200]),
        epochs=epochs,
        batch_size=64,
        verbose=0,
        callbacks=[*callbacks, checkpoint],
    )
    return checkpoint
