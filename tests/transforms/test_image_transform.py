"""Behaviour every transform shares: element layouts, ranks, dtypes, graphs and errors."""

import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from tests.transforms.conftest import expected_shape, is_deterministic, make_transform


def rgb_batch(num=4, height=16, width=20, dtype=np.uint8):
    values = np.random.default_rng(0).integers(0, 256, (num, height, width, 3))
    return values.astype(dtype)


def test_lowercase_names_are_the_transform_classes():
    assert kit.to_lab is kit.transforms.ToLab
    assert kit.to_hsv is kit.transforms.ToHSV
    assert kit.to_yuv is kit.transforms.ToYUV
    assert kit.to_grayscale is kit.transforms.ToGrayscale
    assert kit.resize is kit.transforms.Resize


def assert_matches(actual, expected, deterministic):
    """Exact values for deterministic transforms; shape, dtype and [0, 1] for random ones."""
    actual = np.asarray(actual)
    if deterministic:
        np.testing.assert_allclose(actual, expected, atol=2e-4)
    else:
        assert actual.shape == np.shape(expected) and actual.dtype == np.asarray(expected).dtype
        assert 0.0 <= actual.min() and actual.max() <= 1.0


def test_maps_over_bare_images_pairs_and_dicts(transform_name):
    transform = make_transform(transform_name)
    deterministic = is_deterministic(transform_name)
    images = rgb_batch()
    labels = np.arange(4)
    direct = transform(images).numpy()

    bare = tf.data.Dataset.from_tensor_slices(images).batch(4).map(transform)
    assert_matches(next(iter(bare)), direct, deterministic)

    pairs = tf.data.Dataset.from_tensor_slices((images, labels)).map(transform).batch(4)
    image_batch, label_batch = next(iter(pairs))
    assert_matches(image_batch, direct, deterministic)
    np.testing.assert_array_equal(label_batch, labels)

    dicts = (
        tf.data.Dataset.from_tensor_slices(
            {"images": images, "labels": labels, "weights": np.ones(4)}
        )
        .batch(2)
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE)
    )
    first = next(iter(dicts))
    assert sorted(first) == ["images", "labels", "weights"]
    assert_matches(first["images"], direct[:2], deterministic)
    np.testing.assert_array_equal(first["labels"], labels[:2])


def test_single_images_and_batches_agree(transform_name):
    transform = make_transform(transform_name)
    images = rgb_batch()
    batched = transform(images).numpy()
    single = np.stack([transform(image).numpy() for image in images])
    assert batched.shape == expected_shape(transform_name, images.shape, transform)
    assert_matches(single, batched, is_deterministic(transform_name))


def test_uint8_float_and_declared_value_range_agree(transform_name):
    images = rgb_batch()
    from_uint8 = make_transform(transform_name)(images)
    from_unit = make_transform(transform_name)(images.astype(np.float32) / 255.0)
    from_0_255 = make_transform(transform_name, value_range=(0, 255))(images.astype(np.float32))
    assert from_uint8.dtype == tf.float32
    np.testing.assert_allclose(from_uint8, from_unit, atol=1e-4)
    np.testing.assert_allclose(from_0_255, from_unit, atol=1e-4)


def test_float64_stays_float64(transform_name):
    out = make_transform(transform_name)(rgb_batch(dtype=np.float64) / 255.0)
    assert out.dtype == tf.float64


def test_works_inside_tf_function_with_unknown_sizes(transform_name):
    transform = make_transform(transform_name)

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    def apply(image):
        return transform(image)

    for height, width in [(16, 20), (9, 31)]:
        image = rgb_batch(1, height, width)[0]
        assert_matches(apply(image), transform(image).numpy(), is_deterministic(transform_name))


@pytest.mark.parametrize("shape", [(16, 16), (2, 2, 16, 16, 3), (3,)])
def test_wrong_rank_is_rejected(transform_name, shape):
    transform = make_transform(transform_name)
    with pytest.raises(
        ValueError,
        match=rf"{transform_name}: `images` must have rank 3 .* or rank 4 .*"
        rf"Received: images.shape=.*rank {len(shape)}.*image\[\.\.\., None\]",
    ):
        transform(np.zeros(shape, np.float32))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_unsupported_dtype_is_rejected(transform_name, dtype):
    transform = make_transform(transform_name)
    with pytest.raises(
        ValueError,
        match=rf"{transform_name}: `images` must be uint8, uint16 or a float dtype\. "
        r"Received: images.dtype=.*value_range",
    ):
        transform(np.zeros((4, 4, 3), dtype))


def test_unknown_channel_count_is_rejected_when_the_pipeline_is_built(transform_name):
    transform = make_transform(transform_name)
    dataset = tf.data.Dataset.from_generator(
        lambda: iter([np.zeros((4, 4, 3), np.uint8)]),
        output_signature=tf.TensorSpec([None, None, None], tf.uint8),
    )
    with pytest.raises(
        ValueError, match=rf"{transform_name}: .*known number of channels.*channels=3"
    ):
        dataset.map(transform)


def test_dict_without_images_key_lists_the_keys(transform_name):
    transform = make_transform(transform_name)
    with pytest.raises(ValueError, match=r"'images' key\. Received: keys=\['image', 'label'\]"):
        transform({"image": rgb_batch(), "label": np.arange(4)})


def test_ragged_batches_are_rejected_with_a_fix(transform_name):
    ragged = tf.ragged.constant([np.zeros((2, 2, 3)), np.zeros((3, 2, 3))], ragged_rank=1)
    with pytest.raises(ValueError, match=r"dense tensor.*before `batch\(\)`"):
        make_transform(transform_name)(ragged)


