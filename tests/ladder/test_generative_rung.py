"""The ladder's `generative` rung: per-member GANs that never see the images their member is
judged on, their images mixed in at the stated share, kept only by the common rule."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import accuracy_ladder, few_shot_digits, generated_data
from keras_accuracy_kit.ladder import members as members_lib
from keras_accuracy_kit.ladder.data import DataFacts
from keras_accuracy_kit.ladder.rungs import OPT_IN, RUNGS, TRICKS, Config


def _evidence(folds, num_images=60, num_classes=3, one_hot=False, dtype="float32"):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 16, (num_images, 8, 8, 1)).astype(dtype)
    # Each image's first pixel is its index: what a GAN learns from is then readable.
    images[:, 0, 0, 0] = np.arange(num_images)
    labels = np.arange(num_images) % num_classes
    if one_hot:
        labels = np.eye(num_classes, dtype="float32")[labels]
    half = num_images // 2
    train = tf.data.Dataset.from_tensor_slices((images[:half], labels[:half])).batch(8)
    validation = tf.data.Dataset.from_tensor_slices((images[half:], labels[half:])).batch(8)
    facts = DataFacts((8, 8, 1), num_classes, not one_hot, half, half, (0.0, 16.0), 8)
    return members_lib.Evidence(train, validation, facts, folds, seed=0, batch_size=8), facts


class _FakeGAN:
    """Generates images whose every pixel is `-1 - member index` (never a real image)."""

    def __init__(self, index, dtype):
        self.index, self.dtype = index, dtype

    def generate(self, labels, seed=0):
        return tf.fill((len(labels), 8, 8, 1), tf.cast(-1 - self.index, self.dtype))


def _generated(evidence, facts, dtype="float32"):
    generated = generated_data.GeneratedData(evidence, facts, seed=0)
    generated.gans = [_FakeGAN(i, dtype) for i in range(evidence.num_folds)]
    return generated


def test_each_fold_s_gan_learns_from_the_other_folds_only():
    evidence, facts = _evidence(folds=3)
    generated = generated_data.GeneratedData(evidence, facts, seed=0)
    for index, data in enumerate(generated._member_training_sets()):
        batches = list(data)  # one pass (the GAN's data reshuffles each pass)
        seen = np.concatenate([images[:, 0, 0, 0].numpy() for images, _ in batches])
        labels = np.concatenate([labels.numpy() for _, labels in batches])
        expected = evidence.images[evidence.fold_ids != index][:, 0, 0, 0]
        # Every batch is full (drop_remainder) and none holds a judged image of fold i.
        assert set(seen) <= set(expected) and len(seen) >= len(expected) - 31
        assert not set(seen) & set(evidence.images[evidence.fold_ids == index][:, 0, 0, 0])
        np.testing.assert_array_equal(labels, np.asarray(seen, int) % 3)  # labels follow


def test_the_gan_of_your_split_learns_from_train_only():
    evidence, facts = _evidence(folds=1, one_hot=True)
    (data,) = generated_data.GeneratedData(evidence, facts, seed=0)._member_training_sets()
    batches = list(data)
    seen = np.concatenate([images[:, 0, 0, 0].numpy() for images, _ in batches])
    labels = np.concatenate([labels.numpy() for _, labels in batches])
    assert sorted(seen) == list(range(30))  # the 30 training images (one batch of 30)
    np.testing.assert_array_equal(labels, np.asarray(seen, int) % 3)  # one-hot -> class ids


def test_generated_images_train_their_own_member_only_and_every_member_in_the_refit():
    split = members_lib._split_for_members(3, train=True)
    fold_ids = tf.constant([0, 1, 2, -1, -2, -3, -4])
    _, _, weights = split(tf.zeros((7, 1)), tf.zeros(7), fold_ids)
    np.testing.assert_array_equal(
        np.stack([w.numpy() for w in weights]),
        [  # real fold 0, 1, 2; refit; generated for member 0, 1, 2
            [0, 1, 1, 1, 1, 0, 0],
            [1, 0, 1, 1, 0, 1, 0],
            [1, 1, 0, 1, 0, 0, 1],
        ],
    )
    judged = members_lib._split_for_members(3, train=False)(tf.zeros((7, 1)), tf.zeros(7), fold_ids)
    assert np.stack([w.numpy() for w in judged[2]])[:, 3:].sum() == 0  # never judged


@pytest.mark.parametrize("folds", [1, 2, 3, 5])
def test_each_member_trains_on_the_stated_share_of_generated_images(folds):
    share = generated_data.mixed_fraction(folds, all_data=False)
    # By hand: member i sees share / k of the stream generated and (1 - share)(k - 1) / k real.
    mine, real = share / folds, (1 - share) * (folds - 1) / folds if folds > 1 else 1 - share
    assert mine / (mine + real) == pytest.approx(generated_data.GENERATED_FRACTION)
    assert generated_data.mixed_fraction(folds, all_data=True) == generated_data.GENERATED_FRACTION


def test_the_mixed_stream_gives_each_member_its_share_and_only_its_own_images():
    evidence, facts = _evidence(folds=3, num_images=600)
    generated = _generated(evidence, facts)
    data = evidence.training_data(lambda d: d, generated=generated)
    batches = evidence.batches_per_epoch(generated=True)
    seen = [0.0] * 3
    own = [0.0] * 3
    real_seen = 0
    for images, _, weights in accuracy_ladder._repeated(data, batches).take(batches * 4):
        first = images[:, 0, 0, 0].numpy()
        is_generated = (images.numpy() < 0).all(axis=(1, 2, 3))
        real_seen += int((~is_generated).sum())
        for member, weight in enumerate(weights):
            weight = weight.numpy()
            seen[member] += weight.sum()
            own[member] += weight[is_generated].sum()
            # A member's generated images are its own GAN's (pixel value -1 - member).
            assert np.all(first[is_generated & (weight > 0)] == -1 - member)
    for member in range(3):
        assert own[member] / seen[member] == pytest.approx(0.3, abs=0.03)
    # An epoch is a pass over the real images (600 per epoch, 4 epochs).
    assert real_seen == pytest.approx(2400, rel=0.05)


def test_on_your_split_the_mix_keeps_the_labels_format_and_dtype():
    evidence, facts = _evidence(folds=1, one_hot=True, dtype="uint8")
    generated = _generated(evidence, facts, dtype="uint8")
    data = evidence.training_data(lambda d: d, generated=generated)
    images, labels = next(iter(data.unbatch().batch(1000)))
    assert images.dtype == tf.uint8 and labels.shape[1:] == (3,) and labels.dtype == tf.float32
    fake = (images.numpy() == 255).all(axis=(1, 2, 3))  # uint8(-1)
    assert 0.15 < fake.mean() < 0.45
    np.testing.assert_array_equal(labels.numpy()[fake].sum(-1), 1.0)  # one-hot rows
    # Generated labels take turns over the classes (a balanced prefix).
    assert set(labels.numpy()[fake].argmax(-1)) == {0, 1, 2}


def test_generative_is_opt_in_and_follows_augmentation():
    assert "generative" in TRICKS and OPT_IN == ("generative",)
    assert "generative" not in accuracy_ladder._check_tricks("auto")
    assert accuracy_ladder._check_tricks(["generative", "augment"]) == ["augment", "generative"]
    names = [rung.name for rung in RUNGS]
    assert names.index("generative") == names.index("augment") + 1
    config = dataclasses.replace(Config(epochs=5), generative=True)
    assert config.regularised and config.hparams()["generative"] is True


def test_large_images_skip_the_rung_with_the_reason():
    facts = DataFacts((96, 96, 3), 3, True, 10, 10, (0.0, 255.0), 8)
    reason = generated_data.GeneratedData.skip_reason(facts)
    assert "64 px" in reason
    assert generated_data.GeneratedData.skip_reason(dataclasses.replace(facts, image_shape=(32, 32, 3))) is None


@pytest.mark.parametrize("folds", [1, 3])
def test_a_ladder_with_the_generative_rung_trains_a_gan_per_member_and_refits(
    tmp_path, monkeypatch, folds
):
    monkeypatch.setattr(generated_data, "GAN_STEPS", 6)
    trained = []
    train_gans = generated_data.GeneratedData.train

    def spy(self, deadline=None):
        trained.append(self)
        return train_gans(self, deadline)

    monkeypatch.setattr(generated_data.GeneratedData, "train", spy)
    # Kept whatever it scores: the refit then trains on generated images too.
    monkeypatch.setattr(accuracy_ladder._Ladder, "_judge", lambda self, outcome, best: True)
    train, validation, _ = few_shot_digits(per_class=4, seed=0)
    result = kit.improve(
        kit.ladder.tutorial_cnn, train, validation, tricks=["generative"], folds=folds,
        epochs=2, budget=60, ensemble=False, tta=False, refit=True,
        logdir=str(tmp_path / "runs"), verbose=0,
    )  # fmt: skip
    names = [step.name for step in result.steps]
    assert names[:2] == ["baseline", "generative"] and "refit" in names
    assert "GAN" in result.steps[1].change
    (generated,) = trained  # trained once, reused by the refit
    assert len(generated.gans) == folds
    assert all(gan.ema_steps.numpy() == 6 for gan in generated.gans)
    versions = kit.History(result.directory).versions()
    assert [v.configuration["hparams"]["generative"] for v in versions[:2]] == [False, True]
    assert result.best_model.predict(validation[0][:4], verbose=0).shape == (4, 10)
