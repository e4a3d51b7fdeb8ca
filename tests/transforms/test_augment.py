"""kit.augment: ImageDataGenerator's meaning, seeds, element layouts, the layer, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit


def marked_batch(num=64, height=15, width=15, row=7, col=7):
    images = np.zeros((num, height, width, 1), np.float32)
    images[:, row, col, 0] = 1.0
    return images


def centroids(images):
    """(row, col) centroid of each image's brightness."""
    images = np.asarray(images)[..., 0]
    rows, cols = np.mgrid[: images.shape[1], : images.shape[2]]
    total = images.sum(axis=(1, 2))
    return np.stack(
        [(images * rows).sum(axis=(1, 2)) / total, (images * cols).sum(axis=(1, 2)) / total], -1
    )


def augment(images, **arguments):
    return kit.augment(fill_mode="constant", seed=0, **arguments)(images).numpy()


def test_augment_is_the_transform_class():
    assert kit.augment is kit.transforms.Augment
    assert kit.check_invariance is kit.transforms.check_invariance


def test_width_shift_in_pixels_moves_the_marked_pixel_sideways_by_k():
    out = augment(marked_batch(), width_shift_range=[3])
    moves = centroids(out) - [7, 7]
    np.testing.assert_allclose(moves[:, 0], 0, atol=1e-5)
    assert set(np.round(moves[:, 1], 5)) == {-3.0, 3.0}


def test_height_shift_in_pixels_moves_the_marked_pixel_vertically_by_k():
    out = augment(marked_batch(), height_shift_range=[2])
    moves = centroids(out) - [7, 7]
    np.testing.assert_allclose(moves[:, 1], 0, atol=1e-5)
    assert set(np.round(moves[:, 0], 5)) == {-2.0, 2.0}


def test_int_shift_gives_whole_pixels_below_k_as_keras_2():
    # ImageDataGenerator: "With width_shift_range=2 possible values are integers [-1, 0, +1]".
    out = augment(marked_batch(200), width_shift_range=2)
    moves = centroids(out)[:, 1] - 7
    assert set(np.round(moves, 5)) == {-1.0, 0.0, 1.0}


def test_int_shift_draws_whole_pixels_with_keras_2_weights():
    # Issue 18: width_shift_range=5 drew {-4..4} uniformly; ImageDataGenerator draws a
    # magnitude in {0..4} and a sign, so 0 has twice the weight of each other shift.
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(width_shift_range=5)
    np.random.seed(0)
    theirs = [generator.get_random_transform((15, 15, 1))["ty"] for _ in range(4000)]
    ours = np.round(centroids(augment(marked_batch(4000), width_shift_range=5))[:, 1] - 7, 5)
    values = np.arange(-4, 5)
    expected = np.where(values == 0, 1 / 5, 1 / 10)
    for draws in (np.asarray(theirs), ours):
        assert set(np.unique(draws)) == set(values)
        frequencies = np.array([(draws == v).mean() for v in values])
        np.testing.assert_allclose(frequencies, expected, atol=0.025)


@pytest.mark.parametrize("interpolation,order", [("bilinear", 1), ("nearest", 0)])
def test_constant_fill_mode_fills_as_keras_2(interpolation, order):
    # Issue 18: the edge pixels were blended with cval one pixel outside the image, where
    # ImageDataGenerator (scipy's "constant") fills outright.
    from keras.src.legacy.preprocessing.image import apply_affine_transform

    images = np.random.default_rng(0).random((8, 16, 16, 2)).astype(np.float32)
    out = kit.augment(width_shift_range=[2.5], fill_mode="constant", cval=0.3,
                      interpolation=interpolation, seed=0)(images).numpy()
    for image, result in zip(images, out):
        candidates = [
            apply_affine_transform(image, tx=tx, row_axis=0, col_axis=1, channel_axis=2,
                                   fill_mode="constant", cval=0.3, order=order)
            for tx in (-2.5, 2.5)
        ]
        assert min(np.abs(result - c).max() for c in candidates) < 1e-5
        # Three whole columns of cval (sampling x = -2.5, -1.5, -0.5 or 15.5, 16.5, 17.5).
        assert (result[:, :3] == np.float32(0.3)).all() or (result[:, 13:] == np.float32(0.3)).all()


def test_wrap_fill_mode_tiles_the_image_with_its_own_period():
    # README, "Keras 2 differences": Keras 2 repeated the image every size - 1 pixels.
    images = np.random.default_rng(0).random((16, 12, 12, 1)).astype(np.float32)
    out = kit.augment(width_shift_range=[3], fill_mode="wrap", seed=0)(images).numpy()
    for image, result in zip(images, out):
        assert any(np.array_equal(result, np.roll(image, k, axis=1)) for k in (-3, 3))


