"""kit.resize: shapes, geometry on known content, per-image and batched use, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from keras_accuracy_kit.transforms import CutMix, MixUp
from tests.transforms.conftest import expected_shape, make_transform


def column_image(height=40, width=80):
    """uint8 image whose every pixel holds its column index."""
    return np.broadcast_to(
        np.arange(width, dtype=np.uint8)[None, :, None], (height, width, 3)
    ).copy()


def test_images_of_different_sizes_batch_after_resize():
    sizes = [(480, 640), (640, 480), (100, 100), (7, 300)]
    dataset = tf.data.Dataset.from_generator(
        lambda: (np.full((h, w, 3), 200, np.uint8) for h, w in sizes),
        output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    )
    for mode in ["pad", "crop", "stretch"]:
        batch = next(iter(dataset.map(kit.resize(32, 48, mode=mode)).batch(4)))
        assert batch.shape == (4, 32, 48, 3)
        assert batch.dtype == tf.float32
        if mode != "pad":
            np.testing.assert_allclose(batch, 200 / 255, atol=1e-6)


def test_pad_mode_letterboxes_with_pad_value_in_output_units():
    out = kit.resize(20, 20, mode="pad", interpolation="area", pad_value=0.5)(column_image())
    out = out.numpy()
    # 40x80 -> content 10x20 at rows 5..14; area by 4 averages columns 4j..4j+3.
    np.testing.assert_allclose(
        out[5:15, :, 0], np.tile((4 * np.arange(20) + 1.5) / 255, (10, 1)), atol=1e-6
    )
    np.testing.assert_allclose(out[:5], 0.5)
    np.testing.assert_allclose(out[15:], 0.5)


def test_pad_value_is_in_output_units_for_declared_value_range():
    image = np.full((10, 20, 3), 255.0, np.float32)
    out = kit.resize(20, 20, pad_value=[0.0, 0.5, 1.0], value_range=(0, 255))(image).numpy()
    np.testing.assert_allclose(out[0, 0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(out[10, 10], [1.0, 1.0, 1.0])


def test_crop_mode_keeps_the_centre():
    out = kit.resize(20, 20, mode="crop", interpolation="area")(column_image()).numpy()
    np.testing.assert_allclose(out[3, :, 2], (20 + 2 * np.arange(20) + 0.5) / 255, atol=1e-6)


def test_nearest_on_uint8_is_exact():
    out = kit.resize(20, 40, mode="stretch", interpolation="nearest")(column_image()).numpy()
    # Half-pixel centres: output column j samples input column floor((j + 0.5) * 2).
    np.testing.assert_allclose(out[0, :, 0], (2 * np.arange(40) + 1) / 255)


def test_batched_resize_matches_per_image():
    batch = np.stack([column_image(), column_image()[::-1, ::-1]])
    layer = kit.resize(30, 30, mode="pad", pad_value=0.25)
    np.testing.assert_allclose(layer(batch), np.stack([layer(image) for image in batch]), atol=1e-6)


def test_pad_matches_keras_resizing_away_from_the_border():
    # Keras pads the source to the aspect ratio then resizes; we resize then pad. With
    # nearest interpolation on an exact 2x downscale both sample the same pixels.
    image = np.random.default_rng(0).random((1, 40, 80, 3)).astype(np.float32)
    ours = kit.resize(40, 40, mode="pad", interpolation="nearest")(image).numpy()
    theirs = keras.layers.Resizing(40, 40, interpolation="nearest", pad_to_aspect_ratio=True)(
        image
    ).numpy()
    np.testing.assert_allclose(ours[:, 10:30], theirs[:, 10:30])
    assert (ours[:, :10] == 0).all() and (ours[:, 30:] == 0).all()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"height": -3}, r"Resize: `height` must be a positive integer\. Received: height=-3\."),
        ({"width": 0}, r"Resize: `width` must be a positive integer\. Received: width=0\."),
        ({"height": True}, r"Resize: `height` must be a positive integer\. Received: height=True"),
        (
            {"mode": "letterbox"},
            r"Resize: `mode` must be one of \['crop', 'pad', 'stretch'\]\. "
            r"Received: mode='letterbox'",
        ),
        (
            {"interpolation": "linear"},
            r"Resize: `interpolation` must be one of .*Received: interpolation='linear'",
        ),
        (
            {"pad_value": "black"},
            r"Resize: `pad_value` must be a float .*Received: pad_value='black'",
        ),
        (
            {"antialias": "yes"},
            r"Resize: `antialias` must be True or False\. Received: antialias='yes'",
        ),
    ],
)
def test_bad_arguments_are_rejected_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kit.resize(**{"height": 8, "width": 8, **kwargs})


def test_pad_value_per_channel_must_match_channels():
    with pytest.raises(ValueError, match=r"one value per channel.*with 3 channel\(s\)"):
        kit.resize(8, 8, pad_value=[0.0, 1.0])(np.zeros((4, 4, 3), np.uint8))


def decoded_photos():
    """What a `tf.io.decode_jpeg` pipeline gives: uint8 images of unknown size, 3 channels."""
    sizes = [(40, 50), (37, 61), (64, 30), (33, 33)]
    rng = np.random.default_rng(0)
    return tf.data.Dataset.from_generator(
        lambda: ((rng.integers(0, 256, (h, w, 3)).astype(np.uint8), i % 2)
                 for i, (h, w) in enumerate(sizes)),
        output_signature=(
            tf.TensorSpec([None, None, 3], tf.uint8),
            tf.TensorSpec([], tf.int32),
        ),
    )


@pytest.mark.parametrize("mode", ["crop", "pad", "stretch"])
def test_every_mode_keeps_the_channel_count_on_images_of_unknown_size(mode):
    # Issue 18: crop lost the channel dimension, (32, 32, None), on decode_jpeg pipelines.
    resized = decoded_photos().map(kit.resize(32, 32, mode=mode))
    assert resized.element_spec[0].shape == (32, 32, 3)
    assert resized.batch(2).element_spec[0].shape == (None, 32, 32, 3)
    batched = decoded_photos().batch(1).map(kit.resize(32, 32, mode=mode))
    assert batched.element_spec[0].shape == (None, 32, 32, 3)


def test_every_transform_runs_after_crop_on_images_of_unknown_size(transform_name):
    transform = make_transform(transform_name)
    dataset = decoded_photos().map(kit.resize(32, 32, mode="crop")).map(transform)
    expected = expected_shape(transform_name, (32, 32, 3), transform)
    assert dataset.element_spec[0].shape == expected
    images = np.stack([image.numpy() for image, _ in dataset])
    assert images.shape == (4,) + expected and np.isfinite(images).all()
    # After batch() as well.
    batches = decoded_photos().map(kit.resize(32, 32, mode="crop")).batch(4).map(transform)
    assert next(iter(batches))[0].shape == (4,) + expected


@pytest.mark.parametrize("mixing", [MixUp, CutMix])
def test_label_mixing_runs_after_crop_on_images_of_unknown_size(mixing):
    batches = decoded_photos().map(kit.resize(32, 32, mode="crop")).batch(4)
    one_hot = batches.map(lambda x, y: (x, tf.one_hot(y, 2)))
    assert one_hot.element_spec[0].shape == (None, 32, 32, 3)
    mixed, labels = next(iter(one_hot.apply(mixing(seed=0))))
    assert mixed.shape == (4, 32, 32, 3) and labels.shape == (4, 2)


def test_readme_in_model_snippet_exports_and_serves(tmp_path):
    # Issue 18: model.export() failed on the README's crop-then-grayscale model.
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = kit.resize(160, 160, mode="crop")(inputs)
    x = kit.to_grayscale(keep_channels=3)(x)
    model = keras.Model(inputs, x)
    model.export(str(tmp_path / "exported"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "exported"))
    photos = np.random.default_rng(0).integers(0, 256, (2, 200, 300, 3)).astype(np.uint8)
    output = served.serve(tf.constant(photos))
    assert output.shape == (2, 160, 160, 3)
    np.testing.assert_allclose(output, model(photos), atol=1e-6)


@pytest.mark.parametrize("pad_value", [np.nan, np.inf, 5.0, -0.1, [0.0, np.nan, 1.0], [0.5, 2.0]])
def test_pad_values_outside_0_1_are_rejected(pad_value):
    # D16: pad_value accepted NaN/inf and 5.0 (documented [0, 1]).
    with pytest.raises(ValueError, match=r"`pad_value` must be .* in output units \[0, 1\]"):
        kit.resize(8, 8, pad_value=pad_value)


@pytest.mark.parametrize(
    "pad_value, message",
    [
        (
            [0.5, 2.0, -1],
            r"one per channel\. Received: pad_value=\[0\.5, 2\.0, -1\]\. Remove \[2\.0, -1\]",
        ),
        ([], r"a non-empty list of floats in output units \[0, 1\], one per channel"),
        ((True,), r"Remove \[True\], or pass e\.g\. pad_value=\[0\.5, 0\.5, 0\.5\]\.$"),
        ("0.5", r"a float or a list .*Received: pad_value='0\.5'\. E\.g\. pad_value=0\.5 for gray"),
    ],
)
def test_bad_pad_values_are_named(pad_value, message):
    with pytest.raises(ValueError, match=r"^Resize: `pad_value` must be .*" + message):
        kit.resize(8, 8, pad_value=pad_value)
    assert kit.resize(8, 8, pad_value=(np.float32(0.25), 1)).pad_value == [0.25, 1.0]


@pytest.mark.parametrize("size", [1 << 40, (1 << 16) + 1])
def test_sizes_beyond_the_largest_image_side_are_rejected(size):
    # D19: kit.resize(1 << 40, 4) failed at call with a cryptic "Pack" error.
    with pytest.raises(
        ValueError, match=rf"`height` must be at most 65536 pixels\. Received: height={size}\."
    ):
        kit.resize(size, 4)
    with pytest.raises(ValueError, match=rf"`width` must be at most 65536 pixels"):
        kit.resize(4, size)
    assert kit.resize(1 << 16, 4).height == 1 << 16
