"""The guard flags augmentations that change classes on scikit-learn's digits."""

import re
import warnings

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator

import keras_accuracy_kit as kit


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.images[..., None] / 16.0).astype(np.float32), data.target


def test_flips_and_half_turns_are_flagged_small_jitter_is_not(digits, tmp_path):
    images, labels = digits
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(64)
    augmentation = kit.augment(
        horizontal_flip=True,
        vertical_flip=True,
        rotation_range=180,
        seed=0,
    )
    report = kit.check_invariance(dataset, augmentation, logdir=tmp_path)
    assert sorted(report.flagged) == ["horizontal_flip", "rotation_range=180", "vertical_flip"]
    assert report.baseline_rate < 0.05
    assert all(row.change_rate > 0.3 for row in report.rows)
    assert "**changes classes: remove**" in str(report)

    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"]
    assert "augment/invariance" in tags and "augment/invariance/horizontal_flip" in tags
    assert (tmp_path / "augment_invariance_examples.png").exists()

    mild = kit.augment(
        rotation_range=10, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1, seed=0
    )
    report = kit.check_invariance((images, labels), mild, model=report.model)
    assert report.flagged == []
    assert [row.name for row in report.rows] == [
        "rotation_range=10",
        "width_shift_range=0.1",
        "height_shift_range=0.1",
        "zoom_range=0.1",
    ]


def test_horizontal_flip_is_kept_on_mirror_symmetric_classes(digits):
    images, labels = digits
    symmetric = (images + images[:, :, ::-1]) / 2  # every class is its own mirror image
    augmentation = kit.augment(horizontal_flip=True, vertical_flip=True, seed=0)
    with pytest.warns(UserWarning, match=r"Augment\.checked: removed `vertical_flip`") as caught:
        checked = augmentation.checked((symmetric, labels))
    assert len([w for w in caught if "removed" in str(w.message)]) == 1
    assert checked.horizontal_flip is True and checked.vertical_flip is False
    assert checked.seed == 0


def test_a_given_model_is_used_without_labels(digits):
    images, labels = digits

    class Oracle:
        """Predicts the class of the image's left-right centroid: flip changes it."""

        def predict(self, batch, batch_size=None, verbose=0):
            batch = np.asarray(batch)[..., 0]
            cols = np.arange(batch.shape[2])
            centroid = (batch.sum(axis=1) * cols).sum(axis=1) / batch.sum(axis=(1, 2))
            return np.stack([centroid < 3.5, centroid >= 3.5], -1).astype(np.float32)

    bare = tf.data.Dataset.from_tensor_slices(images[:300])
    report = kit.check_invariance(
        bare, kit.augment(horizontal_flip=True, brightness_range=[0.5, 0.9]), model=Oracle()
    )
    assert report.num_images == 300
    rates = {row.name: row.change_rate for row in report.rows}
    assert rates["brightness_range=[0.5, 0.9]"] < 0.02 and rates["horizontal_flip"] > 0.5


def test_without_labels_or_model_the_error_says_what_to_pass(digits):
    images, _ = digits
    with pytest.raises(ValueError, match=r"check_invariance: `dataset` must hold labels.*model="):
        kit.check_invariance(tf.data.Dataset.from_tensor_slices(images), kit.augment())


def test_augmentation_must_be_a_kit_augment():
    with pytest.raises(ValueError, match=r"`augmentation` must be a `kit\.augment\(\.\.\.\)`"):
        kit.check_invariance((np.zeros((4, 8, 8, 1)), np.zeros(4)), lambda x: x)


@pytest.mark.parametrize("margin", [1.0, -0.1, float("nan"), "0.1", None, False])
def test_margin_must_be_a_rate_below_one(margin):
    with pytest.raises(
        ValueError,
        match=r"^check_invariance: `margin` must be a rate in \[0, 1\)\. Received: "
        rf"margin={re.escape(repr(margin))}\. E\.g\. margin=0\.1 flags steps 10 points",
    ):
        kit.check_invariance((np.zeros((4, 8, 8, 1)), np.zeros(4)), kit.augment(), margin=margin)


def test_checked_without_flagged_steps_warns_nothing(digits):
    images, labels = digits
    augmentation = kit.augment(zoom_range=0.1, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checked = augmentation.checked((images[:400], labels[:400]))
    assert checked.get_config() == augmentation.get_config()


def test_the_reference_classifier_leaves_global_random_state_alone(digits):
    images, labels = digits
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    from keras_accuracy_kit.transforms.invariance import fit_reference_classifier

    fit_reference_classifier(tf.constant(images[:64]), labels[:64], epochs=1)
    assert np.random.random() == expected


def test_cval_of_uint8_images_is_read_in_their_units(digits):
    # The steps were resampled as if the images were float: cval=255 on uint8 images was a
    # fill of 255 in [0, 1] units (now rejected as out of range, so this failed).
    images, _ = digits
    uint8 = np.round(images[:64] * 255).astype(np.uint8)

    class MeanBrightness:
        """Class 1 when the image is brighter than 0.35 on average: a white fill changes it."""

        def predict(self, batch, batch_size=None, verbose=0):
            bright = np.asarray(batch).mean(axis=(1, 2, 3)) > 0.35
            return np.stack([~bright, bright], -1).astype(np.float32)

    augmentation = kit.augment(width_shift_range=[4], fill_mode="constant", cval=255, seed=0)
    report = kit.check_invariance(tf.data.Dataset.from_tensor_slices(uint8), augmentation,
                                  model=MeanBrightness())
    white = report.examples["width_shift_range=[4]"].numpy()
    assert white.max() == 1.0 and (white == 1.0).mean() > 0.4  # 4 of 8 columns filled white


def test_a_bad_num_images_is_told_a_count():
    # D22
    with pytest.raises(ValueError, match=r"`num_images` must be a positive integer\. Received: "
                       r"num_images=0\. Pass a whole number of at least 1, e\.g\. num_images=1000"):
        kit.check_invariance((np.zeros((4, 8, 8, 1)), np.zeros(4)), kit.augment(), num_images=0)
