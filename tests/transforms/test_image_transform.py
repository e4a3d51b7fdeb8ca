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
