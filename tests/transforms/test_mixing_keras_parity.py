"""MixUp and CutMix against Keras 3's own `keras.layers.MixUp` / `keras.layers.CutMix`.

Issue 18 item 7. Given the same draws (partners, weights, pasted box), the kit's images and
labels are exactly what Keras' layers compute from them; the draws follow the same
distributions (Beta(alpha, alpha) weights, uniform partner permutations). The differences
the README lists (CutMix's box placement, seeds, integer labels) are shown here too.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_accuracy_kit.transforms import CutMix, MixUp

pytestmark = pytest.mark.skipif(
    not (hasattr(keras.layers, "MixUp") and hasattr(keras.layers, "CutMix")),
    reason="this Keras has no MixUp/CutMix layers",
)

SEED = tf.constant([7, 11], tf.int64)


def _batch(num=8, size=6, num_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (num, size, size, 3)).astype("float32")
    labels = tf.one_hot(rng.integers(0, num_classes, num), num_classes).numpy()
    return images, labels


def test_mix_up_images_and_labels_are_keras_formula_on_the_same_draws():
    images, labels = _batch()
    ours_images, ours_labels = MixUp(alpha=0.4).apply_with_seed((images, labels), SEED)
    # The kit's draws for this seed, as `MixUp.mix` makes them.
    mix = MixUp(alpha=0.4)
    seeds = tf.random.experimental.stateless_split(SEED, 2)
    transformation = {
        "permutation_order": mix._partners(seeds[0], 8),
        "mix_weight": mix._beta(seeds[1], 8),
    }
    layer = keras.layers.MixUp(alpha=0.4)
    theirs_images = layer.transform_images(images, transformation)
    theirs_labels = layer.transform_labels(labels, transformation)
    np.testing.assert_allclose(ours_images, theirs_images, atol=1e-6)
    np.testing.assert_allclose(ours_labels, theirs_labels, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.2, 1.0, 4.0])
def test_mix_up_weights_follow_the_same_beta_as_keras(alpha):
    num = 4000
    ours = MixUp(alpha=alpha)._beta(SEED, num).numpy()
    theirs = keras.ops.convert_to_numpy(
        keras.random.beta((num,), alpha, alpha, seed=keras.random.SeedGenerator(3))
    )
    reference = stats.beta(alpha, alpha).cdf
    assert stats.kstest(ours, reference).pvalue > 1e-3
    assert stats.kstest(theirs, reference).pvalue > 1e-3
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_partners_are_uniform_permutations_as_keras_shuffle():
    # Over many draws each image is paired with each position equally often (chi-squared).
    num, draws = 5, 3000
    counts = np.zeros((num, num))
    mix = MixUp()
    for index in range(draws):
        partners = mix._partners(tf.constant([index, 1], tf.int64), num).numpy()
        assert sorted(partners) == list(range(num))
        counts[np.arange(num), partners] += 1
    assert stats.chisquare(counts.ravel()).pvalue > 1e-3


def test_cut_mix_labels_mix_by_the_pasted_area_as_keras_does():
    num = 8
    images, labels = _batch(num=num, size=10)
    ours_images, ours_labels = CutMix(alpha=1.0).apply_with_seed((images, labels), SEED)
    # Read the kit's box and partners from the same seed on images that name themselves.
    marked = np.broadcast_to(
        (np.arange(num, dtype="float32") / num)[:, None, None, None], images.shape
    ).copy()
    stamp, _ = CutMix(alpha=1.0).apply_with_seed((marked, labels), SEED)
    source = np.rint(stamp.numpy()[..., 0] * num).astype(int)  # which image each pixel is from
    pasted = source != np.arange(num)[:, None, None]
    partners = np.array([np.unique(s[p])[0] if p.any() else i
                         for i, (s, p) in enumerate(zip(source, pasted))])  # fmt: skip
    masks = np.repeat(pasted[..., None], 3, axis=-1)
    transformation = {
        "permutation_order": partners,
        "batch_masks": masks,
        "mix_weight": (1.0 - pasted.mean(axis=(1, 2))).astype("float32"),  # area kept
    }
    layer = keras.layers.CutMix()
    np.testing.assert_allclose(
        ours_images, layer.transform_images(images, transformation), atol=1e-6
    )
    np.testing.assert_allclose(
        ours_labels, layer.transform_labels(labels, transformation), atol=1e-6
    )
    assert pasted.any()  # the seed pastes something, or this shows nothing


def test_cut_mix_box_may_be_clipped_at_the_border_unlike_keras():
    # A documented difference: the kit places the box's centre uniformly and clips it
    # (Yun et al.'s reference code); Keras keeps the whole box inside the image.
    images, labels = _batch(num=64, size=16)
    mixed, _ = CutMix(alpha=1.0).apply_with_seed((images, labels), SEED)
    pasted = np.any(mixed.numpy() != images, axis=-1)
    touches_border = pasted[:, 0, :].any(axis=1) | pasted[:, -1, :].any(axis=1)
    assert touches_border.sum() > 0
