"""More epochs, then the learning rate: a range test, a growing budget and a lower rate.

Trick 4 of the seed article ("train longer: +25 epochs, then +100 while it still improves;
then lower the learning rate"). A small CNN on scikit-learn's 8x8 digits: `kit.find_lr`
picks the starting rate, `kit.callbacks.ProgressiveEpochs` grants more epochs only while
`val_accuracy` still improves, and `kit.callbacks.ReduceLROnPlateau` halves the rate when
`val_loss` stalls. Run it directly:

    python examples/epochs_and_learning_rate.py --logdir runs/epochs

then compare `epoch_learning_rate`, `epoch_epoch_budget` and the accuracy curves, and the
range test under `lr_find/`, with `tensorboard --logdir runs/epochs` (SCALARS tab).
`--quick` shrinks every budget to a few seconds (the test suite runs it that way).
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit


def digits_datasets(batch_size, num_train=None, seed=0):
    """Shuffled digits as `(train, validation)` batches; images float32 in [0, 1]."""
    digits = load_digits()
    images = digits.images[..., None].astype("float32") / 16.0
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], digits.target[order].astype("int32")
    split = len(images) * 3 // 4
    num_train = num_train or split
    train = tf.data.Dataset.from_tensor_slices((images[:num_train], labels[:num_train]))
    validation = tf.data.Dataset.from_tensor_slices((images[split:], labels[split:]))
    return train.shuffle(num_train, seed=seed).batch(batch_size), validation.batch(256)


def small_cnn():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def run(
    logdir,
    initial_epochs=10,
    extension=(10, 50),
    max_epochs=200,
    patience=3,
    lr_steps=100,
    num_train=None,
    seed=0,
):
    """Finds a starting rate, then trains with a growing budget and a falling rate.

    Returns:
        Dict with `suggested_lr`, `epochs_run`, `epoch_budget` (per epoch),
        `learning_rates` (per epoch), `val_accuracy` (per epoch), `best_val_accuracy`,
        `lr_reductions` and `extensions`.
    """
    keras.utils.set_random_seed(seed)
    train, validation = digits_datasets(batch_size=32, num_train=num_train, seed=seed)
    model = small_cnn()
    model.compile(
        keras.optimizers.Adam(1e-3),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,  # XLA costs more than it saves on a model this small
    )

    # The range test restores weights, optimizer state and rate: fit can follow directly.
    found = kit.find_lr(model, train, min_lr=1e-5, max_lr=1.0, num_steps=lr_steps, logdir=logdir)
    model.optimizer.learning_rate = found.suggestion

    callbacks = [
        kit.callbacks.ProgressiveEpochs(
            monitor="val_accuracy", initial_epochs=initial_epochs, extension=list(extension)
        ),
        kit.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=patience),
        # Last, so that it sees `epoch_budget` and `learning_rate` in the logs.
        keras.callbacks.TensorBoard(logdir),
    ]
    history = model.fit(
        train, validation_data=validation, epochs=max_epochs, callbacks=callbacks, verbose=0
    )
    rates = [float(rate) for rate in history.history["learning_rate"]]
    budgets = [int(budget) for budget in history.history["epoch_budget"]]
    return {
        "suggested_lr": float(found.suggestion),
        "epochs_run": len(history.epoch),
        "epoch_budget": budgets,
        "learning_rates": rates,
        "val_accuracy": [float(v) for v in history.history["val_accuracy"]],
        "best_val_accuracy": float(max(history.history["val_accuracy"])),
        "lr_reductions": sum(later < earlier for earlier, later in zip(rates, rates[1:])),
        "extensions": sum(
            later > earlier for earlier, later in zip([initial_epochs] + budgets, budgets)
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/epochs", help="TensorBoard log directory")
    parser.add_argument("--initial-epochs", type=int, default=10, help="first stage")
    parser.add_argument("--max-epochs", type=int, default=200, help="fit's hard ceiling")
    parser.add_argument("--seed", type=int, default=0, help="seed for data order and weights")
    parser.add_argument(
        "--quick", action="store_true", help="tiny budgets for a smoke test (a few seconds)"
    )
    args = parser.parse_args(argv)
    settings = {"initial_epochs": args.initial_epochs, "max_epochs": args.max_epochs}
    if args.quick:
        settings = {
            "initial_epochs": 3,
            "extension": (3, 6),
            "max_epochs": 12,
            "patience": 1,
            "lr_steps": 30,
            "num_train": 600,
        }
    result = run(args.logdir, seed=args.seed, **settings)
    print(f"find_lr suggested a starting rate of {result['suggested_lr']:.3g}")
    print(
        f"Trained {result['epochs_run']} epochs (budget grew {result['extensions']} time(s), "
        f"to {result['epoch_budget'][-1]}); the rate was lowered {result['lr_reductions']} "
        f"time(s), to {result['learning_rates'][-1]:.3g}"
    )
    print(f"Best val_accuracy: {result['best_val_accuracy']:.3f}")
    print("Look at the curves, the budget and the rate in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
