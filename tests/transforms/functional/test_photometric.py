"""Per-image colour steps against formulas written out in numpy and tf.image."""

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transforms.functional import photometric


@pytest.mark.parametrize("shape", [(3, 5, 6, 3), (2, 256, 256, 1)])  # plain and XLA paths
def test_brightness_then_contrast_is_one_clipped_affine_map(shape):
    images = np.random.default_rng(0).random(shape).astype(np.float32)
    brightness = np.linspace(0.7, 1.3, shape[0]).astype(np.float32)
    contrast = np.linspace(1.4, 0.6, shape[0]).astype(np.float32)
    bright = images * brightness[:, None, None, None]
    mean = bright.mean(axis=(1, 2), keepdims=True)
    expected = np.clip((bright - mean) * contrast[:, None, None, None] + mean, 0, 1)
    actual = photometric.brightness_contrast(tf.constant(images), brightness, contrast)
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    only = photometric.brightness_contrast(tf.constant(images), contrast=contrast)
    np.testing.assert_allclose(
        only, np.clip(photometric.adjust_contrast(images, contrast), 0, 1), atol=1e-5
    )


def test_contrast_matches_tf_image_adjust_contrast():
    images = np.random.default_rng(1).random((2, 7, 9, 3)).astype(np.float32)
    expected = np.stack([tf.image.adjust_contrast(image, 1.7) for image in images])
    np.testing.assert_allclose(photometric.adjust_contrast(images, [1.7, 1.7]), expected, atol=1e-5)


def test_hue_and_saturation_match_tf_image():
    images = np.random.default_rng(2).random((2, 5, 5, 3)).astype(np.float32)
    actual = photometric.adjust_hue_saturation(images, [0.1, -0.2], [1.0, 1.0])
    expected = [tf.image.adjust_hue(images[0], 0.1), tf.image.adjust_hue(images[1], -0.2)]
    np.testing.assert_allclose(actual, np.stack(expected), atol=1e-4)
    actual = photometric.adjust_hue_saturation(images, [0.0, 0.0], [0.5, 0.5])
    expected = np.stack([tf.image.adjust_saturation(image, 0.5) for image in images])
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_saturation_above_one_saturates_as_tf_image_and_inputs_are_clipped_first():
    images = np.random.default_rng(3).random((2, 6, 6, 3)).astype(np.float32)
    images[:, 0, 0] = [1.3, -0.2, 0.5]  # outside [0, 1]: read as its clipped colour
    clipped = np.clip(images, 0.0, 1.0)
    actual = photometric.adjust_hue_saturation(images, [0.0, 0.0], [1.8, 3.0])
    expected = np.stack(
        [tf.image.adjust_saturation(clipped[0], 1.8), tf.image.adjust_saturation(clipped[1], 3.0)]
    )
    np.testing.assert_allclose(actual, expected, atol=1e-4)
    hsv = tf.image.rgb_to_hsv(actual).numpy()
    assert hsv[..., 1].max() == pytest.approx(1.0) and hsv[..., 1].min() >= 0.0


def test_channel_shift_clips_to_each_images_own_range():
    images = np.stack([np.full((2, 2, 1), 0.2), np.full((2, 2, 1), 0.8)]).astype(np.float32)
    images[0, 0, 0] = 0.6
    out = photometric.channel_shift(images, [0.3, -0.1]).numpy()
    np.testing.assert_allclose(out[0].ravel(), [0.6, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(out[1].ravel(), [0.8] * 4)  # constant image: min = max


def test_erase_boxes_fills_exactly_the_box():
    out = photometric.erase_boxes(tf.ones([2, 4, 5, 1]), [1, 0], [2, 0], [2, 0], [3, 4], 0.5)
    expected = np.ones((2, 4, 5))
    expected[0, 1:3, 2:5] = 0.5
    np.testing.assert_array_equal(out.numpy()[..., 0], expected)
    inner = photometric.erase_boxes(tf.ones([1, 4, 5, 1]), [1], [1], [2], [2], 0.0)
    expected = np.ones((4, 5))
    expected[1:3, 1:3] = 0.0  # a box inside the image: no row or column beyond it
    np.testing.assert_array_equal(inner.numpy()[0, ..., 0], expected)
