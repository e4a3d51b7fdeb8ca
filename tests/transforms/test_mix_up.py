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
    images, _ = constant_images(4)
    element = {"images": images, "labels": tf.one_hot([0, 1, 2, 3], 4), "weights": np.ones(4)}
    out = cls(seed=0)(element)
    assert sorted(out) == ["images", "labels", "weights"]


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