def test_float_shift_below_one_is_a_fraction_of_the_size():
    out = augment(marked_batch(200, width=21, col=10), width_shift_range=0.2)
    moves = centroids(out)[:, 1] - 10
    assert np.abs(moves).max() <= 0.2 * 21 + 1e-4
    assert np.abs(moves).max() > 0.15 * 21  # the range is used
    assert len(set(np.round(moves, 3))) > 50  # continuous, not whole pixels


def test_float_shift_from_one_is_pixels():
    moves = centroids(augment(marked_batch(200), height_shift_range=2.5))[:, 0] - 7
    assert np.abs(moves).max() <= 2.5 + 1e-4 and np.abs(moves).max() > 2.0


def test_rotation_range_keeps_the_radius_and_turns_within_the_range():
    images = marked_batch(100, 21, 21, 10, 16)  # 6 right of the centre
    out = augment(images, rotation_range=30)
    offsets = centroids(out) - [10, 10]
    radius = np.hypot(*offsets.T)
    angle = np.degrees(np.arctan2(-offsets[:, 0], offsets[:, 1]))  # counter-clockwise
    np.testing.assert_allclose(radius, 6, atol=0.35)
    assert np.abs(angle).max() <= 30 + 2 and np.abs(angle).max() > 20
    assert (angle > 5).any() and (angle < -5).any()


def test_zoom_range_float_z_scales_distances_by_one_over_1_plus_minus_z():
    images = marked_batch(100, 31, 31, 15, 23)  # 8 right of the centre
    offsets = centroids(augment(images, zoom_range=0.2)) - [15, 15]
    scale = offsets[:, 1] / 8  # 1 / zx: zoom above 1 zooms out, the pixel moves inward
    assert scale.min() >= 1 / 1.2 - 0.02 and scale.max() <= 1 / 0.8 + 0.02
    np.testing.assert_allclose(offsets[:, 0], 0, atol=1e-4)


def test_zoom_pair_is_the_factor_range():
    images = marked_batch(50, 31, 31, 15, 23)
    scale = (centroids(augment(images, zoom_range=[2.0, 2.0])) - [15, 15])[:, 1] / 8
    np.testing.assert_allclose(scale, 0.5, atol=1e-4)


def test_shear_range_moves_pixels_sideways_in_proportion_to_their_height():
    images = marked_batch(100, 21, 21, 14, 10)  # 4 below the centre
    offsets = centroids(augment(images, shear_range=20)) - [10, 10]
    # y_out = 4 / cos(s), x_out = sin(s) * y_out, |s| <= 20 degrees.
    # Keras 2's shear maps an output point to the input by [[1, -sin s], [0, cos s]] (row,
    # col swapped here): a point 4 rows below the centre goes to row 4 / cos(s) and column
    # sin(s) * 4 / cos(s). So sin(s) = col / row, and the row is 4 / cos(s) (up to 0.7 %:
    # the centroid of a bilinear resampling of one pixel is near its mapped position).
    # Without the 1 / cos(s) the rows would be up to 6.4 % short at 20 degrees.
    shear = np.arcsin(offsets[:, 1] / offsets[:, 0])
    assert np.degrees(np.abs(shear)).max() <= 20 + 0.5
    assert np.degrees(np.abs(shear)).max() > 15  # the range is used, not a fixed small shear
    np.testing.assert_allclose(offsets[:, 0], 4 / np.cos(shear), rtol=0.01)


def test_flips_give_the_image_or_its_mirror_each_about_half_the_time():
    images = np.random.default_rng(0).random((64, 6, 7, 3)).astype(np.float32)
    out = augment(images, horizontal_flip=True)
    same = np.isclose(out, images, atol=1e-5).all(axis=(1, 2, 3))
    mirrored = np.isclose(out, images[:, :, ::-1], atol=1e-5).all(axis=(1, 2, 3))
    assert (same | mirrored).all() and 16 < mirrored.sum() < 48
    out = augment(images, vertical_flip=True)
    flipped = np.isclose(out, images[:, ::-1], atol=1e-5).all(axis=(1, 2, 3))
    assert (np.isclose(out, images, atol=1e-5).all(axis=(1, 2, 3)) | flipped).all()
    assert 16 < flipped.sum() < 48


