"""kit.to_hsv: values vs scikit-image and the symmetric range."""

import numpy as np
from skimage import color as skcolor

import keras_accuracy_kit as kit

RANDOM_RGB = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)


def test_to_hsv_matches_skimage_and_symmetric_is_2x_minus_1():
    hsv = skcolor.rgb2hsv(RANDOM_RGB / 255.0)
    np.testing.assert_allclose(kit.to_hsv()(RANDOM_RGB), hsv, atol=1e-5)
    np.testing.assert_allclose(
        kit.to_hsv(output_range="symmetric")(RANDOM_RGB), 2 * hsv - 1, atol=1e-5
    )
