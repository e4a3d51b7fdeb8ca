"""kit.show_batch: the first images with their labels, and their augmented copies, as a PNG."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting import rendering

CELL_HEIGHT = rendering.CELL_SIZE + rendering.CAPTION_HEIGHT + 2  # with the spacing
CELL_WIDTH = rendering.CELL_SIZE + 2


def digits_uint8(num=20):
    data = load_digits()
    images = np.round(data.images[:num] * 255 / 16).astype(np.uint8)[..., None]
    return images, data.target[:num].astype(np.int64)


def cell_pixels(decoded, row, column):
    """The 8x8 image drawn in a cell (each pixel drawn 12x12), from its centres."""
    y0, x0 = row * CELL_HEIGHT, column * CELL_WIDTH
    return decoded[y0 + 6 : y0 + 96 : 12, x0 + 6 : x0 + 96 : 12, 0]


def test_show_batch_draws_the_first_images_with_their_labels(tmp_path):
    images, labels = digits_uint8()
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(3)
    names = [f"n{i}" for i in range(10)]
    figure = kit.show_batch(dataset, class_names=names, num_images=7, num_columns=4,
                            path=tmp_path / "batch.png")
    np.testing.assert_array_equal(figure.data["images"], images[:7])
    np.testing.assert_array_equal(figure.data["labels"], labels[:7])
    assert [caption[0] for caption in figure.data["captions"]] == [names[i] for i in labels[:7]]
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "batch.png"))).numpy()
    assert decoded.shape == (2 * CELL_HEIGHT, 4 * CELL_WIDTH, 3)
    for index in range(7):
        np.testing.assert_array_equal(
            cell_pixels(decoded, index // 4, index % 4), images[index, :, :, 0]
        )
    assert figure.data["augmented"] is None


def test_show_batch_shows_each_row_above_its_augmented_copies(tmp_path):
    images, labels = digits_uint8()
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))  # unbatched
    figure = kit.show_batch(dataset, augment=lambda x: x[:, :, ::-1], num_images=6,
                            num_columns=3)
    decoded = tf.io.decode_png(figure.png()).numpy()
    assert decoded.shape == (4 * CELL_HEIGHT, 3 * CELL_WIDTH, 3)
    for index in range(6):
        row, column = 2 * (index // 3), index % 3
        original = images[index, :, :, 0]
        np.testing.assert_array_equal(cell_pixels(decoded, row, column), original)
        np.testing.assert_array_equal(cell_pixels(decoded, row + 1, column), original[:, ::-1])
    assert figure.data["captions"][:4] == [
        [str(labels[0]), "original"], [str(labels[1]), "original"],
        [str(labels[2]), "original"], [str(labels[0]), "augmented"],
    ]


def test_show_batch_with_kit_augment_is_reproducible_and_changes_the_images():
    images, labels = digits_uint8()
    augment = kit.augment(rotation_range=30, zoom_range=0.2, seed=3)
    first = kit.show_batch((images, labels), augment=augment, num_images=8, seed=1)
    again = kit.show_batch((images, labels), augment=augment, num_images=8, seed=1)
    other = kit.show_batch((images, labels), augment=augment, num_images=8, seed=2)
    np.testing.assert_array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)
    assert first.data["augmented"].shape == (8, 8, 8, 1)
    assert not np.allclose(first.data["augmented"], images[:8] / 255.0)


def test_show_batch_with_a_keras_layer_one_hot_labels_and_no_labels():
    images, labels = digits_uint8()
    one_hot = np.eye(10)[labels]
    layer = keras.layers.RandomFlip("horizontal", seed=0)
    figure = kit.show_batch((images.astype("float32"), one_hot), augment=layer, num_images=4)
    np.testing.assert_array_equal(figure.data["labels"], labels[:4])
    images_only = tf.data.Dataset.from_tensor_slices(images).batch(5)
    figure = kit.show_batch(images_only, num_images=2)
    assert figure.data["labels"] is None
    assert [caption[0] for caption in figure.data["captions"]] == ["#0", "#1"]


def test_show_batch_rejects_bad_input_early():
    images, labels = digits_uint8()
    with pytest.raises(ValueError, match=r"`num_images` must be a positive integer"):
        kit.show_batch((images, labels), num_images=0)
    with pytest.raises(ValueError, match=r"`class_names` must hold a name for every label"):
        kit.show_batch((images, labels), class_names=["a", "b"])
    with pytest.raises(TypeError, match=r"`augment` must be a kit.augment"):
        kit.show_batch((images, labels), augment="flip")
    with pytest.raises(ValueError, match=r"Add a channel axis"):
        kit.show_batch((images[..., 0].reshape(20, 64), labels))
    with pytest.raises(ValueError, match="empty dataset"):
        kit.show_batch(tf.data.Dataset.from_tensor_slices((images, labels)).take(0))


@pytest.mark.parametrize(
    "seed, message",
    [
        (None, r"`seed` must be an int\. Received: seed=None\. E\.g\. seed=0\.$"),
        ("1", r"`seed` must be an int\. Received: seed='1'\. E\.g\. seed=0\.$"),
        (True, r"`seed` must be an int\. Received: seed=True\."),
        (2**63, r"`seed` must be an int64 \(from -2\*\*63 to 2\*\*63 - 1\)\. Received: seed=9223"),
    ],
)
def test_the_seed_of_a_kit_augment_must_be_an_int64(seed, message):
    images, labels = digits_uint8()
    with pytest.raises(ValueError, match=r"^show_batch: " + message):
        kit.show_batch((images, labels), augment=kit.augment(rotation_range=10), seed=seed)