def test_cval_is_in_input_units():
    images = np.full((4, 9, 9, 3), 10, np.uint8)
    out = kit.augment(width_shift_range=[3], fill_mode="constant", cval=255, seed=0)(images)
    np.testing.assert_allclose(np.unique(out.numpy()), [10 / 255, 1.0], rtol=1e-5)


def test_brightness_contrast_and_channel_shift_follow_their_ranges():
    images = np.random.default_rng(0).uniform(0.3, 0.6, (64, 8, 8, 3)).astype(np.float32)
    ratio = augment(images, brightness_range=[0.5, 0.8]) / images
    per_image = ratio.reshape(64, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(192, 1), rtol=1e-5)
    assert per_image.min() >= 0.5 - 1e-5 and per_image.max() <= 0.8 + 1e-5

    shifted = augment(images, channel_shift_range=20) - images
    assert np.abs(shifted).max() <= 20 / 255 + 1e-6 and np.abs(shifted).max() > 0

    contrast = augment(images, contrast_range=[2.0, 2.0])
    mean = images.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(contrast, np.clip((images - mean) * 2 + mean, 0, 1), atol=1e-5)


def test_random_erasing_fills_one_box_per_image():
    images = np.ones((32, 16, 16, 1), np.float32)
    out = augment(images, erasing_probability=1.0, erasing_scale=[0.1, 0.2])
    erased = (out[..., 0] == 0).sum(axis=(1, 2))
    assert (erased > 0).all() and erased.max() <= 0.2 * 256 * 1.3


def test_hue_and_saturation_keep_gray_pixels_and_change_colours():
    images = np.random.default_rng(0).random((8, 6, 6, 3)).astype(np.float32)
    images[:, 0, 0] = 0.5
    out = augment(images, hue_range=0.2, saturation_range=[0.5, 1.5])
    np.testing.assert_allclose(out[:, 0, 0], 0.5, atol=1e-5)
    assert np.abs(out - images).max() > 0.05


@pytest.mark.parametrize("policy", ["randaugment", "augmix"])
def test_policies_run_on_keras_layers(policy):
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    out = kit.augment(policy=policy, seed=0)(images)
    assert out.shape == (4, 16, 16, 3) and out.dtype == tf.float32
    assert not np.allclose(out, images / 255.0, atol=1e-2)  # it changed the images
    assert 0 <= float(tf.reduce_min(out)) and float(tf.reduce_max(out)) <= 1
    if policy == "randaugment":
        # Exactly Keras' own layer with the same seed, on the images scaled to [0, 1].
        # (AugMix draws from Keras' own random state in another order: compared above
        # only through its effect.)
        layer = keras.layers.RandAugment(value_range=(0, 1), seed=0)
        expected = layer(images.astype(np.float32) / 255, training=True)
        np.testing.assert_allclose(out, expected, atol=1e-5)


def pipeline(seed, images, labels, per_image):
    augment = kit.augment(
        rotation_range=30,
        width_shift_range=0.2,
        zoom_range=0.2,
        horizontal_flip=True,
        contrast_range=[0.8, 1.2],
        seed=seed,
    )
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).map(
        lambda x, y: (x, y), num_parallel_calls=tf.data.AUTOTUNE
    )
    if per_image:
        dataset = dataset.apply(augment).batch(8)
    else:
        dataset = dataset.batch(8).apply(augment)
    return dataset.prefetch(tf.data.AUTOTUNE)


@pytest.mark.parametrize("per_image", [False, True])
def test_seeds_reproduce_across_two_pipeline_runs_with_autotune_and_epochs_differ(per_image):
    images = np.random.default_rng(0).integers(0, 256, (64, 12, 12, 3)).astype(np.uint8)
    labels = np.arange(64)
    first = pipeline(3, images, labels, per_image)
    epoch_1 = [x.numpy() for x, _ in first]
    epoch_2 = [x.numpy() for x, _ in first]
    rerun = [x.numpy() for x, _ in pipeline(3, images, labels, per_image)]
    other_seed = [x.numpy() for x, _ in pipeline(4, images, labels, per_image)]
    assert all(np.array_equal(a, b) for a, b in zip(epoch_1, rerun))
    assert not any(np.allclose(a, b) for a, b in zip(epoch_1, epoch_2))
    assert not any(np.allclose(a, b) for a, b in zip(epoch_1, other_seed))