@pytest.mark.parametrize("value_range", [(1, 0), (0,), "0-255", (0, float("inf"))])
def test_bad_value_range_is_rejected(transform_name, value_range):
    with pytest.raises(ValueError, match=rf"{transform_name}: `value_range` must be a pair"):
        make_transform(transform_name, value_range=value_range)


@pytest.mark.parametrize("name", ["ToLab", "ToHSV", "ToYUV", "ToGrayscale"])
@pytest.mark.parametrize("channels", [1, 4])
def test_colour_transforms_reject_non_rgb_images(name, channels):
    transform = make_transform(name)
    with pytest.raises(
        ValueError,
        match=rf"{name}: `images` must have 3 channel\(s\).*Received: images.shape=.*"
        rf"with {channels} channel\(s\)\. .*image\[\.\.\., :3\]",
    ):
        transform(np.zeros((4, 4, channels), np.float32))


@pytest.mark.parametrize("name", ["ToLab", "ToHSV", "ToYUV", "ToGrayscale"])
def test_unknown_output_range_is_rejected(name):
    with pytest.raises(
        ValueError,
        match=rf"{name}: `output_range` must be one of \['native', 'symmetric', 'unit'\]\. "
        r"Received: output_range='0-1'",
    ):
        make_transform(name, output_range="0-1")


# -- Issue 15 regressions: bad input fails early with the fix, never as a raw TF error --


def test_a_python_list_of_images_is_a_batch(transform_name):
    # D15: `kit.to_grayscale()([img0, img1])` transformed only the first image.
    transform = make_transform(transform_name)
    images = rgb_batch(num=2)
    from_list = transform([images[0], images[1]])
    assert from_list.shape == expected_shape(transform_name, images.shape, transform)
    assert_matches(from_list, transform(images).numpy(), is_deterministic(transform_name))


def test_a_list_of_images_of_different_sizes_is_rejected_with_the_fix(transform_name):
    # D15
    transform = make_transform(transform_name)
    with pytest.raises(ValueError, match=rf"{transform_name}: `images` must be .* list of images"):
        transform([rgb_batch(1, 8, 8)[0], rgb_batch(1, 9, 8)[0]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_pixels_are_rejected(transform_name, bad):
    # D16: NaN/inf pixels passed silently.
    transform = make_transform(transform_name)
    images = rgb_batch(dtype=np.float32) / 255.0
    images[1, 3, 4, 2] = bad
    with pytest.raises(ValueError, match=rf"{transform_name}: float `images` must be finite.*NaN"):
        transform(images)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(2).map(transform)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must be finite"):
        list(dataset)


def test_images_in_0_255_under_the_default_range_fail_with_the_fix(transform_name):
    # Issue 18: float [0, 255] images read as [0, 1] gave silent garbage.
    transform = make_transform(transform_name)
    images = rgb_batch(dtype=np.float32)
    with pytest.raises(
        ValueError, match=rf"{transform_name}: .*Received: values from 0\.0 to 255\.0\. .*"
        r"image_dataset_from_directory.*value_range=\(0, 255\)"
    ):
        transform(images)
    in_a_model_pipeline = tf.data.Dataset.from_tensor_slices(images).batch(2).map(transform)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"value_range=\(0, 255\)"):
        list(in_a_model_pipeline)


def test_overshoot_of_in_range_images_is_accepted(transform_name):
    # Lanczos-5 overshoots [0, 1] by up to 0.93 on a checkerboard: a kit resize before
    # another transform must not trip the range check.
    checkerboard = (np.indices((8, 8)).sum(axis=0) % 2).astype(np.float32)
    upscaled = kit.resize(24, 24, mode="stretch", interpolation="lanczos5")(
        np.repeat(checkerboard[..., None], 3, axis=-1)
    )
    assert float(tf.reduce_max(upscaled)) > 1.5
    out = make_transform(transform_name)(upscaled)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (2, 0, 0, 3)])
def test_empty_images_are_rejected(transform_name, shape):
    # D17: 0-size images gave raw TF errors in resize/augment.
    transform = make_transform(transform_name)
    with pytest.raises(ValueError, match=rf"{transform_name}: `images` must be at least 1 pixel"):
        transform(np.zeros(shape, np.uint8))


def test_empty_images_of_unknown_size_fail_with_the_fix(transform_name):
    # D17, in a pipeline of images of unknown size.
    sizes = [(3, 4, 3), (0, 4, 3)]
    dataset = tf.data.Dataset.from_generator(
        lambda: (np.zeros(size, np.uint8) for size in sizes),
        output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    ).map(make_transform(transform_name))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"must be at least 1 pixel .*dataset\.filter"
    ):
        list(dataset)


@pytest.mark.parametrize(
    "value_range",
    [(-1e308, 1e308), (0, 1e31), (1e9, 1e9 + 1), (0, 1e-31), (np.nan, 1), (0, 2**1024)],
)
def test_value_ranges_float32_cannot_resolve_are_rejected(transform_name, value_range):
    # D21: value_range=(-1e308, 1e308) gave all-NaN images.
    with pytest.raises(ValueError, match=rf"{transform_name}: `value_range` must be a pair"):
        make_transform(transform_name, value_range=value_range)


@pytest.mark.parametrize("value_range", [(-1e30, 1e30), (0, 1e-30), (1e4, 1e4 + 2), (-1, 1)])
def test_extreme_accepted_value_ranges_give_finite_images(transform_name, value_range):
    # D21
    low, high = value_range
    images = low + (high - low) * (rgb_batch(dtype=np.float64) / 255.0)
    out = make_transform(transform_name, value_range=value_range)(images.astype(np.float32))
    assert np.isfinite(out).all()
