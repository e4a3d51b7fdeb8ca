"""Tiny training runs on scikit-learn's 8x8 digits, for the report and the plugin tests."""

import keras
import numpy as np
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit


def digits(num_train=600, num_val=200):
    """`(x_train, y_train), (x_val, y_val)`: float32 images `(N, 8, 8, 1)` in [0, 1]."""
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[..., None]
    labels = data.target.astype(np.int64)
    return (images[:num_train], labels[:num_train]), (
        images[num_train : num_train + num_val],
        labels[num_train : num_train + num_val],
    )


def tiny_model(learning_rate=0.01):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_run(logdir, epochs=2, learning_rate=0.01, extra_callbacks=(), **report_kwargs):
    """Trains a tiny model with an `AccuracyReport` last; returns (model, history, report)."""
    (x, y), (x_val, y_val) = digits()
    model = tiny_model(learning_rate)
    report = kit.callbacks.AccuracyReport(
        logdir,
        validation_data=(x_val, y_val),
        class_names=[f"digit {i}" for i in range(10)],
        **report_kwargs,
    )
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=64,
        verbose=0,
        callbacks=[*extra_callbacks, report],
    )
    return model, history, report
