"""`image_directory_datasets`: photos brought to a trainable size, bad files named early."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.ladder.datasets import default_image_size, image_directory_datasets


def write_jpeg(path, height, width, colour, seed=0):
    """A `height` x `width` JPEG: `colour` plus a little noise, so classes are learnable."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    noise = np.random.default_rng(seed).integers(-20, 20, (height, width, 3))
    image = np.clip(np.asarray(colour)[None, None, :] + noise, 0, 255).astype("uint8")
    tf.io.write_file(path, tf.io.encode_jpeg(image, quality=90))
    return path


def photo_directory(root, per_class=3, height=800, width=1000):
    """Two classes of large photos (issue 18 item 3: 1000x800 JPEGs)."""
    for name, colour in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        for index in range(per_class):
            write_jpeg(os.path.join(root, name, f"{index}.jpg"), height, width, colour, index)
    return root


def _images(dataset):
    return np.concatenate([images.numpy() for images, _ in dataset])


def test_default_size_keeps_small_images_and_shrinks_photos():
    # Hand-derived: the median 800x1000 photo scaled so its shorter side is 64.
    assert default_image_size([(800, 1000)] * 3 + [(600, 400)]) == (64, 80)
    assert default_image_size([(1200, 900)]) == (85, 64)
    assert default_image_size([(8, 8), (8, 8)]) == (8, 8)
    assert default_image_size([(28, 100)]) == (28, 100)
    assert default_image_size([(800, 1000)], max_shorter_side=128) == (128, 160)


def test_large_photos_are_not_trained_at_the_first_images_size(tmp_path):
    root = photo_directory(str(tmp_path / "photos"))
    train, validation, class_names = image_directory_datasets(root, validation_split=0.34)
    assert class_names == ["blue", "red"]
    images = _images(train)
    assert images.shape[1:] == (64, 80, 3) and images.dtype == np.float32
    # Keras' convention for directory data: values in [0, 255] (not [0, 1]).
    assert 150 < images.max() <= 255 and images.min() >= 0
    # Stratified split: one image of each class validates, the other two train.
    labels = np.concatenate([labels.numpy() for _, labels in validation])
    assert sorted(labels.tolist()) == [0, 1] and len(images) == 4


def test_image_size_override_pads_to_keep_the_aspect_ratio(tmp_path):
    root = str(tmp_path / "photos")
    for name in ("a", "b"):
        for index in range(2):
            path = os.path.join(root, name, f"{index}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # A white 100x50 (tall) image: letterboxed into 32x32 it fills columns 8..23.
            tf.io.write_file(path, tf.io.encode_png(np.full((100, 50, 3), 255, np.uint8)))
    train, _, _ = image_directory_datasets(root, image_size=(32, 32), validation_split=0.5)
    images = _images(train)
    assert images.shape[1:] == (32, 32, 3)
    np.testing.assert_allclose(images[:, :, 9:23], 255.0, atol=1e-3)
    np.testing.assert_allclose(images[:, :, :7], 0.0, atol=1e-3)
    np.testing.assert_allclose(images[:, :, 25:], 0.0, atol=1e-3)


def test_images_of_the_target_size_are_read_unchanged(tmp_path):
    root = str(tmp_path / "digits")
    expected = {}
    for name in ("a", "b"):
        for index in range(2):
            image = np.random.default_rng(index + 10 * len(name)).integers(0, 256, (8, 8, 1))
            path = os.path.join(root, name, f"{index}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tf.io.write_file(path, tf.io.encode_png(image.astype(np.uint8)))
            expected[path] = image
    train, validation, _ = image_directory_datasets(root, validation_split=0.5)
    images = np.concatenate([_images(train), _images(validation)])
    assert images.shape[1:] == (8, 8, 1)
    found = {tuple(image.ravel()) for image in images}
    assert found == {tuple(image.ravel().astype(np.float32)) for image in expected.values()}


def test_corrupt_and_truncated_images_are_skipped_and_named(tmp_path):
    # Issue 15 D24: a corrupt or truncated file is named before any training.
    root = photo_directory(str(tmp_path / "photos"), per_class=3, height=60, width=80)
    good = os.path.join(root, "red", "0.jpg")
    truncated = os.path.join(root, "red", "truncated.jpg")
    with open(good, "rb") as source, open(truncated, "wb") as target:
        target.write(source.read()[:300])
    garbage = os.path.join(root, "blue", "garbage.png")
    with open(garbage, "wb") as target:
        target.write(b"not a png at all")
    with pytest.warns(UserWarning, match=r"skipped 2 image file\(s\)") as caught:
        train, validation, _ = image_directory_datasets(root, validation_split=0.34)
    message = str(caught[0].message)
    assert truncated in message and garbage in message
    assert "{{" not in message and "[Op:" not in message  # TF's op prefixes are cut
    assert len(_images(train)) + len(_images(validation)) == 6


def test_a_class_of_unreadable_images_stops_with_its_name(tmp_path):
    root = photo_directory(str(tmp_path / "photos"), per_class=2, height=30, width=40)
    for index in range(2):
        with open(os.path.join(root, "blue", f"{index}.jpg"), "wb") as target:
            target.write(b"\xff\xd8\xff broken")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"\['blue'\]"):
        image_directory_datasets(root)


def test_a_class_with_a_single_image_stops_before_training(tmp_path):
    # Issue 15 D26: Keras said "No training images found" only after training started.
    root = photo_directory(str(tmp_path / "photos"), per_class=1, height=30, width=40)
    with pytest.raises(ValueError, match=r"at least two images .*'blue': 1"):
        image_directory_datasets(root)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"batch_size": 0}, r"`batch_size` must be a positive int. Received: batch_size=0"),
        ({"batch_size": -4}, r"batch_size=-4"),
        ({"image_size": (0, 0)}, r"`image_size` must be a pair of ints .* image_size=\(0, 0\)"),
        ({"image_size": (-5, 8)}, r"image_size=\(-5, 8\)"),
        ({"validation_split": 0}, r"`validation_split` must be a float in \(0, 1\)"),
        ({"validation_split": 1.0}, r"validation_split=1.0"),
    ],
)
def test_invalid_arguments_are_named(tmp_path, arguments, match):
    # Issue 15 D27; checked before the directory is read.
    with pytest.raises(ValueError, match=match):
        image_directory_datasets(str(tmp_path / "missing"), **arguments)


def test_a_file_instead_of_a_directory_is_called_a_file(tmp_path):
    # Issue 15 D25: it said the file "does not exist".
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="which is a file, not a folder"):
        image_directory_datasets(str(path))


def test_decoded_images_are_cached_and_reshuffled_each_epoch(tmp_path):
    root = photo_directory(str(tmp_path / "photos"), per_class=8, height=40, width=50)
    train, validation, _ = image_directory_datasets(root, validation_split=0.25)
    first = _images(train)
    _images(validation)
    for folder in ("red", "blue"):  # later epochs must not need the files
        for name in os.listdir(os.path.join(root, folder)):
            os.remove(os.path.join(root, folder, name))
    second = _images(train)
    assert sorted(map(bytes, first)) == sorted(map(bytes, second))
    assert not np.array_equal(first, second)  # a new order each epoch
    assert len(_images(validation)) == 4
