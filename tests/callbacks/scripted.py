"""Helpers to drive callbacks with scripted logs: decisions tested without training."""

import keras
import numpy as np


def tiny_model(learning_rate=0.1):
    """A built, compiled two-weight model: enough for callbacks to read and set."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


def run_scripted(callback, values, monitor="val_accuracy", model=None, max_epochs=100):
    """Feeds `values` as `logs[monitor]`, epoch after epoch, until the callback stops.

    Returns:
        Dict with the per-epoch `logs` and `learning_rates` (after each epoch) and the
        number of `epochs` run.
    """
    model = model or tiny_model()
    callback.set_model(model)
    callback.on_train_begin()
    all_logs, learning_rates = [], []
    for epoch, value in enumerate(values[:max_epochs]):
        callback.on_epoch_begin(epoch)
        logs = {monitor: value, "loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        all_logs.append(logs)
        learning_rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        if model.stop_training:
            break
    callback.on_train_end()
    return {"logs": all_logs, "learning_rates": learning_rates, "epochs": len(all_logs)}


def as_float32(values):
    return [float(np.float32(v)) for v in values]
