"""MixUp and CutMix mix images and one-hot labels alike, reproducibly, and reject class ids."""

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transforms import CutMix, MixUp


def constant_images(num=16, size=8):
    """Image i is filled with value i / num, so a mix is readable from the pixel values."""
    values = np.arange(num, dtype=np.float32) / num
    return np.broadcast_to(values[:, None, None, None], (num, size, size, 3)).copy(), values


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_labels_mix_in_the_same_proportion_as_the_images(cls):
    images, values = constant_images()
    labels = tf.one_hot(np.arange(16), 16)
    mixed_images, mixed_labels = cls(alpha=1.0, seed=0)(images, labels)
    np.testing.assert_allclose(tf.reduce_sum(mixed_labels, -1), 1.0, atol=1e-6)
    # Mean pixel value = label-weighted mean of the source values.
    np.testing.assert_allclose(
        tf.reduce_mean(mixed_images, axis=[1, 2, 3]), mixed_labels.numpy() @ values, atol=1e-5
    )
    assert (mixed_labels.numpy().max(axis=-1) < 1).any()


def test_cut_mix_pastes_one_box_of_the_partner():
    images, values = constant_images()
    mixed, labels = CutMix(alpha=1.0, seed=1)(images, tf.one_hot(np.arange(16), 16))
    for image, label in zip(mixed.numpy(), labels.numpy()):
        assert len(np.unique(image)) <= 2
        assert set(np.round(np.unique(image), 5)) <= set(np.round(values[label > 0], 5))


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_dataset_apply_reproduces_and_each_epoch_differs(cls):
    images, _ = constant_images(32)
    labels = tf.one_hot(np.arange(32) % 4, 4)

    def pipeline():
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
        return dataset.apply(cls(seed=3))

    first = pipeline()
    epoch_1, epoch_2 = [y.numpy() for _, y in first], [y.numpy() for _, y in first]
    rerun = [y.numpy() for _, y in pipeline()]
    assert all(np.array_equal(a, b) for a, b in zip(epoch_1, rerun))
    assert not all(np.array_equal(a, b) for a, b in zip(epoch_1, epoch_2))


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_dicts_keep_their_other_keys(cls):
    images, _ = constant_images(8)  # (with 4, seed 0 happens to draw the identity pairing)
    weights = np.arange(8, dtype=np.float32)
    element = {"images": images, "labels": tf.one_hot(np.arange(8) % 4, 4), "weights": weights}
    out = cls(seed=0)(element)
    assert sorted(out) == ["images", "labels", "weights"]
    # The other keys pass through untouched; images and labels are mixed exactly as the
    # same seed mixes an `(images, labels)` pair.
    np.testing.assert_array_equal(out["weights"], element["weights"])
    images_reference, labels_reference = cls(seed=0)((images, element["labels"]))
    np.testing.assert_allclose(out["images"], images_reference, atol=1e-6)
    np.testing.assert_allclose(out["labels"], labels_reference, atol=1e-6)
    assert not np.allclose(out["images"], images)  # mixed, not passed through


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_integer_labels_are_rejected_with_the_fix(cls):
    images, _ = constant_images(4)
    with pytest.raises(
        ValueError,
        match=rf"{cls.__name__}: `labels` must be one-hot or class probabilities, float of "
        r"shape \(batch, num_classes\)\. Received: labels\.dtype=int64, labels\.shape=\(4,\)\. "
        r"Convert class ids with `tf\.one_hot\(labels, num_classes\)`",
    ):
        cls()(images, np.arange(4))


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_unbatched_images_and_bare_images_are_rejected(cls):
    images, _ = constant_images(4)
    with pytest.raises(ValueError, match=r"`images` must be a batch \(rank 4\).*after `batch\(\)`"):
        cls()(images[0], tf.one_hot(0, 4)[None])
    with pytest.raises(ValueError, match=r"elements must be `\(images, one_hot_labels\)` pairs"):
        cls()(tf.constant(images))


@pytest.mark.parametrize("alpha", [0, -1.0, "1"])
def test_bad_alpha_is_rejected(alpha):
    with pytest.raises(ValueError, match=r"MixUp: `alpha` must be a positive number"):
        MixUp(alpha=alpha)


