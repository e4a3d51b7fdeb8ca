"""Colour conversions against scikit-image (the independent reference) and tf.image."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

from keras_accuracy_kit.transforms import functional as F


def random_rgb(shape, dtype=np.float64):
    return np.random.default_rng(0).random(shape).astype(dtype)


def all_8bit_colours_sample(num_colours=200_000):
    """A random sample of the 16.7 M 8-bit colours plus the 8 corners of the RGB cube."""
    codes = np.random.default_rng(1).choice(256**3, size=num_colours, replace=False)
    rgb = np.stack([codes // 65536, (codes // 256) % 256, codes % 256], axis=-1)
    corners = np.array(list(itertools.product([0, 255], repeat=3)))
    return np.concatenate([rgb, corners]).astype(np.uint8)


@pytest.mark.parametrize("jit_compile", [True, False])
def test_rgb_to_lab_matches_skimage_on_random_floats(jit_compile):
    rgb = random_rgb((4, 64, 64, 3))
    ours = F.rgb_to_lab(rgb, jit_compile=jit_compile).numpy()
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, skcolor.rgb2lab(rgb), rtol=0, atol=1e-3)


def test_rgb_to_lab_matches_skimage_on_8bit_colours():
    rgb8 = all_8bit_colours_sample()
    reference = skcolor.rgb2lab(rgb8.astype(np.float64)[None] / 255.0)[0]
    from_uint8 = F.rgb_to_lab(rgb8).numpy()
    from_float64 = F.rgb_to_lab(rgb8.astype(np.float64) / 255.0).numpy()
    assert np.abs(from_float64 - reference).max() <= 1e-3
    # uint8 input runs in float32: still within the same bound.
    assert np.abs(from_uint8 - reference).max() <= 1e-3


def test_rgb_to_lab_float32_within_tolerance():
    rgb = random_rgb((2, 32, 32, 3), np.float32)
    ours = F.rgb_to_lab(rgb).numpy()
    assert ours.dtype == np.float32
    reference = skcolor.rgb2lab(rgb.astype(np.float64))
    assert np.abs(ours - reference).max() <= 1e-3


def test_xla_and_graph_paths_agree():
    rgb = tf.constant(random_rgb((2, 16, 16, 3), np.float32))
    np.testing.assert_allclose(
        F.rgb_to_lab(rgb, jit_compile=True), F.rgb_to_lab(rgb, jit_compile=False), atol=1e-4
    )
    lab = F.rgb_to_lab(rgb)
    np.testing.assert_allclose(
        F.lab_to_rgb(lab, jit_compile=True), F.lab_to_rgb(lab, jit_compile=False), atol=1e-5
    )


def test_lab_round_trip_within_tolerance():
    rgb = np.concatenate([random_rgb((50_000, 3)), all_8bit_colours_sample(50_000) / 255.0])
    back = F.lab_to_rgb(F.rgb_to_lab(rgb)).numpy()
    assert np.abs(back - rgb).max() <= 1e-3


def test_lab_to_rgb_matches_skimage_including_out_of_gamut_clipping():
    rng = np.random.default_rng(2)
    lab = np.stack(
        [
            rng.uniform(0, 100, 20_000),
            rng.uniform(-128, 128, 20_000),
            rng.uniform(-128, 128, 20_000),
        ],
        axis=-1,
    )
    with pytest.warns(UserWarning):  # scikit-image warns about negative Z values
        reference = skcolor.lab2rgb(lab)
    np.testing.assert_allclose(F.lab_to_rgb(lab).numpy(), reference, rtol=0, atol=1e-3)


def test_rgb_to_hsv_matches_skimage():
    rgb = np.concatenate(
        [
            random_rgb((10_000, 3)),
            all_8bit_colours_sample(10_000) / 255.0,
            # Grays (zero chroma), black, and ties between channels.
            np.array([[0.5, 0.5, 0.5], [0, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1]]),
        ]
    )
    ours = F.rgb_to_hsv(rgb).numpy()
    np.testing.assert_allclose(ours, skcolor.rgb2hsv(rgb), rtol=0, atol=1e-5)


def test_hsv_to_rgb_matches_skimage():
    hsv = random_rgb((10_000, 3))
    np.testing.assert_allclose(F.hsv_to_rgb(hsv).numpy(), skcolor.hsv2rgb(hsv), rtol=0, atol=1e-5)


def test_grayscale_rec709_matches_skimage_rgb2gray():
    rgb = random_rgb((3, 20, 20, 3))
    gray = F.rgb_to_grayscale(rgb, weights="rec709").numpy()
    assert gray.shape == (3, 20, 20, 1)
    np.testing.assert_allclose(gray[..., 0], skcolor.rgb2gray(rgb), rtol=0, atol=1e-6)


def test_grayscale_rec601_matches_tf_image():
    rgb = random_rgb((3, 20, 20, 3), np.float32)
    np.testing.assert_allclose(
        F.rgb_to_grayscale(rgb), tf.image.rgb_to_grayscale(rgb), rtol=0, atol=1e-6
    )


def test_grayscale_keep_channels_three_repeats_gray():
    rgb = random_rgb((5, 5, 3))
    gray3 = F.rgb_to_grayscale(rgb, keep_channels=3).numpy()
    assert gray3.shape == (5, 5, 3)
    np.testing.assert_array_equal(gray3[..., 0], gray3[..., 2])


def test_grayscale_custom_weights():
    gray = F.rgb_to_grayscale(np.array([[0.2, 0.4, 0.6]]), weights=(1.0, 0.0, 0.0))
    np.testing.assert_allclose(gray.numpy(), [[0.2]])


def test_rgb_to_yuv_matches_skimage():
    rgb = random_rgb((1000, 3))
    np.testing.assert_allclose(F.rgb_to_yuv(rgb).numpy(), skcolor.rgb2yuv(rgb), rtol=0, atol=1e-6)
    np.testing.assert_allclose(F.yuv_to_rgb(F.rgb_to_yuv(rgb)).numpy(), rgb, atol=1e-6)


def test_uint8_input_is_scaled_by_1_over_255():
    rgb8 = all_8bit_colours_sample(1000)
    np.testing.assert_allclose(F.rgb_to_hsv(rgb8).numpy(), skcolor.rgb2hsv(rgb8 / 255.0), atol=1e-5)


def test_unit_and_symmetric_ranges_bound_the_srgb_gamut():
    rgb = all_8bit_colours_sample(100_000)
    lab = F.rgb_to_lab(rgb)
    lab_ranges = [(0, 100), (-128, 128), (-128, 128)]
    unit = F.rescale_channels(lab, lab_ranges, "unit").numpy()
    symmetric = F.rescale_channels(lab, lab_ranges, "symmetric").numpy()
    assert unit.min() >= -1e-5 and unit.max() <= 1 + 1e-5
    assert symmetric.min() >= -1 - 1e-5 and symmetric.max() <= 1 + 1e-5
    # Hand-derived: L = 50 maps to 0.5 (unit) and 0 (symmetric).
    np.testing.assert_allclose(
        F.rescale_channels(tf.constant([[50.0, 0.0, 64.0]]), lab_ranges, "symmetric"),
        [[0.0, 0.0, 0.5]],
    )


@pytest.mark.parametrize("function", [F.rgb_to_lab, F.rgb_to_hsv, F.rgb_to_yuv, F.rgb_to_grayscale])
@pytest.mark.parametrize("channels", [1, 4])
def test_colour_conversion_rejects_non_rgb(function, channels):
    with pytest.raises(
        ValueError,
        match=rf"{function.__name__}: `images` must have 3 channels.*"
        rf"Received: images.shape=.*{channels}\).*image\[\.\.\., :3\]",
    ):
        function(np.zeros((4, 4, channels), np.float32))


def test_colour_conversion_rejects_unsupported_dtype():
    with pytest.raises(ValueError, match=r"must be uint8, uint16 or a float dtype.*int32"):
        F.rgb_to_lab(np.zeros((4, 4, 3), np.int32))


def test_unknown_grayscale_weights_lists_valid_names():
    with pytest.raises(ValueError, match=r"\['rec601', 'rec709'\].*weights='bt2020'"):
        F.rgb_to_grayscale(np.zeros((2, 2, 3)), weights="bt2020")


def test_conversions_work_inside_tf_function_with_unknown_sizes():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
    def convert(image):
        return F.rgb_to_lab(image), F.rgb_to_hsv(image), F.rgb_to_grayscale(image)

    rgb = random_rgb((7, 9, 3), np.float32)
    lab, hsv, gray = convert(rgb)
    np.testing.assert_allclose(lab, skcolor.rgb2lab(rgb.astype(np.float64)), atol=1e-3)
    assert hsv.shape == (7, 9, 3) and gray.shape == (7, 9, 1)


def test_a_single_pixel_converts_both_ways_as_in_skimage():
    """Any rank with 3 channels last, a single `[r, g, b]` pixel (rank 1) included."""
    pixel = np.array([0.2, 0.4, 0.6])
    lab = F.rgb_to_lab(pixel).numpy()
    np.testing.assert_allclose(lab, skcolor.rgb2lab(pixel[None, None])[0, 0], atol=1e-3)
    np.testing.assert_allclose(F.lab_to_rgb(lab).numpy(), pixel, atol=1e-4)
    hsv = F.rgb_to_hsv(pixel).numpy()
    np.testing.assert_allclose(hsv, skcolor.rgb2hsv(pixel[None, None])[0, 0], atol=1e-6)
    np.testing.assert_allclose(F.hsv_to_rgb(hsv).numpy(), pixel, atol=1e-6)


@pytest.mark.parametrize("inverse", [F.lab_to_rgb, F.hsv_to_rgb, F.yuv_to_rgb])
def test_an_inverse_conversion_refuses_a_scalar_with_the_channel_message(inverse):
    with pytest.raises(ValueError, match=r"`images` must have 3 channels on the last axis"):
        inverse(tf.constant(0.5))