def test_plain_map_reproduces_sequentially_and_differs_per_call():
    images = np.random.default_rng(0).integers(0, 256, (16, 12, 12, 3)).astype(np.uint8)

    def run():
        dataset = tf.data.Dataset.from_tensor_slices(images).batch(4)
        return dataset.map(kit.augment(rotation_range=30, seed=5))

    dataset = run()
    epoch_1, epoch_2 = list(dataset), list(dataset)
    rerun = list(run())
    assert all(np.array_equal(a, b) for a, b in zip(epoch_1, rerun))
    assert not np.allclose(epoch_1[0], epoch_2[0])


@pytest.mark.parametrize("route", ["call", "map", "apply_batched", "apply_per_image"])
def test_seed_none_draws_a_fresh_seed_per_instance(route):
    # Issue 22: `seed=None` always using seed 0 passed every test. Unseeded instances must
    # differ from each other and from `seed=0` (ImageDataGenerator without a seed is random).
    images = np.random.default_rng(0).integers(0, 256, (8, 12, 12, 3)).astype(np.uint8)

    def run(seed):
        augment = kit.augment(rotation_range=40, width_shift_range=0.3, seed=seed)
        if route == "call":
            return augment(images).numpy()
        dataset = tf.data.Dataset.from_tensor_slices(images)
        if route == "map":
            dataset = dataset.batch(8).map(augment)
        elif route == "apply_batched":
            dataset = dataset.batch(8).apply(augment)
        else:
            dataset = dataset.apply(augment).batch(8)
        return np.concatenate([x.numpy() for x in dataset])

    unseeded = [run(None) for _ in range(3)]
    seeded = run(0)
    assert np.array_equal(seeded, run(0))  # the control: a seed reproduces
    for i, first in enumerate(unseeded):
        assert not np.allclose(first, seeded, atol=1e-3), f"unseeded run {i} used seed 0"
        for second in unseeded[i + 1 :]:
            assert not np.allclose(first, second, atol=1e-3)
    assert kit.augment(rotation_range=40, seed=None).get_config()["seed"] is None


def test_parallel_map_calls_never_share_a_seed():
    images = np.full((300, 9, 9, 1), 0.5, np.float32)
    images[:, 2:5, 3] = 1.0
    dataset = tf.data.Dataset.from_tensor_slices(images).map(
        kit.augment(rotation_range=180, width_shift_range=0.3, seed=0),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    outputs = np.stack([x.numpy() for x in dataset]).reshape(300, -1)
    assert len(np.unique(outputs.round(6), axis=0)) == 300


@pytest.mark.parametrize("route", ["map", "apply"])
@pytest.mark.parametrize("layout", ["pair", "dict"])
@pytest.mark.parametrize("batched", [True, False])
def test_labels_are_never_changed(route, layout, batched):
    images = np.random.default_rng(0).integers(0, 256, (12, 10, 10, 3)).astype(np.uint8)
    labels = np.arange(12)
    if layout == "pair":
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        dataset = tf.data.Dataset.from_tensor_slices({"images": images, "labels": labels})
    if batched:
        dataset = dataset.batch(5)
    transform = kit.augment(
        rotation_range=180,
        width_shift_range=0.3,
        shear_range=20,
        zoom_range=0.3,
        horizontal_flip=True,
        vertical_flip=True,
        brightness_range=[0.5, 1.5],
        channel_shift_range=50,
        contrast_range=[0.5, 1.5],
        hue_range=0.3,
        saturation_range=[0.5, 1.5],
        erasing_probability=0.5,
        seed=0,
    )
    if route == "map":
        dataset = dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.apply(transform)
    out_labels, out_images = [], []
    for element in dataset:
        x, y = element if layout == "pair" else (element["images"], element["labels"])
        out_labels.append(np.atleast_1d(y.numpy()))
        out_images.append(x.numpy().reshape(-1, 10, 10, 3))
    np.testing.assert_array_equal(np.concatenate(out_labels), labels)
    augmented = np.concatenate(out_images)
    assert augmented.dtype == np.float32 and 0 <= augmented.min() and augmented.max() <= 1
    assert not np.allclose(augmented, images / 255.0, atol=1e-3)


EVERY_STEP = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=3,
    shear_range=15,
    zoom_range=(0.7, 1.3),
    horizontal_flip=True,
    vertical_flip=True,
    brightness_range=(0.6, 1.4),
    channel_shift_range=40,
    contrast_range=(0.6, 1.4),
    hue_range=0.2,
    saturation_range=(0.5, 1.5),
    erasing_probability=0.7,
)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_the_xla_resampling_path_equals_tensorflows_kernels(fill_mode, interpolation):
    """Every step on, both paths, the same seed: the same images (XLA vs TF kernels)."""
    images = np.random.default_rng(0).integers(0, 256, (6, 20, 24, 3)).astype(np.uint8)
    seed = tf.constant([3, 9], tf.int64)
    outputs = {}
    for jit_compile in (True, False):
        transform = kit.augment(
            **EVERY_STEP,
            fill_mode=fill_mode,
            cval=128,
            interpolation=interpolation,
            seed=0,
            jit_compile=jit_compile,
        )
        outputs[jit_compile] = transform.apply_with_seed(images, seed).numpy()
    assert not np.allclose(outputs[True], images / 255.0, atol=0.05)
    np.testing.assert_allclose(outputs[True], outputs[False], atol=2e-4)


