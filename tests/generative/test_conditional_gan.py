import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.generative import ConditionalGAN, mix


def tiny_gan(**kwargs):
    arguments = dict(image_shape=(8, 8, 1), num_classes=3, latent_dim=8, filters=4, seed=3)
    arguments.update(kwargs)
    return ConditionalGAN(**arguments)


def tiny_data(dtype="float32", count=24):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(count, 8, 8, 1))
    if dtype == "uint8":
        images = (images * 255).astype("uint8")
    return images.astype(dtype), (np.arange(count) % 3).astype("int64")


def test_generated_images_have_the_declared_shape_range_and_dtype():
    gan = tiny_gan(value_range=(-5.0, 3.0))
    images = gan.generate(np.array([0, 1, 2, 2]), seed=1).numpy()
    assert images.shape == (4, 8, 8, 1) and images.dtype == np.float32
    assert images.min() >= -5.0 and images.max() <= 3.0 and images.std() > 0
    uint8 = tiny_gan(image_dtype="uint8").generate(np.arange(3), seed=1).numpy()
    assert uint8.dtype == np.uint8


def test_same_seed_gives_the_same_gan_and_samples_and_another_seed_does_not():
    labels = np.array([0, 1, 2])
    a = tiny_gan(seed=3).generate(labels, seed=1).numpy()
    b = tiny_gan(seed=3).generate(labels, seed=1).numpy()
    c = tiny_gan(seed=4).generate(labels, seed=1).numpy()
    d = tiny_gan(seed=3).generate(labels, seed=2).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)


def test_fit_trains_both_players_and_the_ema_generator_follows():
    images, labels = tiny_data()
    gan = tiny_gan()
    gan.compile()
    before = [w.numpy().copy() for w in gan.ema_generator.weights]
    history = gan.fit(
        tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=2, verbose=0
    )
    assert set(history.history) == {"discriminator_loss", "generator_loss", "classifier_loss"}
    assert all(np.isfinite(v).all() for v in history.history.values())
    after = [w.numpy() for w in gan.ema_generator.weights]
    assert any(not np.array_equal(x, y) for x, y in zip(before, after))
    # The EMA is between its start and the generator's weights, not a copy of either.
    live = [w.numpy() for w in gan.generator.weights]
    assert any(not np.allclose(x, y) for x, y in zip(after, live))


def test_the_auxiliary_classifier_learns_from_real_images_only():
    """Two GANs that differ only in their generator's weights make different fakes; after
    one step on the same batch their classifiers must be the same (it never sees a fake).
    With `class_loss_weight=0` the classifier is not trained and has no loss in the logs."""
    images, labels = tiny_data(count=8)
    batch = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    gans = [tiny_gan(), tiny_gan()]
    for weight in gans[1].generator.trainable_weights:
        weight.assign(weight * 1.5)
    start = [w.numpy() for w in gans[0].classifier.weights]
    for gan in gans:
        gan.compile()
        gan.fit(batch, epochs=1, verbose=0)
    after = [[w.numpy() for w in gan.classifier.weights] for gan in gans]
    assert any(not np.allclose(x, y) for x, y in zip(start, after[0]))
    for x, y in zip(*after):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)

    unguided = tiny_gan(class_loss_weight=0.0)
    unguided.compile()
    history = unguided.fit(batch, epochs=1, verbose=0)
    assert set(history.history) == {"discriminator_loss", "generator_loss"}
    for before, weight in zip(start, unguided.classifier.weights):
        np.testing.assert_array_equal(before, weight.numpy())


def test_dataset_is_a_balanced_source_in_the_data_dtype_and_mix_is_seeded():
    images, labels = tiny_data("uint8")
    gan = tiny_gan(image_dtype="uint8")
    generated = gan.dataset(per_class=4, seed=0)
    pairs = list(generated.as_numpy_iterator())
    assert len(pairs) == 12 and pairs[0][0].dtype == np.uint8
    assert [int(label) for _, label in pairs[:6]] == [0, 1, 2, 0, 1, 2]
    again = [image for image, _ in gan.dataset(per_class=4, seed=0).as_numpy_iterator()]
    np.testing.assert_array_equal(np.stack(again), np.stack([p[0] for p in pairs]))

    real = tf.data.Dataset.from_tensor_slices((images, labels))
    mixed = mix(real, generated.repeat(), fraction=0.5, seed=7)
    assert mixed.element_spec[1].dtype == tf.int64
    first = [int(label) for _, label in mixed.take(20)]
    assert first == [int(label) for _, label in mix(real, generated.repeat(), 0.5, 7).take(20)]
    everything = list(mix(real, generated.repeat(), fraction=1.0, seed=0).take(5))
    assert all(image.dtype == tf.uint8 for image, _ in everything)


