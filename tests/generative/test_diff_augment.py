import numpy as np
import tensorflow as tf

from keras_accuracy_kit.generative.diff_augment import cutout, diff_augment, translation


def test_translation_equals_a_zero_filled_numpy_shift():
    images = tf.random.stateless_uniform((16, 8, 8, 2), [0, 1], -1, 1)
    out = translation(images, tf.constant([3, 4]), ratio=0.25).numpy()
    found = 0
    for image, shifted in zip(images.numpy(), out):
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                reference = np.zeros_like(image)
                src = image[max(0, -dy) : 8 - max(0, dy), max(0, -dx) : 8 - max(0, dx)]
                reference[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
                if np.allclose(reference, shifted, atol=1e-6):
                    found += 1
                    break
            else:
                continue
            break
    assert found == 16


def test_augmentation_is_a_function_of_the_seed_and_passes_gradients():
    images = tf.random.stateless_uniform((4, 8, 8, 1), [0, 2], -1, 1)
    a = diff_augment(images, tf.constant([5, 6]))
    b = diff_augment(images, tf.constant([5, 6]))
    c = diff_augment(images, tf.constant([5, 7]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(diff_augment(images, tf.constant([5, 6])))
    gradient = tape.gradient(total, images)
    assert gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0


def test_cutout_zeroes_at_most_one_square_per_image():
    out = cutout(tf.ones((32, 8, 8, 1)), tf.constant([1, 1]), ratio=0.5).numpy()
    zeros = (out == 0).sum(axis=(1, 2, 3))
    assert zeros.max() <= 16 and zeros.min() >= 4