def test_batches_of_unknown_size_take_the_xla_path_in_tf_data():
    images = np.random.default_rng(1).integers(0, 256, (10, 16, 16, 3)).astype(np.uint8)
    batches = tf.data.Dataset.from_tensor_slices(images).batch(4)  # sizes 4, 4, 2
    outputs = {}
    for jit_compile in ("auto", False):
        transform = kit.augment(**EVERY_STEP, seed=2, jit_compile=jit_compile)
        augmented = batches.apply(transform)
        outputs[jit_compile] = np.concatenate([batch.numpy() for batch in augmented])
    assert outputs["auto"].shape == (10, 16, 16, 3)
    np.testing.assert_allclose(outputs["auto"], outputs[False], atol=2e-4)


def test_apply_augments_single_small_images_in_groups_keeping_every_element():
    images = np.zeros((70, 16, 16, 1), np.uint8)
    images[:, 8, 8] = 255
    labels = np.arange(70)
    singles = tf.data.Dataset.from_tensor_slices((images, labels))
    transform = kit.augment(width_shift_range=6, height_shift_range=6, seed=0)
    grouped = singles.apply(transform)
    one_by_one = transform.apply_to_dataset(singles, group_size=1)
    assert grouped.element_spec[0].shape == (16, 16, 1)
    assert grouped.cardinality().numpy() == 70  # `len()` and `model.fit` still know it
    for dataset in (grouped, one_by_one):
        out_images, out_labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset))
        np.testing.assert_array_equal(out_labels, labels)
        # Each image of a group has its own shift: the marked pixel lands in many places.
        spots = {np.unravel_index(np.argmax(x), x.shape)[:2] for x in out_images[:32]}
        assert len(spots) > 15
    # Images of many sizes cannot be grouped: they are augmented one by one.
    sizes = tf.data.Dataset.from_generator(
        lambda: (np.zeros((8 + i, 10, 3), np.uint8) for i in range(3)),
        output_signature=tf.TensorSpec([None, 10, 3], tf.uint8),
    )
    shapes = [x.shape for x in sizes.apply(transform)]
    assert shapes == [(8, 10, 3), (9, 10, 3), (10, 10, 3)]


def test_the_xla_path_trains_in_a_model_under_a_distribution_strategy():
    """Batches of 8 64x64 RGB images hold enough values for the XLA resampling in `fit`."""
    images, labels = bright_or_dark(16, 64)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        inputs = keras.Input((64, 64, 3), dtype="uint8")
        transform = kit.augment(**EVERY_STEP, seed=0)
        features = transform(inputs)
        outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(features))
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.Adam(0.1),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    kernel = model.layers[-1].get_weights()[0].copy()
    paths = []
    original = kit.transforms.functional.projective.use_xla_resampling

    def spy(images, jit_compile="auto"):
        paths.append(original(images, jit_compile))
        return paths[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kit.transforms.functional.projective, "use_xla_resampling", spy)
        history = model.fit(images, labels, batch_size=8, epochs=4, verbose=0)
    assert paths and all(paths)  # traced with the XLA kernel
    # The replicas' updates reached the model and it learned the brightness labels.
    assert not np.allclose(model.layers[-1].get_weights()[0], kernel)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert transform.call_counter.numpy().any()


def test_apply_rejects_a_bad_group_size():
    # D22: the message said "Pass a whole number of pixels, e.g. group_size=224".
    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), np.uint8))
    with pytest.raises(
        ValueError,
        match=r"`group_size` must be a positive integer\. Received: group_size=0\. Pass a "
        r"whole number of at least 1, e\.g\. group_size=32\.$",
    ):
        kit.augment(seed=0).apply_to_dataset(dataset, group_size=0)


