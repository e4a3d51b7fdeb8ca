"""Run by test_conditional_gan.py in a fresh process (two logical CPUs must be set up before
TensorFlow starts): one ConditionalGAN step under a 2-replica MirroredStrategy on a batch
whose halves are the same 4 images, against one step without a strategy on those 4 images.

Each replica then sees the same images, noise and augmentation (the GAN's seeds are
mirrored), so with SGD the strategy's update equals the single device's only if each
replica's gradient is scaled by the replica count before the strategy sums them. Prints
one JSON line."""

import json
import sys

import keras
import numpy as np
import tensorflow as tf


def build(strategy):
    from keras_accuracy_kit.generative import ConditionalGAN

    with strategy.scope():
        gan = ConditionalGAN(
            image_shape=(8, 8, 1), num_classes=3, latent_dim=8, filters=4, seed=3
        )
        for name, player in (
            ("generator", gan.generator),
            ("discriminator", gan.discriminator),
            ("classifier", gan.classifier),
        ):
            optimizer = keras.optimizers.SGD(0.1, name=f"{name}_optimizer")
            optimizer.build(player.trainable_variables)
            setattr(gan, f"{name}_optimizer", optimizer)
        gan.compile()
    return gan


def players(gan):
    return gan.generator.weights + gan.discriminator.weights + gan.classifier.weights


def one_step(gan, images, labels):
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(len(images))
    history = gan.fit(data, epochs=1, verbose=0)
    return [w.numpy() for w in players(gan)], history.history, int(gan.ema_steps.numpy())


def main():
    """Both steps from the same start; returns the JSON-able comparison."""
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(4, 8, 8, 1)).astype("float32")
    labels = np.array([0, 1, 2, 0], "int64")
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    on_replicas, on_one_device = build(mirrored), build(tf.distribute.get_strategy())
    start = [w.numpy() for w in players(on_replicas)]
    for weight, value in zip(players(on_one_device), start):
        weight.assign(value)
    s_end, s_logs, s_steps = one_step(
        on_replicas, np.concatenate([images, images]), np.concatenate([labels, labels])
    )
    d_end, d_logs, d_steps = one_step(on_one_device, images, labels)
    return {
        "replicas": mirrored.num_replicas_in_sync,
        "moved": max(float(np.abs(a - b).max()) for a, b in zip(start, d_end)),
        "difference": max(float(np.abs(a - b).max()) for a, b in zip(s_end, d_end)),
        "losses": [s_logs["discriminator_loss"][0], d_logs["discriminator_loss"][0]],
        "ema_steps": [s_steps, d_steps],
    }


if __name__ == "__main__":
    # Only when run as a script (pytest imports this file for doctests): two logical CPUs
    # before any op runs, and the kit from the checkout given as the first argument.
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
    sys.path.insert(0, sys.argv[1])
    print(json.dumps(main()))