def test_config_round_trips_with_the_seed():
    gan = tiny_gan(augment=["translation"], ema_decay=0.9, class_loss_weight=0.5)
    config = gan.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["seed"] == 3 and config["augment"] == ["translation"]
    clone = ConditionalGAN.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(
        clone.generate(np.arange(3), seed=0).numpy(), gan.generate(np.arange(3), seed=0).numpy()
    )


def test_a_learning_rate_schedule_drives_both_optimizers_and_round_trips():
    decay = keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=3)
    gan = tiny_gan(learning_rate=decay)
    gan.compile()
    images, labels = tiny_data()
    gan.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=1, verbose=0)
    # 3 steps of a 3-step cosine decay: the rate has reached 0 (a float rate stays put).
    for optimizer in (gan.generator_optimizer, gan.discriminator_optimizer):
        assert int(optimizer.iterations.numpy()) == 3
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.0, abs=1e-9)
    config = gan.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    clone = ConditionalGAN.from_config(config)
    assert clone.learning_rate.get_config() == decay.get_config()
    assert float(clone.generator_optimizer.learning_rate.numpy()) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="a positive number or a keras.optimizers.schedules"):
        tiny_gan(learning_rate="cosine")


def test_keras_file_round_trip_in_a_fresh_process_gives_the_same_samples(tmp_path):
    images, labels = tiny_data()
    gan = tiny_gan(learning_rate=keras.optimizers.schedules.CosineDecay(1e-3, 100))
    gan.compile()
    gan.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    expected = gan.generate(np.arange(6) % 3, seed=5).numpy()
    np.save(tmp_path / "expected.npy", expected)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.generate(np.arange(6) % 3, seed=5).numpy(), expected)
    code = (
        "import sys, numpy as np, keras\n"
        "import keras_accuracy_kit\n"
        f"gan = keras.saving.load_model({path!r}, safe_mode=True)\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "got = gan.generate(np.arange(6) % 3, seed=5).numpy()\n"
        "print(type(gan).__name__, np.array_equal(got, expected))\n"
    )
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    ).stdout.split()
    assert output[-2:] == ["ConditionalGAN", "True"]


def test_a_file_of_the_earlier_architecture_is_refused_with_what_to_do(tmp_path):
    """A `.keras` file whose config has no `architecture` (saved before the classifier was
    its own network) cannot hold this GAN's weights: a clear error, not Keras' own."""
    import zipfile

    path = tmp_path / "gan.keras"
    tiny_gan().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    assert config["config"].pop("architecture") == 2
    members["config.json"] = json.dumps(config).encode()
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(old, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"saved with architecture 1 .* Retrain the GAN"):
        keras.saving.load_model(old)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(image_shape=(8, 8)), "`image_shape` must be \\(height, width, channels\\)"),
        (dict(image_shape=(4, 8, 8, 1)), "Received: image_shape=\\(4, 8, 8, 1\\)"),
        (dict(num_classes=1), "`num_classes` must be an integer of at least 2"),
        (dict(num_classes=2.5), "Received: num_classes=2.5"),
        (dict(augment=["rotation"]), "`augment` must be a list of names"),
        (dict(augment=["cutout", "rotation"]), r"augment=\['cutout', 'rotation'\]\. Remove \['rot"),
        (dict(augment="cutout"), r"Received: augment='cutout'\. Pass e\.g\. augment=\['transl"),
        (dict(image_shape=(8, 0, 1)), r"the shape of one input: 3 positive integers\. Received"),
        (dict(image_shape="8x8"), r"Received: image_shape='8x8'\. E\.g\. image_shape=\(8, 8, 1\)"),
        (dict(ema_decay=1.0), "`ema_decay` must be"),
        (dict(image_dtype="int32"), "uint8, uint16 or a float dtype"),
        (dict(seed="a"), "`seed` must be None or an int"),
    ],
)
def test_bad_arguments_raise_clear_errors(arguments, match):
    with pytest.raises(ValueError, match=match):
        tiny_gan(**arguments)


def test_image_shape_and_augment_accept_any_ordered_sequence():
    gan = tiny_gan(image_shape=np.array([8, 8, 1]), augment=("cutout",))
    assert gan.image_shape == (8, 8, 1) and all(type(d) is int for d in gan.image_shape)
    assert gan.augment == ("cutout",)
    assert tiny_gan(augment=[]).augment == ()


