"""kit.to_grayscale: weights, channel count and range options."""

import numpy as np
import pytest
from skimage import color as skcolor

import keras_accuracy_kit as kit

RANDOM_RGB = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)


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


@pytest.mark.parametrize(
    "weights", [(0, 0, 1e300), (1.0, 1.0, 1.0), (-0.5, 1.0, 0.5), (0.3, 0.3), "rec2020"]
)
def test_weights_must_be_a_weighted_mean(weights):
    # Found by the property tests: weights=(0, 0, 1e300) gave infinite gray.
    with pytest.raises(ValueError, match=r"ToGrayscale: `weights` must be one of .*sum to 1|"
                       r"ToGrayscale: `weights` must be one of \['rec601', 'rec709'\]"):
        kit.to_grayscale(weights=weights)


@pytest.mark.parametrize("keep_channels", [np.array([]), True, 3.0, 2])
def test_keep_channels_must_be_1_or_3(keep_channels):
    with pytest.raises(ValueError, match=r"ToGrayscale: `keep_channels` must be 1 or 3"):
        kit.to_grayscale(keep_channels=keep_channels)
