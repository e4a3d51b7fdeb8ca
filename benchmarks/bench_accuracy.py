"""Few-shot digits: the naive tutorial CNN, Keras' built-in tricks, and `kit.improve`.

scikit-learn's digits, per seed: 10 images per class to train, 10 per class to validate,
the rest (about 1600) to test, touched once at the end. Three contenders, side by side:

- naive: the tutorial CNN (Conv32-Pool-Conv64-Pool-Dense64), Adam 1e-3, 10 epochs;
- keras: the same CNN behind Keras' augmentation layers (RandomRotation, RandomTranslation,
  RandomZoom), with EarlyStopping(restore_best_weights) and ReduceLROnPlateau;
- kit: `kit.improve` on the CNN's build function (a time budget), with `refit=True` (the
  best setup trained once more on train + validation);
- kit_norefit: the same ladder returning its best validated model.

Prints test accuracy mean/std and wall time per contender, then the ratios as `name=value`.
Target: kit >= 0.96 mean test accuracy within 2x the wall time of the keras run.

    python benchmarks/bench_accuracy.py            # 3 seeds, a few minutes per seed
    python benchmarks/bench_accuracy.py --quick    # a smoke run
"""

import argparse
import os
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras_accuracy_kit as kit  # noqa: E402
from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn  # noqa: E402


def split(seed, per_class=10):
    return few_shot_digits(per_class=per_class, seed=seed)


def test_accuracy(model, test):
    data = tf.data.Dataset.from_tensor_slices(test).batch(256)
    predictions = model.predict(data, verbose=0).argmax(-1)
    return float((predictions == test[1]).mean())


def naive(train, validation, test, seed, epochs):
    keras.utils.set_random_seed(seed)
    model = tutorial_cnn((8, 8, 1), 10)
    model.fit(*train, validation_data=validation, epochs=epochs, batch_size=32, verbose=0)
    return test_accuracy(model, test)


def keras_builtins(train, validation, test, seed, epochs):
    keras.utils.set_random_seed(seed)
    augmentation = keras.Sequential(
        [
            keras.layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed),
        ]
    )
    cnn = tutorial_cnn((8, 8, 1), 10)
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, cnn(augmentation(inputs)))
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    callbacks = [
        keras.callbacks.EarlyStopping(
            "val_accuracy", patience=max(5, epochs // 4), restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=max(3, epochs // 8)),
    ]
    model.fit(
        *train, validation_data=validation, epochs=epochs, batch_size=32, callbacks=callbacks,
        verbose=0,
    )  # fmt: skip
    return test_accuracy(model, test)


def kit_improve(train, validation, test, seed, epochs, budget, refit=False):
    with tempfile.TemporaryDirectory() as logdir:
        result = kit.improve(
            tutorial_cnn, train, validation, epochs=epochs, budget=budget, logdir=logdir,
            refit=refit, seed=seed, verbose=0,
        )  # fmt: skip
        return test_accuracy(result.best_model, test)  # transforms are inside the model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, tiny budgets")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else list(range(args.seeds))
    settings = {
        "naive": {"epochs": 2 if args.quick else 10},
        "keras": {"epochs": 3 if args.quick else 150},
        "kit": {
            "epochs": 2 if args.quick else 10,
            "budget": 6 if args.quick else "50s",
            "refit": True,
        },
        "kit_norefit": {"epochs": 2 if args.quick else 10, "budget": 6 if args.quick else "50s"},
    }
    runners = {
        "naive": naive,
        "keras": keras_builtins,
        "kit": kit_improve,
        "kit_norefit": kit_improve,
    }
    accuracy = {name: [] for name in runners}
    seconds = {name: 0.0 for name in runners}
    for seed in seeds:
        train, validation, test = split(seed)
        for name, runner in runners.items():  # interleaved: same machine load for all
            start = time.perf_counter()
            accuracy[name].append(runner(train, validation, test, seed, **settings[name]))
            seconds[name] += time.perf_counter() - start
    print(f"digits few-shot (10/class train, 10/class validation), seeds {seeds}")
    print(f"{'contender':<10} {'test acc mean':>14} {'std':>7} {'wall time':>10}")
    for name in runners:
        values = np.array(accuracy[name])
        print(f"{name:<10} {values.mean():>14.4f} {values.std():>7.4f} {seconds[name]:>9.1f}s")
    ratios = {
        "kit_test_accuracy": float(np.mean(accuracy["kit"])),
        "keras_test_accuracy": float(np.mean(accuracy["keras"])),
        "naive_test_accuracy": float(np.mean(accuracy["naive"])),
        "kit_norefit_test_accuracy": float(np.mean(accuracy["kit_norefit"])),
        "kit_time_vs_keras": seconds["kit"] / seconds["keras"],
    }
    print(" ".join(f"{name}={value:.2f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
