"""Always save your model: every configuration becomes a version you can go back to.

Trick 7 of the seed article ("save every model while tuning, so that you can roll back to
the best"). Two runs on scikit-learn's digits with different settings (dropout and batch
size, given as `hparams`) train under `kit.callbacks.CheckpointOnChange`, which opens a
new version whenever the configuration changes and keeps each version's best and last
model. `kit.History` then prints the versions table (what changed, best `val_accuracy`),
rolls back to the best version and exports it as one `.keras` file. Run it directly:

    python examples/always_save_your_model.py --logdir runs/always_save

then compare the runs with `tensorboard --logdir runs/always_save` (SCALARS tab), and see
the same table from the shell with `kak history runs/always_save/history`.
`--quick` shrinks the budget to a few seconds (the test suite runs it that way).
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

#: The settings of the two runs: each one is a new version.
RUNS = [
    {"dropout": 0.5, "batch_size": 64},
    {"dropout": 0.0, "batch_size": 16},
]


def digits_arrays(num_train=None, seed=0):
    """Shuffled digits as `(train, validation)` pairs; images float32 in [0, 1]."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.images))
    images = digits.images[order, :, :, None].astype("float32") / 16.0
    labels = digits.target[order].astype("int32")
    split = len(images) * 3 // 4
    num_train = num_train or split
    return (images[:num_train], labels[:num_train]), (images[split:], labels[split:])


def small_cnn(dropout):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def run(logdir, epochs=15, num_train=None, seed=0):
    """Trains the two runs under CheckpointOnChange, then rolls back to the best and exports it.

    Returns:
        Dict with `directory` (of the history), `versions` (list of `kit.history.Version`),
        `best` (the best `Version`), `restored_version` (the id rolled back to),
        `exported` (path of the exported `.keras` file) and `exported_accuracy` (of that
        file's model on the validation data).
    """
    directory = os.path.join(logdir, "history")
    (train_x, train_y), (val_x, val_y) = digits_arrays(num_train, seed)
    validation = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(256)
    for number, hparams in enumerate(RUNS, start=1):
        keras.utils.set_random_seed(seed)
        train = (
            tf.data.Dataset.from_tensor_slices((train_x, train_y))
            .shuffle(len(train_x), seed=seed)
            .batch(hparams["batch_size"])
        )
        model = small_cnn(hparams["dropout"])
        model.compile(
            keras.optimizers.Adam(3e-3),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=False,  # XLA costs more than it saves on a model this small
        )
        model.fit(
            train,
            validation_data=validation,
            epochs=epochs,
            callbacks=[
                kit.callbacks.CheckpointOnChange(
                    directory, monitor="val_accuracy", hparams=hparams
                ),
                keras.callbacks.TensorBoard(os.path.join(logdir, f"run_{number}")),
            ],
            verbose=0,
        )

    history = kit.History(directory)
    try:
        versions = history.versions()
        best = history.best()
        # The next CheckpointOnChange run with a new configuration derives from it.
        restored = history.rollback("best")
        exported = history.export(os.path.join(logdir, "best.keras"))
    finally:
        history.close()
    model = keras.saving.load_model(exported)
    accuracy = model.evaluate(validation, return_dict=True, verbose=0)["accuracy"]
    return {
        "directory": os.path.abspath(directory),
        "versions": versions,
        "best": best,
        "restored_version": restored.version.id,
        "exported": exported,
        "exported_accuracy": float(accuracy),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--logdir", default="runs/always_save", help="TensorBoard and history directory"
    )
    parser.add_argument("--epochs", type=int, default=15, help="epochs per run")
    parser.add_argument("--seed", type=int, default=0, help="seed for data order and weights")
    parser.add_argument("--quick", action="store_true", help="tiny budget for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.logdir, epochs=3, num_train=600, seed=args.seed)
    else:
        result = run(args.logdir, epochs=args.epochs, seed=args.seed)
    print("| version | parent | best val_accuracy | epochs | changes vs parent |")
    print("| --- | --- | --- | --- | --- |")
    for version in result["versions"]:
        changes = "; ".join(version.changes)
        print(
            f"| {version.id} | {version.parent} | {version.best:.3f} | {version.epochs} "
            f"| {changes} |"
        )
    print(
        f"Rolled back to version {result['restored_version']} and exported it to "
        f"{result['exported']} (val_accuracy {result['exported_accuracy']:.3f})"
    )
    print("Compare the runs in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