@pytest.mark.parametrize("argument,example", [("num_images", 8), ("num_copies", 3)])
def test_preview_rejects_a_bad_count_with_a_count_example(argument, example, tmp_path):
    # D22: "num_images=0" was told to pass "a whole number of pixels, e.g. num_images=224".
    images = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(
        ValueError,
        match=rf"Augment\.preview: `{argument}` must be a positive integer\. Received: "
        rf"{argument}=0\. Pass a whole number of at least 1, e\.g\. {argument}={example}\.$",
    ):
        kit.augment(rotation_range=5).preview(images, tmp_path, **{argument: 0})


def test_cval_is_unused_outside_constant_fill_mode():
    # Found by the property tests: cval=1e300 with fill_mode="nearest" failed converting it.
    images = np.zeros((2, 8, 8, 3), np.uint8)
    assert np.isfinite(kit.augment(rotation_range=10, cval=1e300, seed=0)(images)).all()


@pytest.mark.parametrize("cval", [np.nan, np.inf, -np.inf])
def test_non_finite_cval_is_rejected(cval):
    # D16: cval accepted NaN/inf.
    with pytest.raises(ValueError, match=r"Augment: `cval` must be a finite number"):
        kit.augment(rotation_range=10, fill_mode="constant", cval=cval)


@pytest.mark.parametrize(
    "dtype,value_range,cval,limits",
    [
        (np.uint8, (0, 1), 256, r"\[0, 255\] for uint8"),
        (np.float32, (0, 1), 255, r"\[0, 1\] for float32"),
    ],
)
def test_cval_outside_the_images_range_is_rejected_on_the_first_call(
    dtype, value_range, cval, limits
):
    # D16: a fill value outside the images' range gave outputs outside [0, 1].
    augment = kit.augment(width_shift_range=[2], fill_mode="constant", cval=cval, seed=0,
                          value_range=value_range)
    with pytest.raises(ValueError, match=rf"Augment: `cval` must be in the range of the input "
                       rf"images, {limits} images here\. Received: cval={cval}"):
        augment(np.zeros((2, 8, 8, 3), dtype))
    # Unused outside fill_mode="constant".
    kit.augment(width_shift_range=[2], cval=cval, seed=0)(np.zeros((2, 8, 8, 3), np.uint8))


@pytest.mark.parametrize("erasing_value", [np.nan, np.inf, -0.5, 5.0])
def test_erasing_values_outside_0_1_are_rejected(erasing_value):
    # D16: erasing_value accepted NaN/inf.
    with pytest.raises(ValueError, match=r"Augment: `erasing_value` must be a number in \[0, 1\]"):
        kit.augment(erasing_probability=1.0, erasing_value=erasing_value)


@pytest.mark.parametrize("seed", [2**63, -(2**63) - 1, 10**30])
def test_seeds_beyond_int64_are_rejected_at_construction(seed):
    # D18: seed=2**63 failed only at call time, with a message naming nothing.
    with pytest.raises(
        ValueError, match=rf"Augment: `seed` must be an int64 .*Received: seed={seed}"
    ):
        kit.augment(rotation_range=10, seed=seed)


@pytest.mark.parametrize("seed", [2**63 - 1, -(2**63), np.int64(5)])
def test_the_int64_extremes_are_valid_seeds_on_every_route(seed):
    # D18
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
    augment = kit.augment(rotation_range=10, seed=seed)
    assert np.isfinite(augment(images)).all()
    assert len(list(tf.data.Dataset.from_tensor_slices(images).apply(augment))) == 4
    assert augment.get_config()["seed"] == int(seed)


def test_in_a_model_it_is_active_only_when_training():
    images = np.random.default_rng(0).integers(0, 256, (4, 12, 12, 3)).astype(np.uint8)
    inputs = keras.Input((12, 12, 3), dtype="uint8")
    model = keras.Model(inputs, kit.augment(rotation_range=40, zoom_range=0.2, seed=0)(inputs))
    np.testing.assert_allclose(model.predict(images, verbose=0), images / 255.0, atol=1e-6)
    np.testing.assert_allclose(model(images, training=False), images / 255.0, atol=1e-6)
    assert not np.allclose(model(images, training=True), images / 255.0, atol=1e-3)
    layer = kit.augment(rotation_range=40, seed=0)
    np.testing.assert_allclose(layer(images, training=False), images / 255.0, atol=1e-6)


def bright_or_dark(num, size):
    """Images whose label is their brightness: learnable through any flip or rotation."""
    rng = np.random.default_rng(0)
    labels = np.arange(num) % 2
    images = rng.integers(0, 100, (num, size, size, 3)) + 150 * labels[:, None, None, None]
    return images.astype(np.uint8), labels


