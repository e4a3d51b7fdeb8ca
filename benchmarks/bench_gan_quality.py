"""The issue 21 measure: a ConditionalGAN on load_digits, its quality followed while it trains.

A QualityJudge (small CNN, see `kit.generative.QualityJudge`) is trained on 1400 digits; the
GAN trains on the same 1400; every `--every` epochs, 1000 generated images (100 per class)
are graded against the 397 held-out digits: class consistency (the judge sees the
conditioning label) and the Fréchet distance on the judge's penultimate features. Prints
one line per measurement and ends with `name=value` figures. Not a speed benchmark: the
training time printed is wall-clock on whatever machine runs it.

The GAN: `filters=16, latent_dim=64, augment=["brightness", "translation"],
ema_decay=0.99`, Adam at 5e-4 decaying to 0 over the run (`CosineDecay`; `--schedule
constant` keeps it at 5e-4, which peaks at 30-40 epochs and then drifts away).

`--judges 3` then grades the last generator's 1000 images with 3 judges of the same recipe
(seeds `seed`, `seed + 1000`, `seed + 2000`): how much of the figure is the judge's. A
judge of another kind grades them too: scikit-learn's `SVC()` (RBF kernel) on the raw
pixels of the same 1400 digits, a model family the GAN's own classifier (a CNN) does not
share, so that a generator fitted to fool CNNs would show here.

    python benchmarks/bench_gan_quality.py --epochs 60 --seed 0
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from keras_accuracy_kit.generative import ConditionalGAN, QualityJudge, QualityMonitor  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--class-loss-weight", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--ema-decay", type=float, default=0.99)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    parser.add_argument(
        "--judges", type=int, default=1,
        help="judges (seeds seed, seed + 1000, ...) that grade the last generator's images",
    )  # fmt: skip
    args = parser.parse_args(argv)
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., None]
    labels = digits.target.astype("int64")
    order = np.random.default_rng(args.seed).permutation(len(images))
    train, held_out = order[:1400], order[1400:]
    judge = QualityJudge((8, 8, 1), 10, seed=args.seed)
    judge.fit(images[train], labels[train])
    accuracy = np.mean(judge.predict(images[held_out]) == labels[held_out])
    real = judge.measure(images[held_out], labels[held_out], images[train])
    print(f"judge held-out accuracy {accuracy:.3f}; real train vs held-out Fréchet distance "
          f"{real['frechet_distance']:.3f}")  # fmt: skip
    batches = len(train) // 64
    learning_rate = args.learning_rate
    if args.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, args.epochs * batches)
    gan = ConditionalGAN(
        (8, 8, 1), 10, filters=args.filters, learning_rate=learning_rate,
        augment=["brightness", "translation"], ema_decay=args.ema_decay,
        class_loss_weight=args.class_loss_weight, seed=args.seed,
    )  # fmt: skip
    gan.compile()
    untrained = gan.report(images[held_out], labels[held_out], judge=judge)
    print(f"epoch 0 (untrained): class consistency {untrained['class_consistency']:.3f}, "
          f"Fréchet distance {untrained['frechet_distance']:.3f}")  # fmt: skip
    data = tf.data.Dataset.from_tensor_slices((images[train], labels[train]))
    data = data.shuffle(1400, seed=args.seed).batch(64, drop_remainder=True)
    monitor = QualityMonitor(judge, images[held_out], num_images=1000, every=args.every)
    start = time.perf_counter()
    gan.fit(data, epochs=args.epochs, callbacks=[monitor], verbose=0)
    seconds = time.perf_counter() - start
    for epoch, consistency, distance in monitor.history:
        print(f"epoch {epoch + 1}: class consistency {consistency:.3f}, "
              f"Fréchet distance {distance:.3f}")  # fmt: skip
    _, consistency, distance = monitor.history[-1]
    extra = ""
    generated_labels = np.arange(1000) % 10
    generated = (gan.generate(generated_labels, seed=0), generated_labels)
    if args.judges > 1:
        graded = grade_by_judges(
            generated, judge, (images[train], labels[train]),
            (images[held_out], labels[held_out]), args.judges, args.seed,
        )  # fmt: skip
        figures = ", ".join(f"{seed}: {acc:.3f}, {value:.3f}" for seed, acc, value in graded)
        print(f"judges (seed: held-out accuracy, class consistency of the same images): {figures}")
        values = [value for _, _, value in graded]
        extra = f" judges_mean={np.mean(values):.3f} judges_range={max(values) - min(values):.3f}"
    svm_accuracy, svm_consistency = grade_by_svm(
        generated, (images[train], labels[train]), (images[held_out], labels[held_out])
    )
    print(f"SVC on raw pixels: held-out accuracy {svm_accuracy:.3f}, class consistency "
          f"{svm_consistency:.3f}")  # fmt: skip
    print(f"class_consistency={consistency:.3f} frechet_distance={distance:.3f} "
          f"first_frechet_distance={monitor.history[0][2]:.3f} train_seconds={seconds:.0f} "
          f"svm_class_consistency={svm_consistency:.3f}" + extra)  # fmt: skip


def grade_by_svm(generated, train, held_out):
    """`(held-out accuracy, class consistency)` of an RBF `SVC` trained on the raw pixels
    of `train`, grading the generated images. `generated`, `train` and `held_out` are
    `(images, labels)` pairs (generated labels: the ones they were generated for)."""
    def flat(images):
        return np.asarray(images).reshape(len(images), -1)

    svm = SVC().fit(flat(train[0]), train[1])
    accuracy = np.mean(svm.predict(flat(held_out[0])) == held_out[1])
    return accuracy, np.mean(svm.predict(flat(generated[0])) == generated[1])


def grade_by_judges(generated, judge, train, held_out, count, seed):
    """`(seed, held-out accuracy, class consistency)` of `count` judges (the first is
    `judge`, the others trained on `train`), each grading the same generated images: how
    much of the figure is the judge's. `generated`, `train` and `held_out` are `(images,
    labels)` pairs."""
    generated_images, generated_labels = generated
    graded = []
    for index in range(count):
        judge_seed = seed + 1000 * index
        if index:
            judge = QualityJudge((8, 8, 1), 10, seed=judge_seed)
            judge.fit(*train)
        accuracy = np.mean(judge.predict(held_out[0]) == held_out[1])
        value = judge.measure(generated_images, generated_labels, held_out[0])
        graded.append((judge_seed, accuracy, value["class_consistency"]))
    return graded


if __name__ == "__main__":
    main()
