"""Accuracy suite: `kit.improve` against what a user builds by hand, on three small tasks.

Tasks, built in code from data that installed packages ship (seeded, offline; test sets
touched once, at the end):

- `digits`: scikit-learn's digits few-shot (`few_shot_digits(per_class=10, seed)`):
  10 images per class to train, 10 per class to validate, the rest (about 1600) to test.
  8x8x1 float32 in [0, 16], 10 classes. Not flip-invariant.
- `scenes`: RGB photo patches, 6 classes: which photo a patch comes from (scikit-image's
  astronaut, coffee, chelsea, rocket; scikit-learn's china and flower), like a tile
  classifier (histology, remote sensing). Random crops of 48-160 pixels resized to 32x32x3
  (scale nuisance), random horizontal mirror, brightness, contrast and noise jitter;
  uint8 values (as float32 in [0, 255], as `image_dataset_from_directory` gives them).
  15/class to train, 10/class to validate, 100/class to test. Training and validation
  crops come from the left half of each photo, test crops from the right half (unseen
  parts of the scene). Invariant under horizontal flips only.
- `textures`: binary texture recognition: grass vs gravel (scikit-image), random crops of
  32-64 pixels resized to 32x32x1 (scale nuisance), brightness, contrast and noise jitter.
  Values as float32 in [0, 255], 20/class to train (40 in all), 10/class to validate,
  200/class to test. Training and validation crops from the top half of each texture, test
  crops from the bottom half. Flip- and rotation-invariant.

Contenders, side by side in one run, same seeds, interleaved per seed and task (the same
machine load for all):

- `naive`: the tutorial CNN (`tutorial_cnn(input_shape, num_classes)`), 10 epochs, input
  as the data comes;
- `keras`: the same CNN behind Keras' augmentation layers (RandomRotation,
  RandomTranslation, RandomZoom, and RandomFlip on the flip-invariant tasks only), with
  the same EarlyStopping(restore_best_weights=True) and ReduceLROnPlateau, up to 150 epochs;
- `hand`: the hand-built recipe a competent Keras user writes: Rescaling to [0, 1], the
  same augmentation layers, a BN CNN (Conv32/64/128-BN-ReLU blocks with max pooling and
  dropout, global average pooling, dropout, softmax), Adam(1e-3), batch 16,
  EarlyStopping(val_loss, patience 25, restore_best_weights=True) and
  ReduceLROnPlateau(val_loss, factor 0.5, patience 7), up to 150 epochs;
- `svm`: an RBF SVM on raw pixels scaled to [0, 1] (scikit-learn `SVC`), C and gamma picked
  by `GridSearchCV` (stratified 5-fold) on train + validation together, then refit on all;
- `kit`: `kit.improve(tutorial_cnn, train, validation, budget=2x the hand-built recipe's
  wall time to a trained model in the same seed's run, logdir, seed, verbose=0)` with its defaults otherwise;
  `result.best_model` takes raw images. (`--quick` gives it 2 s instead.)

Prints per task the test accuracy mean/std over seeds and, per seed, each contender's
wall time to a trained model (building, training, searching: what the kit's budget is
measured against) and the time of its test-set predictions (timed apart: the kit's
ensembles predict with several networks where the hand-built recipe uses one); then the
ratios: kit minus the best other contender (accuracy) and kit time / hand-built time
(also with the test predictions on both sides); last, one line of `name=value` pairs
(accuracies with 4 decimals, time ratios with 2): `<task>_<contender>`,
`<task>_best_other`, `<task>_kit_minus_best_other`, `<task>_kit_time_vs_hand`,
`<task>_kit_with_test_time_vs_hand`.

Target: the kit beats the best other contender on every task (mean of 3 seeds), reaches
>= 0.96 on digits few-shot, within 2x the hand-built recipe's wall time.

    python benchmarks/bench_accuracy.py                  # 3 seeds, all tasks (tens of minutes)
    python benchmarks/bench_accuracy.py --tasks digits   # one task
    python benchmarks/bench_accuracy.py --quick          # a smoke run (1 seed, tiny)
    python benchmarks/bench_accuracy.py --verbose        # also the kit's ladder steps
"""

