"""Run in a subprocess: `AccuracyReport` in a real `fit` under MirroredStrategy, 2 CPUs.

For each kind of validation data named (`arrays`, `dataset`, comma-separated: one process
for all, TensorFlow starts once) prints one JSON line: the report's confusion matrix and
the one computed from `model.predict` on the same validation images (as the reference).
"""

import json
import sys

import keras
import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting import summary_schema as schema
from tests.reporting.digits import digits, tiny_model


def main(logdir, as_dataset):
    """One fit with an AccuracyReport into `logdir`; returns the JSON-able comparison."""
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    (x_train, y_train), (x_val, y_val) = digits(num_train=256, num_val=100)
    with strategy.scope():
        model = tiny_model()
    validation = (
        tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32) if as_dataset
        else (x_val, y_val)
    )  # fmt: skip
    report = kit.callbacks.AccuracyReport(logdir, validation_data=validation, batch_size=32)
    model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=64, epochs=2,
              callbacks=[report], verbose=0)  # fmt: skip
    accumulator = event_accumulator.EventAccumulator(
        logdir, size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    (event,) = accumulator.Tensors(schema.SUMMARY_TAG)
    summary = json.loads(tf.make_ndarray(event.tensor_proto).item())
    predicted = model.predict(x_val, verbose=0).argmax(axis=1)
    reference = np.zeros((10, 10), int)
    np.add.at(reference, (y_val, predicted), 1)
    return {
        "replicas": strategy.num_replicas_in_sync,
        "confusion_matrix": summary["confusion_matrix"],
        "reference": reference.tolist(),
    }


if __name__ == "__main__":
    # Before any op runs; only when run as a script (pytest imports this file for doctests).
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
    )
    for kind in sys.argv[2].split(","):
        result = main(f"{sys.argv[1]}/{kind}", kind == "dataset")
        print(json.dumps({"validation": kind, **result}), flush=True)
