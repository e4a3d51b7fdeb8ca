"""Cost of CheckpointOnChange: `model.fit` time with it vs without, in one run.

Prints the fit times and, last, the ratio as `name=value` (time without divided by time
with; 1.0 means free, target >= 0.95):

- `fit_with_checkpoint_on_change`: a small CNN on 32x32 images, the history saving the
  best model (a `.keras` file, fsynced) whenever validation accuracy improves, every
  epoch's metrics into SQLite, and the last model at the end.

Before timing, one run checks the history against Keras' own `ModelCheckpoint`
(`save_best_only=True` on `val_accuracy`) in the same `fit`: the history's best model must
predict what Keras' best checkpoint predicts (a `check ...` line); a history that is fast
because it saves the wrong model stops the script.

Runs alternate (without, with, ...) and each side keeps its best time. `--quick` makes a
smoke run.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import check_equal, small_cnn  # noqa: E402


def check_against_model_checkpoint(scratch, train, validation, initial_weights, epochs):
    """The history's best model predicts what Keras' `ModelCheckpoint` best model does."""
    model = small_cnn(keras.optimizers.Adam(1e-3))
    model.set_weights(initial_weights)
    directory = os.path.join(scratch, "history-check")
    reference_path = os.path.join(scratch, "keras-best.keras")
    callbacks = [
        kit.callbacks.CheckpointOnChange(directory, monitor="val_accuracy"),
        keras.callbacks.ModelCheckpoint(
            reference_path, monitor="val_accuracy", mode="max", save_best_only=True
        ),
    ]
    model.fit(train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=0)
    images = np.concatenate([x for x, _ in validation.as_numpy_iterator()])
    check_equal(
        "History best model vs keras ModelCheckpoint(save_best_only)",
        kit.History(directory).load().predict(images, verbose=0),
        keras.models.load_model(reference_path).predict(images, verbose=0),
        1e-6,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="fit time with vs without CheckpointOnChange")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    num_images, epochs, repeats = (256, 2, 1) if args.quick else (4096, 5, 3)
    rng = np.random.default_rng(0)
    x = rng.random((num_images, 32, 32, 3), dtype=np.float32)
    y = (x[:, :16].mean(axis=(1, 2, 3)) * 20).astype("int64") % 10  # learnable labels
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).cache()
    validation = train.take(4)
    initial_weights = small_cnn(keras.optimizers.Adam(1e-3)).get_weights()
    best = {"without": float("inf"), "with": float("inf")}
    with tempfile.TemporaryDirectory() as scratch:
        check_against_model_checkpoint(scratch, train, validation, initial_weights, epochs)
        for repeat in range(repeats):
            for name in ("without", "with"):
                model = small_cnn(keras.optimizers.Adam(1e-3))
                model.set_weights(initial_weights)
                callbacks = []
                if name == "with":
                    directory = os.path.join(scratch, f"history-{repeat}")
                    callbacks = [kit.callbacks.CheckpointOnChange(directory)]
                model.fit(train.take(1), verbose=0)  # trace outside the timing
                start = time.perf_counter()
                model.fit(
                    train,
                    validation_data=validation,
                    epochs=epochs,
                    callbacks=callbacks,
                    verbose=0,
                )
                best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        print(
            f"fit {epochs} epochs x {num_images} images 32x32, {name:7s} CheckpointOnChange "
            f"{seconds:7.2f} s"
        )
    ratios = {"fit_with_checkpoint_on_change": best["without"] / best["with"]}
    print(" ".join(f"{name}={value:.3f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