def test_in_a_model_it_trains():
    images, labels = bright_or_dark(16, 12)
    inputs = keras.Input((12, 12, 3), dtype="uint8")
    transform = kit.augment(rotation_range=10, horizontal_flip=True, seed=0)
    x = transform(inputs)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(0.1),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(images, labels, epochs=8, batch_size=8, verbose=0)
    # It learned through the augmentation, and the augmentation ran in every training step.
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] == 1.0
    counter = transform.call_counter.numpy().copy()
    assert counter.any()
    model.predict(images, verbose=0)  # inference: no augmentation, no call counted
    np.testing.assert_array_equal(transform.call_counter.numpy(), counter)


IMAGE_DATA_GENERATOR_DEFAULTS = {
    "featurewise_center": False,
    "samplewise_center": False,
    "featurewise_std_normalization": False,
    "samplewise_std_normalization": False,
    "zca_whitening": False,
    "zca_epsilon": 1e-06,
    "rotation_range": 0,
    "width_shift_range": 0.0,
    "height_shift_range": 0.0,
    "brightness_range": None,
    "shear_range": 0.0,
    "zoom_range": 0.0,
    "channel_shift_range": 0.0,
    "fill_mode": "nearest",
    "cval": 0.0,
    "horizontal_flip": False,
    "vertical_flip": False,
    "rescale": None,
    "preprocessing_function": None,
    "data_format": None,
    "validation_split": 0.0,
    "interpolation_order": 1,
    "dtype": None,
}


def test_from_config_takes_image_data_generator_kwargs_verbatim():
    kwargs = {
        **IMAGE_DATA_GENERATOR_DEFAULTS,
        "rotation_range": 20,
        "width_shift_range": 0.1,
        "height_shift_range": 4,
        "zoom_range": [0.9, 1.2],
        "horizontal_flip": True,
        "fill_mode": "reflect",
        "rescale": 1.0 / 255,
        "brightness_range": (0.8, 1.2),
    }
    augment = kit.augment.from_config(kwargs)
    config = augment.get_config()
    assert config["rotation_range"] == 20 and config["height_shift_range"] == 4
    assert config["zoom_range"] == [0.9, 1.2] and config["fill_mode"] == "reflect"
    assert config["brightness_range"] == [0.8, 1.2] and config["value_range"] == [0.0, 255.0]
    assert kit.augment.from_config(config).get_config() == config
    out = augment(np.full((2, 8, 8, 3), 255.0, np.float32))
    assert out.shape == (2, 8, 8, 3) and float(tf.reduce_max(out)) <= 1.0


@pytest.mark.parametrize(
    "key,value,fix",
    [
        ("zca_whitening", True, r"ZCA whitening is not offered.*Normalization"),
        ("featurewise_center", True, r"keras\.layers\.Normalization\(\)"),
        ("samplewise_std_normalization", True, r"per_image_standardization"),
        ("preprocessing_function", abs, r"dataset\.map\(function\)"),
        ("validation_split", 0.2, r"split_dataset"),
        ("rescale", 2.0, r"value_range"),
        ("data_format", "channels_first", r"tf\.transpose"),
        ("interpolation_order", 3, r"Use 1"),
    ],
)
def test_from_config_says_what_to_use_instead_of_unsupported_arguments(key, value, fix):
    with pytest.raises(
        ValueError, match=rf"Augment\.from_config: `{key}` must .*Received: {key}=.*{fix}"
    ):
        kit.augment.from_config({**IMAGE_DATA_GENERATOR_DEFAULTS, key: value})


def test_from_config_lists_known_arguments_for_a_typo():
    with pytest.raises(
        ValueError, match=r"`rotation` must be an ImageDataGenerator.*rotation_range"
    ):
        kit.augment.from_config({"rotation": 10})


