"""Colour channels: the same CNN trained on RGB, CIE-Lab, HSV and grayscale inputs.

Trick 5 of the seed article ("try other colour channels"). The 8x8 digits are tinted
into uint8 RGB, ink and paper in a random hue per image (as `transform_gallery.py` does),
and each variant of the pipeline maps one conversion over the same batches:

    rgb        the uint8 pixels scaled to [0, 1]
    lab        kit.to_lab(output_range="unit")         L, a, b each in [0, 1]
    hsv        kit.to_hsv()                            H, S, V in [0, 1]
    grayscale  kit.to_grayscale(keep_channels=3)       gray repeated to 3 channels

The same small CNN is trained briefly on each, and a table of validation accuracy is
printed. Run it directly:

    python examples/color_spaces.py --logdir runs/color_spaces

then compare the runs `rgb`, `lab`, `hsv` and `grayscale` with
`tensorboard --logdir runs/color_spaces` (SCALARS tab). `--quick` shrinks the budget to a
few seconds (the test suite runs it that way). Here the tint carries no information
about the digit, only the contrast between ink and paper does; the table shows which
encoding makes that easiest to learn. On your data the ranking may differ: that is why
it is worth a run.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.transforms import functional as F


def rgb_to_unit(images, labels):
    """The baseline: uint8 RGB as float32 in [0, 1]."""
    return tf.cast(images, tf.float32) / 255.0, labels


#: (name, what `dataset.map` applies to the uint8 RGB batches).
VARIANTS = [
    ("rgb", rgb_to_unit),
    ("lab", kit.to_lab(output_range="unit")),
    ("hsv", kit.to_hsv()),
    ("grayscale", kit.to_grayscale(keep_channels=3)),
]


def tinted_digits(seed=0):
    """All digits as uint8 RGB: ink and paper in a random hue per image."""
    digits = load_digits()
    ink = digits.images[:, :, :, None] / 16.0
    hues = np.random.default_rng(seed).random(len(ink))
    ink_colour = F.hsv_to_rgb(np.stack([hues, np.full_like(hues, 0.9), np.ones_like(hues)], -1))
    paper_colour = F.hsv_to_rgb(
        np.stack([(hues + 0.5) % 1.0, np.full_like(hues, 0.4), np.full_like(hues, 0.3)], -1)
    )
    rgb = (
        ink * ink_colour.numpy()[:, None, None, :]
        + (1.0 - ink) * (paper_colour.numpy()[:, None, None, :])
    )
    return np.round(rgb * 255).astype(np.uint8), digits.target.astype("int32")


def small_cnn():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def run(logdir, epochs=15, num_train=None, seed=0):
    """Trains the same CNN on every colour space.

    Returns:
        Dict `{"runs": [...]}`, one dict per variant with `name`, `channels`, `min` and
        `max` (of the converted training inputs, per channel) and `val_accuracy`.
    """
    images, labels = tinted_digits(seed)
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    split = len(images) * 3 // 4
    num_train = num_train or split
    raw_train = (
        tf.data.Dataset.from_tensor_slices((images[:num_train], labels[:num_train]))
        .shuffle(num_train, seed=seed)
        .batch(32)
    )
    raw_validation = tf.data.Dataset.from_tensor_slices((images[split:], labels[split:])).batch(256)
    runs = []
    for name, convert in VARIANTS:
        keras.utils.set_random_seed(seed)
        train = raw_train.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
        validation = raw_validation.map(convert)
        converted = np.concatenate([x.numpy() for x, _ in train])
        model = small_cnn()
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
            callbacks=[keras.callbacks.TensorBoard(os.path.join(logdir, name))],
            verbose=0,
        )
        runs.append(
            {
                "name": name,
                "channels": converted.shape[-1],
                "min": converted.min(axis=(0, 1, 2)).tolist(),
                "max": converted.max(axis=(0, 1, 2)).tolist(),
                "val_accuracy": float(history.history["val_accuracy"][-1]),
            }
        )
    return {"runs": runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/color_spaces", help="TensorBoard log directory")
    parser.add_argument("--epochs", type=int, default=15, help="epochs per colour space")
    parser.add_argument("--seed", type=int, default=0, help="seed for tints, order and weights")
    parser.add_argument("--quick", action="store_true", help="tiny budget for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.logdir, epochs=3, num_train=600, seed=args.seed)
    else:
        result = run(args.logdir, epochs=args.epochs, seed=args.seed)
    print("| colour space | channels | input range per channel | val_accuracy |")
    print("| --- | --- | --- | --- |")
    for entry in result["runs"]:
        ranges = ", ".join(f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(entry["min"], entry["max"]))
        print(f"| {entry['name']} | {entry['channels']} | {ranges} | {entry['val_accuracy']:.3f} |")
    print("Compare the runs in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