def test_config_round_trip():
    mix = CutMix(alpha=0.5, seed=4, value_range=(0, 255))
    assert CutMix.from_config(mix.get_config()).get_config() == {
        "alpha": 0.5,
        "seed": 4,
        "value_range": [0.0, 255.0],
    }


# -- Issue 15 regressions ---------------------------------------------------------------


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_mismatched_image_and_label_counts_are_rejected(cls):
    # D20: mismatched counts gave raw shape errors.
    images, _ = constant_images(4)
    with pytest.raises(
        ValueError,
        match=rf"{cls.__name__}: `labels` must have one row per image\. Received: "
        r"images\.shape=\(4, 8, 8, 3\) and labels\.shape=\(3, 3\)\. Batch images and labels",
    ):
        cls(seed=0)(images, tf.one_hot([0, 1, 2], 3))


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_mismatched_counts_of_unknown_size_fail_on_the_first_batch(cls):
    # D20, with batch sizes known only at run time.
    images, _ = constant_images(4)
    dataset = tf.data.Dataset.from_generator(
        lambda: iter([(images, np.eye(3, dtype=np.float32))]),
        output_signature=(
            tf.TensorSpec([None, 8, 8, 3], tf.float32),
            tf.TensorSpec([None, 3], tf.float32),
        ),
    )
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`labels` must have one row per image.*\[4 8 8 3\]"
    ):
        list(dataset.apply(cls(seed=0)))


@pytest.mark.parametrize("alpha", [np.inf, np.nan, -np.inf, 1e300, 1e-300, 0.0])
def test_alpha_outside_what_float32_can_sample_is_rejected(alpha):
    # D20: MixUp(alpha=inf) gave all-NaN images.
    with pytest.raises(ValueError, match=r"MixUp: `alpha` must be a positive number, from 1e-06"):
        MixUp(alpha=alpha)


@pytest.mark.parametrize("cls", [MixUp, CutMix])
@pytest.mark.parametrize("alpha", [1e-6, 1e6])
def test_extreme_alphas_give_finite_mixes(cls, alpha):
    images, _ = constant_images()
    mixed, labels = cls(alpha=alpha, seed=0)(images, tf.one_hot(np.arange(16), 16))
    assert np.isfinite(mixed).all() and np.isfinite(labels).all()
    np.testing.assert_allclose(tf.reduce_sum(labels, -1), 1.0, atol=1e-5)


@pytest.mark.parametrize("alpha", [0.01, 0.2, 1.0, 5.0])
def test_mixing_weights_follow_beta_alpha_alpha(alpha):
    # Plain gamma draws underflowed for small alpha: Beta(0.01, 0.01) came out near 0 only.
    from scipy import stats

    weights = MixUp(alpha=alpha, seed=0)._beta(tf.constant([3, 4], tf.int64), 4000).numpy()
    assert np.isfinite(weights).all() and ((weights >= 0) & (weights <= 1)).all()
    # The distribution function at points from the tails to the middle (float32 saturates
    # the tails to exactly 0 and 1, which a KS test against the exact CDF would punish).
    points = np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6])
    observed = (weights[:, None] <= points).mean(axis=0)
    np.testing.assert_allclose(observed, stats.beta(alpha, alpha).cdf(points), atol=0.03)


@pytest.mark.parametrize("cls", [MixUp, CutMix])
@pytest.mark.parametrize("seed", [2**63, -(2**63) - 1])
def test_seeds_beyond_int64_are_rejected(cls, seed):
    # D18
    with pytest.raises(ValueError, match=rf"{cls.__name__}: `seed` must be an int64"):
        cls(seed=seed)


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_float_images_in_0_255_under_the_default_range_fail_with_the_fix(cls):
    # Issue 18 ([0, 255] trap) and D16 (NaN pixels), as for every transform.
    images, _ = constant_images(4)
    labels = tf.one_hot(np.arange(4), 4)
    with pytest.raises(ValueError, match=r"value_range=\(0, 255\)"):
        cls(seed=0)(images * 255, labels)
    images[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"must be finite"):
        cls(seed=0)(images, labels)