@pytest.mark.parametrize(
    "arguments,message",
    [
        (
            {"rotation_range": -10},
            r"`rotation_range` must be a non-negative number\. "
            r"Received: rotation_range=-10\. Give the largest change",
        ),
        (
            {"width_shift_range": -0.1},
            r"`width_shift_range` must be a non-negative float.*"
            r"Received: width_shift_range=-0\.1\. E\.g\.",
        ),
        (
            {"height_shift_range": [1, -2]},
            r"`height_shift_range` must .*Received: "
            r"height_shift_range=\[1, -2\]",
        ),
        ({"shear_range": -5}, r"`shear_range` must be a non-negative number"),
        ({"channel_shift_range": -1}, r"`channel_shift_range` must be a non-negative"),
        (
            {"zoom_range": [1.2, 0.8]},
            r"`zoom_range` must .*low <= high\. Received: "
            r"zoom_range=\[1\.2, 0\.8\]\. Swap an inverted pair",
        ),
        ({"zoom_range": 1.5}, r"`zoom_range` must be a float z in \[0, 1\)"),
        (
            {"zoom_range": 1.5},
            r"`zoom_range` must .*Received: zoom_range=1\.5\. E\.g\. zoom_range=0\.1 "
            r"\(factors in \[0\.9, 1\.1\]\) "
            r"or zoom_range=\(0\.9, 1\.1\); factors above 1 zoom out\.$",
        ),
        (
            {"zoom_range": (0, 1.1)},
            r"`zoom_range` must .*0 < low <= high\. Received: zoom_range=\(0, 1\.1\)\. "
            r"E\.g\. zoom_range=\(0\.9, 1\.1\); factors above 1 zoom out\.$",
        ),
        ({"zoom_range": "0.1"}, r"`zoom_range` must .*Received: zoom_range='0\.1'\. E\.g\."),
        ({"zoom_range": float("nan")}, r"`zoom_range` must be a float z in \[0, 1\)"),
        (
            {"brightness_range": (1.2, 0.8)},
            r"`brightness_range` must be None or a pair.*"
            r"Received: brightness_range=\(1\.2, 0\.8\)\. Swap an inverted pair",
        ),
        (
            {"fill_mode": "mirror"},
            r"`fill_mode` must be one of \['constant', 'nearest', "
            r"'reflect', 'wrap'\]\. Received: fill_mode='mirror'",
        ),
        ({"policy": "autoaugment"}, r"`policy` must be one of \['augmix', 'randaugment'\]"),
        ({"hue_range": 0.7}, r"`hue_range` must be at most 0\.5"),
        ({"erasing_probability": 1.5}, r"`erasing_probability` must be a probability"),
        ({"horizontal_flip": "yes"}, r"`horizontal_flip` must be True or False"),
        ({"seed": 1.5}, r"`seed` must be None or an int"),
        # Found by the property tests: values that overflowed float32 into NaN images.
        ({"rotation_range": 1e300}, r"`rotation_range` must be at most 360 \(degrees\)"),
        ({"shear_range": 3.4e38}, r"`shear_range` must be at most 360 \(degrees\)"),
        ({"channel_shift_range": 1e300}, r"`channel_shift_range` must be at most 255"),
        ({"brightness_range": (0, 1e300)}, r"`brightness_range` must be at most 1000"),
        ({"contrast_range": (0, 1e300)}, r"`contrast_range` must be at most 1000"),
        ({"zoom_range": (1, 3.4e38)}, r"`zoom_range` must be at most 1000"),
        ({"width_shift_range": 1e300}, r"`width_shift_range` must be at most 65536"),
        ({"height_shift_range": [1, 2**70]}, r"`height_shift_range` must be at most 65536"),
        ({"fill_mode": np.array(["wrap"])}, r"`fill_mode` must be one of"),
        (
            {"jit_compile": "yes"},
            r"`jit_compile` must be 'auto', True or False\. Received: jit_compile='yes'\. "
            r"Leave it at 'auto'",
        ),
    ],
)
def test_bad_arguments_are_rejected_with_the_fix(arguments, message):
    with pytest.raises(ValueError, match=rf"Augment: {message}"):
        kit.augment(**arguments)


def test_wrong_image_rank_is_rejected():
    with pytest.raises(ValueError, match=r"Augment: `images` must have rank 3 .*rank 2"):
        kit.augment(rotation_range=10)(np.zeros((8, 8), np.float32))


def test_hue_on_grayscale_images_is_rejected_with_the_fix():
    with pytest.raises(
        ValueError, match=r"Augment: `images` must have 3 channel.*grayscale_to_rgb"
    ):
        kit.augment(hue_range=0.1)(np.zeros((8, 8, 1), np.float32))


def test_preview_writes_originals_beside_augmented_copies(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (10, 12, 12, 3)).astype(np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(10))).batch(3)
    png = kit.augment(rotation_range=30, seed=0).preview(dataset, tmp_path, num_images=5)
    grid = tf.io.decode_png(tf.io.read_file(png)).numpy()
    assert grid.shape == (4 * 66, 5 * 66, 3)  # originals + 3 copies, 64 px cells + 2 spacing
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())
