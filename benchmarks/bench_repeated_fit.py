"""Cost of ending a `fit` on repeated data: the ladder's `_repeated` vs `data.repeat()`.

The ladder fits `data.repeat()` with `steps_per_epoch` (one tf.data iterator per fit).
Destroying that iterator when tf.data autotunes the pipeline sometimes takes seconds after
the last epoch (measured 3.5-4.7 s in 3 fits of 5 on 2 cores), so the ladder's
`_repeated` turns autotuning off. This script fits the same small network on the same
repeated pipeline both ways, alternating (plain, kit, plain, kit, ...), and prints for each
the mean `fit` time, the mean and largest time between the end of training
(`on_train_end`) and `fit` returning, and, last, the ratio as `name=value` (mean `fit`
time with the ladder's pipeline divided by the plain one's; below 1.0 is faster, target
<= 1.0). Means, not the best round: the delay strikes some fits, not all.

Before timing, both pipelines are checked to train the same thing: with the same seed,
the same per-epoch losses (`check ...` line). `--quick` makes a smoke run (one round).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import check_equal  # noqa: E402

from keras_accuracy_kit.ladder import reference_cnn  # noqa: E402
from keras_accuracy_kit.ladder.accuracy_ladder import _repeated  # noqa: E402

BATCH_SIZE = 32


class _TrainEnd(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        self.time = time.perf_counter()


def _data(images, labels, seed):
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    data = data.shuffle(len(labels), seed=seed).batch(BATCH_SIZE)
    return data.prefetch(tf.data.AUTOTUNE)


def fit_once(repeat, arrays, epochs, seed=0):
    """Fits a fresh `reference_cnn` on `repeat(data)`; returns (fit s, teardown s, losses)."""
    (x, y), (vx, vy) = arrays
    keras.utils.set_random_seed(seed)
    model = reference_cnn(x.shape[1:], int(y.max()) + 1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    steps = -(-len(y) // BATCH_SIZE)
    validation_steps = -(-len(vy) // BATCH_SIZE)
    end = _TrainEnd()
    start = time.perf_counter()
    history = model.fit(
        repeat(_data(x, y, seed), steps),
        steps_per_epoch=steps,
        validation_data=repeat(_data(vx, vy, seed), validation_steps),
        validation_steps=validation_steps,
        epochs=epochs,
        callbacks=[end],
        verbose=0,
    )
    finish = time.perf_counter()
    return finish - start, finish - end.time, history.history["loss"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args(argv)
    rounds, epochs = (1, 3) if args.quick else (8, 40)
    rng = np.random.default_rng(0)
    arrays = [
        (rng.random((n, 32, 32, 1), dtype=np.float32), np.arange(n) % 2) for n in (40, 20)
    ]
    candidates = {
        "plain": lambda data, steps: data.repeat(),
        "kit": _repeated,
    }
    reference = fit_once(candidates["plain"], arrays, 2)[2]
    check_equal("same losses", fit_once(candidates["kit"], arrays, 2)[2], reference, atol=1e-4)
    times = {name: [] for name in candidates}
    teardowns = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, repeat in candidates.items():
            seconds, teardown, _ = fit_once(repeat, arrays, epochs)
            times[name].append(seconds)
            teardowns[name].append(teardown)
    for name in candidates:
        print(
            f"{name}: fit {np.mean(times[name]):.2f} s mean over {rounds}; after the last "
            f"epoch {np.mean(teardowns[name]):.2f} s mean, {max(teardowns[name]):.2f} s max"
        )
    ratio = float(np.mean(times["kit"]) / np.mean(times["plain"]))
    print(f"repeated_fit_time={ratio:.3f}")
    return {"repeated_fit_time": ratio}


if __name__ == "__main__":
    main()
