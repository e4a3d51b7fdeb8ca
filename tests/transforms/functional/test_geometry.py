"""Resize geometry: a table of hand-derived values and images whose content is known."""

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transforms import functional as F

# (input h, w), (target h, w), mode -> crop (top, left, h, w), resized (h, w), pad (top, left)
GEOMETRY_TABLE = [
    # 640x480 landscape letterboxed to a square: scale 0.35, bars of 28 rows.
    ((480, 640), (224, 224), "pad", (0, 0, 480, 640), (168, 224), (28, 0)),
    ((640, 480), (224, 224), "pad", (0, 0, 640, 480), (224, 168), (0, 28)),
    ((100, 100), (50, 80), "pad", (0, 0, 100, 100), (50, 50), (0, 15)),
    # 3x5 to 4x4: scale 0.8, 2.4 rows round to 2, one bar row on top, one at the bottom.
    ((3, 5), (4, 4), "pad", (0, 0, 3, 5), (2, 4), (1, 0)),
    # A 1-pixel-high sliver keeps at least one row.
    ((1, 1000), (10, 10), "pad", (0, 0, 1, 1000), (1, 10), (4, 0)),
    # Centre crop of a 480x480 window, 80 columns cut from each side.
    ((480, 640), (224, 224), "crop", (0, 80, 480, 480), (224, 224), (0, 0)),
    # Scale 0.8: 62.5 rows round to 63, 37 rows cut: 18 at the top, 19 at the bottom.
    ((100, 100), (50, 80), "crop", (18, 0, 63, 100), (50, 80), (0, 0)),
    ((480, 640), (224, 224), "stretch", (0, 0, 480, 640), (224, 224), (0, 0)),
]


def as_tuple(geometry):
    values = {key: int(value) for key, value in geometry.items()}
    return (
        (values["crop_top"], values["crop_left"], values["crop_height"], values["crop_width"]),
        (values["resized_height"], values["resized_width"]),
        (values["pad_top"], values["pad_left"]),
    )


@pytest.mark.parametrize("size,target,mode,crop,resized,pad", GEOMETRY_TABLE)
def test_geometry_table(size, target, mode, crop, resized, pad):
    assert as_tuple(F.resize_geometry(*size, *target, mode)) == (crop, resized, pad)


@pytest.mark.parametrize("size,target,mode,crop,resized,pad", GEOMETRY_TABLE)
def test_geometry_in_graph_matches_table(size, target, mode, crop, resized, pad):
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)] * 2)
    def geometry(height, width):
        return F.resize_geometry(height, width, *target, mode)

    assert as_tuple(geometry(*size)) == (crop, resized, pad)


def column_index_image(height=40, width=80, dtype=np.float32):
    """An image whose every pixel holds its column index (3 identical channels)."""
    columns = np.broadcast_to(np.arange(width, dtype=dtype)[None, :, None], (height, width, 3))
    return np.ascontiguousarray(columns)


def test_pad_places_content_in_a_centred_letterbox():
    # 40x80 -> 20x20: scale 0.25, content 10x20 at rows 5..14. Area resampling by 4
    # averages columns 4j..4j+3, i.e. 4j + 1.5.
    out = F.resize_images(
        column_index_image(), 20, 20, mode="pad", interpolation="area", pad_value=-1.0
    ).numpy()
    expected_row = 4 * np.arange(20) + 1.5
    np.testing.assert_allclose(out[5:15, :, 0], np.tile(expected_row, (10, 1)), atol=1e-4)
    assert (out[:5] == -1).all() and (out[15:] == -1).all()


def test_crop_keeps_the_centre_window():
    # 40x80 -> 20x20: scale 0.5, window of columns 20..59; area by 2: 20 + 2j + 0.5.
    out = F.resize_images(column_index_image(), 20, 20, mode="crop", interpolation="area")
    expected_row = 20 + 2 * np.arange(20) + 0.5
    np.testing.assert_allclose(out.numpy()[..., 1], np.tile(expected_row, (20, 1)), atol=1e-4)


def test_stretch_equals_tf_image_resize():
    image = column_index_image()
    np.testing.assert_allclose(
        F.resize_images(image, 30, 30, mode="stretch"), tf.image.resize(image, (30, 30))
    )


def test_crop_matches_keras_resizing_crop_to_aspect_ratio():
    import keras

    image = np.random.default_rng(0).random((2, 48, 64, 3)).astype(np.float32)
    keras_crop = keras.layers.Resizing(24, 24, crop_to_aspect_ratio=True)(image)
    np.testing.assert_allclose(F.resize_images(image, 24, 24, mode="crop"), keras_crop, atol=1e-5)


def test_per_channel_pad_value():
    out = F.resize_images(np.ones((2, 4, 3), np.float32), 4, 4, pad_value=[0.1, 0.2, 0.3])
    np.testing.assert_allclose(out.numpy()[0, 0], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(out.numpy()[1, 1], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("mode", ["pad", "crop", "stretch"])
def test_batched_static_and_dynamic_shapes_agree(mode):
    batch = np.stack([column_index_image(), column_index_image()[::-1]])

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def dynamic(images):
        return F.resize_images(images, 20, 24, mode=mode)

    static = F.resize_images(batch, 20, 24, mode=mode)
    assert static.shape == (2, 20, 24, 3)
    np.testing.assert_allclose(dynamic(batch), static, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"height": 0}, r"resize_images: `height` must be a positive integer\. Received: height=0"),
        ({"width": 2.5}, r"`width` must be a positive integer\. Received: width=2.5"),
        (
            {"mode": "fit"},
            r"`mode` must be one of \['crop', 'pad', 'stretch'\]\. Received: mode='fit'",
        ),
        (
            {"interpolation": "cubic"},
            r"`interpolation` must be one of .*'bicubic'.*Received: interpolation='cubic'",
        ),
    ],
)
def test_resize_images_rejects_bad_arguments(kwargs, message):
    arguments = {"height": 8, "width": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        F.resize_images(np.zeros((4, 4, 3), np.float32), **arguments)