import argparse
import dataclasses
import functools
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras_accuracy_kit as kit  # noqa: E402
from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn  # noqa: E402

CONTENDERS = ("naive", "keras", "hand", "svm", "kit")
#: The SVM's grid: C values, and gamma as multiples of scikit-learn's "scale" gamma
#: (1 / (num_features * pixel variance)).
SVM_C = (1.0, 10.0, 100.0)
SVM_GAMMA_FACTORS = (0.3, 1.0, 3.0)
#: `--quick`: the kit's time budget, in seconds (instead of 2x the hand-built recipe's).
QUICK_KIT_SECONDS = 2.0
#: `kit.improve`'s verbosity (`--verbose` shows its steps).
VERBOSE = 0


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark task: how to build its splits and which augmentation is honest."""

    name: str
    description: str
    num_classes: int
    max_value: float  # pixel values lie in [0, max_value]
    flip: object  # RandomFlip mode the classes are invariant under, or None
    rotation: float  # RandomRotation factor (fraction of a full turn)
    translation: float
    zoom: float
    fill_mode: str
    splits: object  # splits(seed, quick) -> [(images, labels)] * 3


# Task data --------------------------------------------------------------------------------


def digits_splits(seed, quick):
    train, validation, test = few_shot_digits(per_class=10, seed=seed)
    if quick:  # a small test set: a smoke run
        keep = np.random.default_rng(seed).choice(len(test[1]), 300, replace=False)
        test = (test[0][keep], test[1][keep])
    return [train, validation, test]


@functools.lru_cache(maxsize=1)
def _photos():
    """Six RGB photos, each split into a left half (train, validation) and a right half (test)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = [getattr(skimage.data, name)() for name in SCENES[:4]]
    photos += list(load_sample_images().images)  # china, flower: SCENES[4:]
    return [(photo[:, : photo.shape[1] // 2], photo[:, photo.shape[1] // 2 :]) for photo in photos]


def _random_crop(image, rng, min_size, max_size, out_size):
    """A random square crop of `min_size..max_size` pixels, resized to `out_size` (float)."""
    from skimage.transform import resize

    size = int(rng.integers(min_size, min(max_size, *image.shape[:2]) + 1))
    top = int(rng.integers(0, image.shape[0] - size + 1))
    left = int(rng.integers(0, image.shape[1] - size + 1))
    crop = image[top : top + size, left : left + size].astype("float64")
    return resize(crop, (out_size, out_size), anti_aliasing=True, preserve_range=True)


def _jitter(image, rng, noise):
    """Brightness, contrast and Gaussian noise; rounds to uint8 values (kept as float32)."""
    image = (image - 128.0) * rng.uniform(0.7, 1.3) + 128.0 + rng.uniform(-30, 30)
    image = image + rng.normal(0, noise, image.shape)
    return np.clip(np.round(image), 0, 255).astype("float32")


SCENES = ("astronaut", "coffee", "chelsea", "rocket", "china", "flower")


def scenes_splits(seed, quick):
    rng = np.random.default_rng([seed, 1])
    per_class = (15, 10, 20 if quick else 100)
    splits = []
    for split, count in enumerate(per_class):
        half = 0 if split < 2 else 1  # test crops from the photos' other half
        labels = np.repeat(np.arange(len(SCENES)), count)
        images = []
        for label in labels:
            crop = _random_crop(_photos()[label][half], rng, 48, 160, 32)
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            images.append(_jitter(crop, rng, noise=6.0))
        order = rng.permutation(len(labels))
        splits.append((np.stack(images)[order], labels[order].astype("int32")))
    return splits


TEXTURES = ("grass", "gravel")


@functools.lru_cache(maxsize=1)
def _textures():
    import skimage.data

    images = [getattr(skimage.data, name)() for name in TEXTURES]
    return [(image[: image.shape[0] // 2], image[image.shape[0] // 2 :]) for image in images]


def textures_splits(seed, quick):
    rng = np.random.default_rng([seed, 2])
    per_class = (20, 10, 50 if quick else 200)
    splits = []
    for split, count in enumerate(per_class):
        half = 0 if split < 2 else 1  # test crops from the textures' other half
        labels = np.repeat(np.arange(len(TEXTURES)), count)
        images = np.stack(
            [
                _jitter(_random_crop(_textures()[label][half], rng, 32, 64, 32), rng, noise=5.0)
                for label in labels
            ]
        )[..., None]
        order = rng.permutation(len(labels))
        splits.append((images[order], labels[order].astype("int32")))
    return splits


TASKS = {
    task.name: task
    for task in (
        Task(
            "digits", "digits few-shot, 10 classes, 8x8x1 in [0, 16], 10/class train, "
            "10/class validation, the rest test", 10, 16.0, flip=None, rotation=10 / 360,
            translation=0.1, zoom=0.1, fill_mode="constant", splits=digits_splits,
        ),
        Task(
            "scenes", "RGB photo patches: which of 6 photos, 32x32x3 in [0, 255], 15/class "
            "train, 10/class validation, 100/class test", 6, 255.0, flip="horizontal",
            rotation=10 / 360, translation=0.1, zoom=0.2, fill_mode="reflect",
            splits=scenes_splits,
        ),
        Task(
            "textures", "grass vs gravel, binary, 32x32x1 in [0, 255], 20/class train, "
            "10/class validation, 200/class test", 2, 255.0, flip="horizontal_and_vertical",
            rotation=0.5, translation=0.1, zoom=0.2, fill_mode="reflect",
            splits=textures_splits,
        ),
    )
}  # fmt: skip


# Contenders -------------------------------------------------------------------------------


def accuracy_on(model, test):
    """Test accuracy of `model`'s argmax, checked against scikit-learn's `accuracy_score`."""
    from sklearn.metrics import accuracy_score

    outputs = model.predict(test[0], batch_size=256, verbose=0)
    if outputs.shape != (len(test[1]), outputs.shape[-1]) or not np.all(np.isfinite(outputs)):
        raise ValueError(
            f"bench_accuracy: a model must give one finite row of class scores per test "
            f"image. Received: outputs of shape {outputs.shape} for {len(test[1])} images."
        )
    predictions = outputs.argmax(-1)
    accuracy = float(np.mean(predictions == test[1]))
    reference = accuracy_score(test[1], predictions)
    if accuracy != reference:
        raise ValueError(
            f"bench_accuracy: the accuracy must equal scikit-learn's accuracy_score. "
            f"Received: {accuracy!r} vs {reference!r}."
        )
    return accuracy


def augmentation(task, seed):
    """Keras' augmentation layers, honest for `task` (flips only where classes allow)."""
    layers = [keras.layers.RandomFlip(task.flip, seed=seed)] if task.flip else []
    layers += [
        keras.layers.RandomRotation(task.rotation, fill_mode=task.fill_mode, seed=seed + 1),
        keras.layers.RandomTranslation(
            task.translation, task.translation, fill_mode=task.fill_mode, seed=seed + 2
        ),
        keras.layers.RandomZoom(task.zoom, fill_mode=task.fill_mode, seed=seed + 3),
    ]
    return keras.Sequential(layers, name="augmentation")


def naive(task, train, validation, test, seed, quick):
    keras.utils.set_random_seed(seed)
    model = tutorial_cnn(train[0].shape[1:], task.num_classes)
    model.fit(
        *train, validation_data=validation, epochs=2 if quick else 10, batch_size=32, verbose=0
    )
    return model


def _early_stopping_callbacks(max_epochs):
    return [
        keras.callbacks.EarlyStopping(
            "val_loss", patience=max(3, max_epochs // 6), restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            "val_loss", factor=0.5, patience=max(2, max_epochs // 20), min_lr=1e-5
        ),
    ]


def keras_builtins(task, train, validation, test, seed, quick):
    keras.utils.set_random_seed(seed)
    input_shape = train[0].shape[1:]
    inputs = keras.Input(input_shape)
    outputs = tutorial_cnn(input_shape, task.num_classes)(augmentation(task, seed)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    epochs = 2 if quick else 150
    model.fit(
        *train, validation_data=validation, epochs=epochs, batch_size=32,
        callbacks=_early_stopping_callbacks(epochs), verbose=0,
    )  # fmt: skip
    return model


def bn_cnn(task, input_shape, seed):
    """The hand-built recipe's model: Rescaling, augmentation, Conv-BN-ReLU blocks, GAP."""

    def conv_bn_relu(x, filters):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.9)(x)
        return keras.layers.ReLU()(x)

    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1.0 / task.max_value)(inputs)
    x = augmentation(task, seed)(x)
    size = min(input_shape[:2])
    for filters in (32, 64, 128):
        x = conv_bn_relu(x, filters)
        if size >= 4:
            x = keras.layers.MaxPooling2D()(x)
            size //= 2
        x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(task.num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="hand_built_bn_cnn")


def hand_built(task, train, validation, test, seed, quick):
    keras.utils.set_random_seed(seed)
    model = bn_cnn(task, train[0].shape[1:], seed)
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    epochs = 2 if quick else 150
    model.fit(
        *train, validation_data=validation, epochs=epochs, batch_size=16,
        callbacks=_early_stopping_callbacks(epochs), verbose=0,
    )  # fmt: skip
    return model


def svm(task, train, validation, test, seed, quick):
    """The RBF SVM on pixels in [0, 1], fit on train + validation (it needs no validation)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    images = np.concatenate([train[0], validation[0]])
    images = images.reshape(len(images), -1) / task.max_value
    labels = np.concatenate([train[1], validation[1]])
    scale_gamma = 1.0 / (images.shape[1] * images.var())
    search = GridSearchCV(
        SVC(kernel="rbf"),
        {"C": list(SVM_C), "gamma": [factor * scale_gamma for factor in SVM_GAMMA_FACTORS]},
        cv=StratifiedKFold(5, shuffle=True, random_state=seed),
    )
    search.fit(images, labels)
    return _PixelSVM(search, task.max_value, task.num_classes)


class _PixelSVM:
    """The fitted search as a model: `predict(images)` gives one-hot rows of its labels."""

    def __init__(self, search, max_value, num_classes):
        self.search, self.max_value, self.num_classes = search, max_value, num_classes

    def predict(self, images, batch_size=None, verbose=0):
        labels = self.search.predict(images.reshape(len(images), -1) / self.max_value)
        return np.eye(self.num_classes)[labels]


def kit_improve(task, train, validation, test, seed, budget_seconds):
    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory() as logdir:
        result = kit.improve(
            tutorial_cnn, train, validation, budget=f"{max(1.0, budget_seconds):.3f}s",
            logdir=logdir, seed=seed, verbose=VERBOSE,
        )  # fmt: skip
    return result.best_model  # it takes raw images


# The suite --------------------------------------------------------------------------------


def _timed(train, test):
    """`(test accuracy, seconds to a trained model, seconds of the test predictions)`."""
    start = time.perf_counter()
    model = train()
    trained = time.perf_counter()
    accuracy = accuracy_on(model, test)
    return accuracy, trained - start, time.perf_counter() - trained


def run_task_seed(task, seed, quick):
    """Runs every contender once on `task` with `seed`.

    Returns `{contender: (test accuracy, training seconds, test prediction seconds)}` and
    the sizes of the three splits.
    """
    train, validation, test = task.splits(seed, quick)
    runners = (("naive", naive), ("keras", keras_builtins), ("hand", hand_built), ("svm", svm))
    outcome = {}
    for name, runner in runners:
        keras.backend.clear_session()
        outcome[name] = _timed(
            functools.partial(runner, task, train, validation, test, seed, quick), test
        )
    keras.backend.clear_session()
    budget = 2 * outcome["hand"][1]
    if quick:  # a smoke run: the kit's budget is tiny too
        budget = min(budget, QUICK_KIT_SECONDS)
    outcome["kit"] = _timed(
        functools.partial(kit_improve, task, train, validation, test, seed, budget), test
    )
    return outcome, [len(split[1]) for split in (train, validation, test)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, tiny epochs and budgets")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument(
        "--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)}"
    )
    parser.add_argument("--verbose", action="store_true", help="show the kit's ladder steps")
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = 1 if args.verbose else 0
    names = [name.strip() for name in args.tasks.split(",") if name.strip()]
    unknown = [name for name in names if name not in TASKS]
    if unknown or not names:
        parser.error(f"--tasks must name tasks of {', '.join(TASKS)}. Received: {args.tasks!r}.")
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1. Received: {args.seeds}.")
    seeds = [0] if args.quick else list(range(args.seeds))

    accuracy = {name: {c: [] for c in CONTENDERS} for name in names}
    seconds = {name: {c: 0.0 for c in CONTENDERS} for name in names}
    test_seconds = {name: {c: 0.0 for c in CONTENDERS} for name in names}
    sizes = {}
    for seed in seeds:  # interleaved: every contender of every task sees the same load
        for name in names:
            outcome, sizes[name] = run_task_seed(TASKS[name], seed, args.quick)
            for contender, (value, duration, predicting) in outcome.items():
                accuracy[name][contender].append(value)
                seconds[name][contender] += duration
                test_seconds[name][contender] += predicting

    ratios, formats = {}, {}
    for name in names:
        train_size, validation_size, test_size = sizes[name]
        print(f"\n{name}: {TASKS[name].description}")
        print(
            f"  {train_size} train / {validation_size} validation / {test_size} test; "
            f"seeds {seeds}"
        )
        print(
            f"  {'contender':<10} {'test acc mean':>14} {'std':>7} {'wall time/seed':>15} "
            f"{'test predictions':>17}"
        )
        for contender in CONTENDERS:
            values = np.array(accuracy[name][contender])
            per_seed = seconds[name][contender] / len(seeds)
            predicting = test_seconds[name][contender] / len(seeds)
            print(
                f"  {contender:<10} {values.mean():>14.4f} {values.std():>7.4f} "
                f"{per_seed:>14.1f}s {predicting:>16.1f}s"
            )
        means = {c: float(np.mean(accuracy[name][c])) for c in CONTENDERS}
        best_other = max((c for c in CONTENDERS if c != "kit"), key=means.get)
        gain = means["kit"] - means[best_other]
        time_ratio = seconds[name]["kit"] / seconds[name]["hand"]
        with_test = (seconds[name]["kit"] + test_seconds[name]["kit"]) / (
            seconds[name]["hand"] + test_seconds[name]["hand"]
        )
        print(
            f"  kit - best other ({best_other}): {gain:+.4f} ({100 * gain:+.2f} points); "
            f"kit time / hand-built time: {time_ratio:.2f} ({with_test:.2f} with the test "
            "predictions)"
        )
        for contender in CONTENDERS:
            ratios[f"{name}_{contender}"], formats[f"{name}_{contender}"] = means[contender], 4
        ratios[f"{name}_best_other"], formats[f"{name}_best_other"] = means[best_other], 4
        ratios[f"{name}_kit_minus_best_other"] = gain
        formats[f"{name}_kit_minus_best_other"] = 4
        ratios[f"{name}_kit_time_vs_hand"], formats[f"{name}_kit_time_vs_hand"] = time_ratio, 2
        ratios[f"{name}_kit_with_test_time_vs_hand"] = with_test
        formats[f"{name}_kit_with_test_time_vs_hand"] = 2
    print(" ".join(f"{key}={value:.{formats[key]}f}" for key, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing warnings between the tables
    main()
