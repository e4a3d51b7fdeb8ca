"""More layers: the same CNN with 1, 2 and 3 conv blocks on digits upsampled to 16x16.

Trick 2 of the seed article ("add layers"), as a plain loop: the digits are brought to
16x16 with `kit.resize(16, 16, mode="pad")` (each block halves the size, so 8x8 leaves
no room for three), the network is built with 1, 2 and 3 blocks of conv + pooling, each
is trained briefly, and a table of validation accuracy per depth is printed. Run it
directly:

    python examples/depth.py --logdir runs/depth

then compare the runs `depth_1`, `depth_2`, `depth_3` with
`tensorboard --logdir runs/depth` (SCALARS tab). `--quick` shrinks the budget to a few
seconds (the test suite runs it that way).

The searched version of this loop is `kit.search.DepthSearch` (a keras-tuner hypermodel
over the number of blocks, with every trial saved), in the `tuner` extra.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

SIZE = 16


def digits_datasets(num_train=None, seed=0):
    """Shuffled digits at 16x16 as `(train, validation)` batches, float32 in [0, 1]."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.images))
    images = digits.images[order, :, :, None].astype("float32")  # values 0..16
    labels = digits.target[order].astype("int32")
    split = len(images) * 3 // 4
    num_train = num_train or split
    resize = kit.resize(SIZE, SIZE, mode="pad", value_range=(0, 16))
    train = (
        tf.data.Dataset.from_tensor_slices((images[:num_train], labels[:num_train]))
        .shuffle(num_train, seed=seed)
        .batch(32)
        .map(resize)
    )
    validation = (
        tf.data.Dataset.from_tensor_slices((images[split:], labels[split:])).batch(256).map(resize)
    )
    return train, validation


def cnn(num_blocks, filters=16):
    """`num_blocks` blocks of 3x3 conv + 2x2 max pooling (filters doubling), then a head."""
    inputs = keras.Input((SIZE, SIZE, 1))
    x = inputs
    for block in range(num_blocks):
        x = keras.layers.Conv2D(filters * 2**block, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"cnn_{num_blocks}_blocks")


def run(logdir, depths=(1, 2, 3), epochs=10, num_train=None, seed=0):
    """Trains the CNN at every depth.

    Returns:
        Dict `{"runs": [...]}`, one dict per depth with `depth`, `conv_layers` (counted in
        the model), `params` and `val_accuracy` (the best epoch's).
    """
    train, validation = digits_datasets(num_train, seed)
    runs = []
    for depth in depths:
        keras.utils.set_random_seed(seed)
        model = cnn(depth)
        model.compile(
            keras.optimizers.Adam(3e-3),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,  # XLA costs more than it saves on a model this small
        )
        history = model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=[keras.callbacks.TensorBoard(os.path.join(logdir, f"depth_{depth}"))],
            verbose=0,
        )
        runs.append(
            {
                "depth": depth,
                "conv_layers": sum(
                    isinstance(layer, keras.layers.Conv2D) for layer in model.layers
                ),
                "params": model.count_params(),
                "val_accuracy": float(max(history.history["val_accuracy"])),
            }
        )
    return {"runs": runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/depth", help="TensorBoard log directory")
    parser.add_argument(
        "--depths", type=int, nargs="+", default=[1, 2, 3], help="numbers of conv blocks"
    )
    parser.add_argument("--epochs", type=int, default=10, help="epochs per depth")
    parser.add_argument("--seed", type=int, default=0, help="seed for data order and weights")
    parser.add_argument("--quick", action="store_true", help="tiny budget for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.logdir, depths=args.depths, epochs=3, num_train=600, seed=args.seed)
    else:
        result = run(args.logdir, depths=args.depths, epochs=args.epochs, seed=args.seed)
    print("| conv blocks | parameters | best val_accuracy |")
    print("| --- | --- | --- |")
    for entry in result["runs"]:
        print(f"| {entry['depth']} | {entry['params']} | {entry['val_accuracy']:.3f} |")
    print("Compare the runs in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
