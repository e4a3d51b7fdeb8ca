"""kit.to_lab: native units vs scikit-image, the documented unit/symmetric formulas."""

import numpy as np
import pytest
from skimage import color as skcolor

import keras_accuracy_kit as kit

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


def test_to_lab_rejects_unknown_jit_compile():
    with pytest.raises(ValueError, match=r"ToLab: `jit_compile` must be 'auto', True or False"):
        kit.to_lab(jit_compile="xla")
