"""More data from a GAN, measured: few-shot digits with and without generated digits.

The article's last augmentation advice, tried honestly. For each seed, on the few-shot
digits task of `benchmarks/bench_accuracy.py` (10 digits per class to train, 10 to
validate, about 1600 to test):

1. `kit.generative.ConditionalGAN` learns from the 100 training digits, its per-class
   samples written to TensorBoard each few epochs (`kit.reporting.GeneratedSamples`);
2. `gan.report(...)` measures it on the training digits (class consistency, Fréchet
   distance);
3. the same classifier (`kit.ladder.reference_cnn`, the same seed, Adam, early stopping
   on the validation loss) trains on the real digits alone, then on the real digits mixed
   with generated ones (`kit.generative.mix`, 30 % generated);
4. both are scored once on the test digits.

    python examples/gan_augmentation.py --logdir runs/gan --seeds 3
    tensorboard --logdir runs/gan        # IMAGES: generated/per_class

Prints one line per seed and the means; it does not pretend: if the generated digits do
not help, the "with" column says so.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import few_shot_digits, reference_cnn

VALUE_RANGE = (0.0, 16.0)  # load_digits' pixels
#: The GAN of `kit.improve`'s generative rung (`kit.ladder.generated_data`); its rate
#: decays from 5e-4 to 0 over the training (cosine).
GAN_SETTINGS = dict(latent_dim=32, filters=16, augment=["brightness", "translation"], ema_decay=0.99)
GAN_LEARNING_RATE = 5e-4


def train_gan(train, seed, epochs, logdir):
    """The GAN of the 100 training digits, with its per-class grids in `logdir`."""
    keras.utils.set_random_seed(seed)
    batches = -(-len(train[1]) // 32)
    decay = keras.optimizers.schedules.CosineDecay(GAN_LEARNING_RATE, epochs * batches)
    gan = kit.generative.ConditionalGAN(
        (8, 8, 1), num_classes=10, value_range=VALUE_RANGE, learning_rate=decay, seed=seed,
        **GAN_SETTINGS,
    )  # fmt: skip
    gan.compile()
    real = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train[1]), seed=seed)
    samples = kit.reporting.GeneratedSamples(
        logdir, per_class=8, every=max(1, epochs // 10), seed=seed
    )
    gan.fit(real.batch(32), epochs=epochs, callbacks=[samples], verbose=0)
    return gan


def classifier_accuracy(train_data, validation, test, seed, epochs):
    """Test accuracy of `reference_cnn` trained on `train_data` (batched pairs)."""
    keras.utils.set_random_seed(seed)
    model = reference_cnn((8, 8, 1), 10)
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    stop = keras.callbacks.EarlyStopping(
        "val_loss", patience=max(2, epochs // 5), restore_best_weights=True
    )
    scaled = lambda images, labels: (images / VALUE_RANGE[1], labels)  # noqa: E731
    model.fit(
        train_data.map(scaled), validation_data=(validation[0] / 16.0, validation[1]),
        epochs=epochs, callbacks=[stop], verbose=0,
    )  # fmt: skip
    predictions = model.predict(test[0] / 16.0, batch_size=256, verbose=0).argmax(-1)
    return float(np.mean(predictions == test[1]))


def run_seed(seed, logdir, gan_epochs, epochs, per_class_generated=100, fraction=0.3):
    train, validation, test = few_shot_digits(per_class=10, seed=seed)
    gan = train_gan(train, seed, gan_epochs, os.path.join(logdir, f"seed_{seed}"))
    quality = gan.report(train[0], train[1], num_images=1000, seed=seed)
    real = tf.data.Dataset.from_tensor_slices(train).shuffle(100, seed=seed)
    generated = gan.dataset(per_class=per_class_generated, seed=seed).repeat()
    mixed = kit.generative.mix(real, generated, fraction=fraction, seed=seed)
    without = classifier_accuracy(real.batch(16), validation, test, seed, epochs)
    with_generated = classifier_accuracy(mixed.batch(16), validation, test, seed, epochs)
    return {
        "seed": seed,
        "class_consistency": float(quality["class_consistency"]),
        "frechet_distance": float(quality["frechet_distance"]),
        "without": without,
        "with": with_generated,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/gan")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0, 1, ...")
    parser.add_argument("--gan-epochs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=150, help="the classifier's epochs")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.gan_epochs < 1 or args.epochs < 1:
        parser.error("--seeds, --gan-epochs and --epochs must be positive.")
    logdir = args.logdir
    rows = []
    print(
        f"{'seed':>4} {'class consistency':>18} {'Fréchet':>8} {'without GAN':>12} "
        f"{'with GAN':>9}"
    )
    for seed in range(args.seeds):
        row = run_seed(seed, logdir, args.gan_epochs, args.epochs)
        rows.append(row)
        print(
            f"{seed:>4} {row['class_consistency']:>18.3f} {row['frechet_distance']:>8.2f} "
            f"{row['without']:>12.4f} {row['with']:>9.4f}",
            flush=True,
        )
    without = float(np.mean([row["without"] for row in rows]))
    with_generated = float(np.mean([row["with"] for row in rows]))
    print(
        f"mean test accuracy over {len(rows)} seed(s): without {without:.4f}, with generated "
        f"digits {with_generated:.4f} ({100 * (with_generated - without):+.2f} points)"
    )
    print(f"To see the generated digits: tensorboard --logdir {logdir}")
    return {"rows": rows, "without": without, "with": with_generated, "logdir": logdir}


if __name__ == "__main__":
    main()
