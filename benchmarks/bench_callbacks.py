"""Cost of the kit's callbacks: `model.fit` time with all of them vs none, in one run.

Prints the fit times and, last, the ratio as `name=value` (time without callbacks divided
by time with them; 1.0 means free, target >= 0.98):

- `fit_with_kit_callbacks`: ProgressiveEpochs (restoring best weights) and
  ReduceLROnPlateau (with a cosine schedule) on a small CNN trained on 32x32 images.

Before timing, the callbacks are checked against Keras (`check ...` lines): with a
constant learning rate, the kit's ReduceLROnPlateau gives the losses and learning rates of
`keras.callbacks.ReduceLROnPlateau` with the same arguments, and after the timed kind of
run ProgressiveEpochs has restored the weights of the best `val_accuracy` epoch. A kit that
is fast because it does nothing stops the script.

Runs alternate (none, kit, none, kit, ...) and each side keeps its best time, which filters
out the noise of a shared machine. `--quick` makes a smoke run.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import check_equal, small_cnn  # noqa: E402


def adam_with_cosine():
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=10_000)
    return keras.optimizers.Adam(schedule)


def kit_callbacks(epochs):
    return [
        kit.callbacks.ProgressiveEpochs(
            monitor="val_accuracy", initial_epochs=epochs, extension=epochs
        ),
        kit.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
    ]


def check_against_keras(train, validation, initial_weights, epochs):
    """Kit vs Keras ReduceLROnPlateau, and ProgressiveEpochs' restored best weights."""
    runs = {}
    for name, callback in (
        ("kit", kit.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)),
        ("keras", keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)),
    ):
        keras.utils.set_random_seed(0)
        model = small_cnn(keras.optimizers.Adam(1e-3))
        model.set_weights(initial_weights)
        history = model.fit(
            train, validation_data=validation, epochs=epochs, callbacks=[callback], verbose=0
        )
        runs[name] = history.history
    for key in ("loss", "val_loss", "learning_rate"):
        check_equal(
            f"kit vs keras ReduceLROnPlateau: {key}", runs["kit"][key], runs["keras"][key], 1e-5
        )
    keras.utils.set_random_seed(0)
    model = small_cnn(adam_with_cosine())
    model.set_weights(initial_weights)
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        callbacks=kit_callbacks(epochs),
        verbose=0,
    )
    restored = model.evaluate(validation, verbose=0, return_dict=True)["accuracy"]
    check_equal(
        "ProgressiveEpochs restored val_accuracy vs the best epoch's",
        restored,
        max(history.history["val_accuracy"]),
        1e-6,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="fit time with vs without kit callbacks")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    num_images, epochs, repeats = (256, 2, 1) if args.quick else (4096, 5, 3)
    rng = np.random.default_rng(0)
    x = rng.random((num_images, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, num_images)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).cache()
    validation = train.take(4)

    initial = small_cnn(adam_with_cosine())
    initial_weights = initial.get_weights()
    check_against_keras(train, validation, initial_weights, epochs)
    best = {"none": float("inf"), "kit": float("inf")}
    for _ in range(repeats):
        for name in ("none", "kit"):
            keras.utils.set_random_seed(0)
            model = small_cnn(adam_with_cosine())
            model.set_weights(initial_weights)
            callbacks = kit_callbacks(epochs) if name == "kit" else []
            model.fit(train.take(1), verbose=0)  # trace outside the timing
            start = time.perf_counter()
            model.fit(
                train, validation_data=validation, epochs=epochs, callbacks=callbacks, verbose=0
            )
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        callbacks = "ProgressiveEpochs + ReduceLROnPlateau" if name == "kit" else "no callbacks"
        print(f"fit {epochs} epochs x {num_images} images 32x32, {callbacks:38s} {seconds:7.2f} s")
    ratios = {"fit_with_kit_callbacks": best["none"] / best["kit"]}
    print(" ".join(f"{name}={value:.3f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