def test_bad_data_and_compile_arguments_are_refused_early():
    gan = tiny_gan()
    with pytest.raises(ValueError, match="`optimizer` must not be given"):
        gan.compile(optimizer="adam")
    gan.compile()
    images, labels = tiny_data()
    unbatched = tf.data.Dataset.from_tensor_slices((images, labels))
    with pytest.raises(ValueError, match="Batch the dataset"):
        gan.fit(unbatched.batch(8).map(lambda x, y: (x[..., 0], y)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class ids in \\[0, 2\\]"):
        gan.generate([0, 3])
    with pytest.raises(ValueError, match="`per_class` must be a positive integer"):
        gan.dataset(per_class=0)


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), "0.3", True])
def test_mix_refuses_a_fraction_outside_zero_one(fraction):
    real = tf.data.Dataset.from_tensor_slices((np.zeros((4, 8, 8, 1), "float32"), np.zeros(4)))
    with pytest.raises(ValueError, match="`fraction` must be a number in \\[0, 1\\]"):
        mix(real, real, fraction=fraction)


def test_mix_refuses_batched_or_mismatched_datasets():
    images, labels = tiny_data()
    real = tf.data.Dataset.from_tensor_slices((images, labels))
    with pytest.raises(ValueError, match="Mix before `batch\\(\\)`"):
        mix(real.batch(4), real.batch(4))
    other = tf.data.Dataset.from_tensor_slices((images.astype("float64"), labels))
    with pytest.raises(ValueError, match="real images' shape and dtype"):
        mix(real, other)


def test_a_step_under_a_two_replica_mirrored_strategy_is_the_global_batch_s_step():
    """Two replicas seeing the same 4 images (a batch of 8 made of them twice) must update
    the GAN as one device does on those 4 images: the replicas' gradients are summed, so
    each loss is divided by the replica count (with SGD; Adam's first step would hide a
    factor of 2). Without that division the weights differ by 0.02."""
    from tests.conftest import ROOT

    script = os.path.join(ROOT, "tests", "generative", "mirrored_gan_script.py")
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, script, ROOT], capture_output=True, text=True, timeout=300,
        env=environment,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["replicas"] == 2
    assert figures["moved"] > 0.1  # the step trained
    assert figures["difference"] < 1e-5, figures
    assert figures["losses"][0] == pytest.approx(figures["losses"][1], rel=1e-5)
    assert figures["ema_steps"] == [1, 1]  # one step of the EMA per global batch


def test_fit_with_the_kit_s_checkpoint_on_change_and_keras_tensorboard(tmp_path):
    """The GAN trains with `kit.callbacks.CheckpointOnChange` (a version kept by the
    judge's class consistency, which loads back with the same samples) and Keras'
    `TensorBoard`, which writes the losses and the quality figures of each epoch."""
    import keras_accuracy_kit as kit
    from keras_accuracy_kit.generative import QualityJudge, QualityMonitor

    images, labels = tiny_data()
    judge = QualityJudge((8, 8, 1), 3, seed=0)
    judge.fit(images, labels, epochs=1)
    gan = tiny_gan()
    gan.compile()
    callbacks = [
        QualityMonitor(judge, images, num_images=6),
        kit.callbacks.CheckpointOnChange(
            str(tmp_path / "history"), monitor="class_consistency", mode="max"
        ),
        keras.callbacks.TensorBoard(str(tmp_path / "logs")),
    ]
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    gan.fit(data, epochs=2, callbacks=callbacks, verbose=0)

    with kit.History(str(tmp_path / "history")) as history:
        (version,) = history.versions()
        assert version.epochs == 2 and version.monitor == "class_consistency"
        losses = [row["metrics"]["classifier_loss"] for row in history.epochs(version.id)]
        assert len(losses) == 2 and all(np.isfinite(losses))
        last = history.load(version.id, which="last")
    assert isinstance(last, ConditionalGAN)
    np.testing.assert_array_equal(
        last.generate(np.arange(3), seed=0).numpy(), gan.generate(np.arange(3), seed=0).numpy()
    )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = EventAccumulator(str(tmp_path / "logs" / "train")).Reload()
    tags = set(run.Tags()["tensors"]) | set(run.Tags()["scalars"])
    expected = {"discriminator_loss", "generator_loss", "classifier_loss", "class_consistency"}
    assert {f"epoch_{name}" for name in expected} <= tags
