"""Image size: the same CNN trained on the digits brought to 8x8, 16x16 and 32x32.

Trick 3 of the seed article ("try a larger input size"). `kit.resize(size, size,
mode="pad")` scales each image without distorting it (letterboxing when the aspect ratio
differs; the 8x8 digits are square, so here it is a plain upsampling) inside the
`tf.data` pipeline, and the same small CNN is trained briefly at each size; the script
prints a table of validation accuracy per size. Run it directly:

    python examples/image_size.py --logdir runs/image_size

then compare the runs `size_8`, `size_16`, ... with `tensorboard --logdir runs/image_size`
(SCALARS tab). `--quick` shrinks the budget to a few seconds (the test suite runs it so).
Upsampling the 8x8 digits adds no information, but each stroke then covers more pixels
and the pooled feature maps keep more positions, so accuracy can still change; larger
inputs cost more time per epoch (the table shows both). On photos that were downscaled to
fit a default size, where a larger input keeps detail, it more often pays off.
"""

import argparse
import os
import time

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit


def digits_arrays(num_train=None, seed=0):
    """Shuffled digits as `(train, validation)` pairs; images float32 in [0, 16]."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.images))
    images = digits.images[order, :, :, None].astype("float32")
    labels = digits.target[order].astype("int32")
    split = len(images) * 3 // 4
    num_train = num_train or split
    return (images[:num_train], labels[:num_train]), (images[split:], labels[split:])


def small_cnn(size):
    """Two conv blocks and a dense head: the same layers for every input size."""
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"cnn_{size}x{size}")


def run(logdir, sizes=(8, 16, 32), epochs=10, num_train=None, seed=0):
    """Trains the same CNN at every size.

    Returns:
        Dict `{"runs": [...]}`, one dict per size with `size`, `input_shape` (of the
        model), `batch_shape` (of a pipeline batch), `val_accuracy` and `seconds`.
    """
    (train_x, train_y), (val_x, val_y) = digits_arrays(num_train, seed)
    runs = []
    for size in sizes:
        keras.utils.set_random_seed(seed)
        # The digits are floats in [0, 16]: declare it; the output is in [0, 1].
        resize = kit.resize(size, size, mode="pad", value_range=(0, 16))
        train = (
            tf.data.Dataset.from_tensor_slices((train_x, train_y))
            .shuffle(len(train_x), seed=seed)
            .batch(32)
            .map(resize)
        )
        validation = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(256).map(resize)
        model = small_cnn(size)
        model.compile(
            keras.optimizers.Adam(3e-3),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,  # XLA costs more than it saves on a model this small
        )
        started = time.perf_counter()
        history = model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=[keras.callbacks.TensorBoard(os.path.join(logdir, f"size_{size}"))],
            verbose=0,
        )
        runs.append(
            {
                "size": size,
                "input_shape": tuple(model.input_shape[1:]),
                "batch_shape": tuple(next(iter(train))[0].shape),
                "val_accuracy": float(history.history["val_accuracy"][-1]),
                "seconds": time.perf_counter() - started,
            }
        )
    return {"runs": runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/image_size", help="TensorBoard log directory")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[8, 16, 32], help="square input sizes"
    )
    parser.add_argument("--epochs", type=int, default=10, help="epochs per size")
    parser.add_argument("--seed", type=int, default=0, help="seed for data order and weights")
    parser.add_argument("--quick", action="store_true", help="tiny budget for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.logdir, sizes=args.sizes, epochs=3, num_train=600, seed=args.seed)
    else:
        result = run(args.logdir, sizes=args.sizes, epochs=args.epochs, seed=args.seed)
    print("| input size | val_accuracy | seconds |")
    print("| --- | --- | --- |")
    for entry in result["runs"]:
        size = entry["size"]
        print(f"| {size}x{size} | {entry['val_accuracy']:.3f} | {entry['seconds']:.1f} |")
    print("Compare the runs in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
