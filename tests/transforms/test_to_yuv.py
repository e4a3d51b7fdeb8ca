"""kit.to_yuv: values vs scikit-image and the scaled ranges over the RGB cube."""

import itertools

import numpy as np
import pytest
from skimage import color as skcolor

import keras_accuracy_kit as kit

CUBE_CORNERS = np.array(list(itertools.product([0, 255], repeat=3)), np.uint8)[:, None, :]
RANDOM_RGB = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)


@pytest.mark.parametrize("output_range,low,high", [("unit", 0.0, 1.0), ("symmetric", -1.0, 1.0)])
def test_to_yuv_scaled_ranges_span_the_rgb_cube(output_range, low, high):
    yuv = kit.to_yuv(output_range=output_range)(CUBE_CORNERS).numpy()
    assert yuv.min() == pytest.approx(low, abs=1e-6)
    assert yuv.max() == pytest.approx(high, abs=1e-6)
    np.testing.assert_allclose(
        kit.to_yuv()(RANDOM_RGB), skcolor.rgb2yuv(RANDOM_RGB / 255.0), atol=1e-6
    )
