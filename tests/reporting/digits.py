"""Tiny training runs on scikit-learn's 8x8 digits, for the report and the plugin tests."""

import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

CLASS_NAMES = [f"digit {i}" for i in range(10)]


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


def fit_run(
    logdir,
    epochs=2,
    learning_rate=0.01,
    callbacks=(),
    train_map=None,
    seed=0,
    **report_kwargs,
):
    """Trains a tiny model with an `AccuracyReport` last; returns (model, history, report).

    `callbacks` go before the report; `train_map` (e.g. `kit.augment(...)`) is mapped over
    the training batches.
    """
    keras.utils.set_random_seed(seed)
    (x, y), (x_val, y_val) = digits()
    model = tiny_model(learning_rate)
    report_kwargs.setdefault("validation_data", (x_val, y_val))
    report_kwargs.setdefault("class_names", CLASS_NAMES)
    report = kit.callbacks.AccuracyReport(logdir, **report_kwargs)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    if train_map is not None:
        train = train.map(train_map)
    history = model.fit(
        train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[*callbacks, report],
    )
    return model, history, report


def make_ladder(root):
    """Three runs with different tricks under `root`, named so that names sort differently
    from the ladder order. Returns `[(run name, change, best val_accuracy)]` in order."""
    augment = kit.augment(rotation_range=10, seed=0)
    budget = kit.callbacks.ProgressiveEpochs(initial_epochs=2, extension=1)
    plateau = kit.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0)
    rungs = [
        ("c-baseline", "baseline", {}),
        (
            "a-more-epochs",
            "more epochs, lower LR on plateau",
            {"epochs": 4, "callbacks": [budget, plateau], "tricks": [budget, plateau]},
        ),
        ("b-augment", "augment: rotation_range=10", {"train_map": augment, "tricks": [augment]}),
    ]
    ladder = []
    for order, (name, change, options) in enumerate(rungs):
        _, history, _ = fit_run(os.path.join(root, name), change=change, order=order, **options)
        ladder.append((name, change, max(history.history["val_accuracy"])))
    return ladder
