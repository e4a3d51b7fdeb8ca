"""The colour transform classes: output ranges and options, against independent references."""

import itertools

import numpy as np
import pytest
from skimage import color as skcolor

import keras_accuracy_kit as kit

CUBE_CORNERS = np.array(list(itertools.product([0, 255], repeat=3)), np.uint8)[:, None, :]
RANDOM_RGB = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)


def test_to_lab_native_matches_skimage():
    np.testing.assert_allclose(
        kit.to_lab()(RANDOM_RGB), skcolor.rgb2lab(RANDOM_RGB / 255.0), atol=1e-3
    )


def test_to_lab_unit_and_symmetric_follow_the_documented_formulas():
    lab = skcolor.rgb2lab(RANDOM_RGB / 255.0)
    unit = kit.to_lab(output_range="unit")(RANDOM_RGB).numpy()
    symmetric = kit.to_lab(output_range="symmetric")(RANDOM_RGB).numpy()
    np.testing.assert_allclose(unit[..., 0], lab[..., 0] / 100, atol=1e-5)
    np.testing.assert_allclose(unit[..., 1:], (lab[..., 1:] + 128) / 256, atol=1e-5)
    np.testing.assert_allclose(symmetric[..., 0], lab[..., 0] / 50 - 1, atol=1e-5)
    np.testing.assert_allclose(symmetric[..., 1:], lab[..., 1:] / 128, atol=1e-5)


def test_to_hsv_matches_skimage_and_symmetric_is_2x_minus_1():
    hsv = skcolor.rgb2hsv(RANDOM_RGB / 255.0)
    np.testing.assert_allclose(kit.to_hsv()(RANDOM_RGB), hsv, atol=1e-5)
    np.testing.assert_allclose(kit.to_hsv(output_range="symmetric")(RANDOM_RGB), 2 * hsv - 1, atol=1e-5)


@pytest.mark.parametrize("output_range,low,high", [("unit", 0.0, 1.0), ("symmetric", -1.0, 1.0)])
def test_to_yuv_scaled_ranges_span_the_rgb_cube(output_range, low, high):
    yuv = kit.to_yuv(output_range=output_range)(CUBE_CORNERS).numpy()
    assert yuv.min() == pytest.approx(low, abs=1e-6)
    assert yuv.max() == pytest.approx(high, abs=1e-6)
    np.testing.assert_allclose(
        kit.to_yuv()(RANDOM_RGB), skcolor.rgb2yuv(RANDOM_RGB / 255.0), atol=1e-6
    )


def test_to_grayscale_options():
    gray709 = kit.to_grayscale(weights="rec709")(RANDOM_RGB).numpy()
    assert gray709.shape == (64, 64, 1)
    np.testing.assert_allclose(gray709[..., 0], skcolor.rgb2gray(RANDOM_RGB / 255.0), atol=1e-6)
    gray3 = kit.to_grayscale(keep_channels=3, output_range="symmetric")(RANDOM_RGB).numpy()
    assert gray3.shape == (64, 64, 3)
    expected = 2 * (RANDOM_RGB / 255.0) @ np.array([0.2989, 0.5870, 0.1140]) - 1
    for channel in range(3):
        np.testing.assert_allclose(gray3[..., channel], expected, atol=1e-5)


@pytest.mark.parametrize("keep_channels", [0, 2, True, "3"])
def test_to_grayscale_rejects_other_channel_counts(keep_channels):
    with pytest.raises(ValueError, match=r"ToGrayscale: `keep_channels` must be 1 or 3"):
        kit.to_grayscale(keep_channels=keep_channels)


def test_to_lab_rejects_unknown_jit_compile():
    with pytest.raises(ValueError, match=r"ToLab: `jit_compile` must be 'auto', True or False"):
        kit.to_lab(jit_compile="xla")
