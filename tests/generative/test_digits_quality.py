"""The issue's measure on load_digits (`benchmarks/bench_gan_quality.py`'s recipe and seed 0),
about a minute and a half on 2 cores."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from keras_accuracy_kit.generative import ConditionalGAN, QualityJudge, QualityMonitor

EPOCHS = 60


@pytest.mark.slow
def test_generated_digits_are_recognised_and_the_frechet_distance_falls():
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., None]
    labels = digits.target.astype("int64")
    order = np.random.default_rng(0).permutation(len(images))
    train, held_out = order[:1400], order[1400:]
    judge = QualityJudge((8, 8, 1), 10, seed=0)
    judge.fit(images[train], labels[train])
    assert np.mean(judge.predict(images[held_out]) == labels[held_out]) > 0.9

    decay = keras.optimizers.schedules.CosineDecay(5e-4, EPOCHS * (1400 // 64))
    gan = ConditionalGAN(
        (8, 8, 1), 10, filters=16, learning_rate=decay, augment=["brightness", "translation"],
        ema_decay=0.99, seed=0,
    )  # fmt: skip
    gan.compile()
    untrained = gan.report(images[held_out], labels[held_out], judge=judge)["frechet_distance"]
    data = tf.data.Dataset.from_tensor_slices((images[train], labels[train]))
    monitor = QualityMonitor(judge, images[held_out], num_images=1000, every=10)
    gan.fit(data.shuffle(1400, seed=0).batch(64, drop_remainder=True), epochs=EPOCHS,
            callbacks=[monitor], verbose=0)  # fmt: skip

    epochs, consistency, distance = zip(*monitor.history)
    assert epochs == tuple(range(9, EPOCHS, 10))
    # A generator that ignores the label scores about 0.1; this recipe ends at 0.92-1.00
    # over the seeds measured (README), 0.995-0.999 on seed 0 over three runs, near its
    # peak (the decaying rate):
    assert consistency[-1] >= 0.95
    assert consistency[-1] >= max(consistency) - 0.03
    assert distance[-1] < untrained / 10
    report = gan.report(images[held_out], labels[held_out], judge=judge, num_images=1000)
    assert report["class_consistency"] == pytest.approx(consistency[-1])
    assert report["num_images"] == 1000
