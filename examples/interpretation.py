"""The kit's notebook views on scikit-learn's digits: show_batch, find_lr's plot, interpret.

Written as notebook cells: in Jupyter, a cell ending in `kit.show_batch(...)`,
`result.plot()` or `interp.plot_top_losses(9)` shows the picture (the returned `Figure` has
`_repr_png_`), and `print(...)` gives a one-line summary. As a script it saves the PNGs:

    python examples/interpretation.py --output runs/interpretation

A tiny dense model on 8x8 digits: the whole run takes seconds on a CPU.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

CLASS_NAMES = [str(digit) for digit in range(10)]


def run(output, epochs=5, seed=0):
    keras.utils.set_random_seed(seed)
    os.makedirs(output, exist_ok=True)

    # In[1]: the data, and what the model will see (labels and augmentation checked by eye).
    digits = load_digits()
    images = (digits.images[..., None] / 16.0).astype(np.float32)  # 8x8x1, in [0, 1]
    labels = digits.target.astype(np.int64)
    train = tf.data.Dataset.from_tensor_slices((images[:1200], labels[:1200]))
    train = train.shuffle(1200, seed=seed).batch(64)
    validation = tf.data.Dataset.from_tensor_slices((images[1200:], labels[1200:])).batch(128)
    augment = kit.augment(rotation_range=10, zoom_range=0.1, value_range=(0, 1), seed=seed)
    batch = kit.show_batch(
        train, augment=augment, class_names=CLASS_NAMES, path=os.path.join(output, "batch.png")
    )

    # In[2]: a learning-rate range test, plotted with its suggestions.
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    lr_result = kit.find_lr(model, train, min_lr=1e-5, max_lr=1.0, num_steps=60)
    print(lr_result)
    lr_figure = lr_result.plot(path=os.path.join(output, "lr_find.png"))

    # In[3]: train at the suggested rate (capped: Adam rarely needs more than 1e-2 here).
    model.optimizer.learning_rate = min(lr_result.suggestion, 1e-2)
    model.fit(train, validation_data=validation, epochs=epochs, verbose=0)

    # In[4]: what it gets wrong.
    interp = kit.interpret(model, validation, class_names=CLASS_NAMES)
    print(interp)
    print("most confused (true, predicted, count):", interp.most_confused()[:5])
    matrix = interp.plot_confusion_matrix(path=os.path.join(output, "confusion_matrix.png"))
    top = interp.plot_top_losses(9, path=os.path.join(output, "top_losses.png"))
    return {
        "batch": batch,
        "lr_result": lr_result,
        "lr_figure": lr_figure,
        "interpretation": interp,
        "confusion_matrix": matrix,
        "top_losses": top,
        "validation": (images[1200:], labels[1200:]),
        "model": model,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="runs/interpretation", help="folder of the PNGs")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    result = run(args.output, epochs=args.epochs, seed=args.seed)
    for name in ("batch", "lr_figure", "confusion_matrix", "top_losses"):
        print(f"{result[name]!r} -> {result[name].path}")
    return result


if __name__ == "__main__":
    main()
