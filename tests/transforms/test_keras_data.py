"""The data Keras itself produces: float32 images in [0, 255] (issue 18, the [0, 255] trap).

`keras.utils.image_dataset_from_directory` yields float32 in [0, 255] and Keras' image
layers assume `value_range=(0, 255)`, while the kit reads floats as [0, 1] unless told
(its own transforms output [0, 1], and the next transform must read them as such). On
Keras' data every kit transform must either give the right output or fail at once with
the fix: never silent garbage (a brightness clipped to [0, 1], L in the thousands).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

import keras_accuracy_kit as kit
from keras_accuracy_kit.transforms import CutMix, MixUp, registered_transforms
from tests.transforms.conftest import make_transform

PUBLIC_TRANSFORMS = sorted([*registered_transforms(), "MixUp", "CutMix"])
HEIGHT, WIDTH = 20, 24


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A directory of PNGs, what `image_dataset_from_directory` makes of it, and the pixels.

    Returns `(dataset, images, uint8)`: Keras' dataset (one batch of 6), its images as a
    numpy array, and the same pixels as uint8 in the same order.
    """
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    # Smooth colour gradients plus noise: contrast, hue and Lab have something to act on.
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    pixels = []
    for index in range(6):
        base = np.stack([rows * 9 + 20 * index, cols * 7, (rows + cols) * 5], -1)
        noisy = base + rng.integers(0, 40, (HEIGHT, WIDTH, 3))
        image = np.clip(noisy, 0, 255).astype(np.uint8)
        pixels.append(image)
        folder = root / f"class_{index % 2}"
        folder.mkdir(exist_ok=True)
        tf.io.write_file(str(folder / f"{index}.png"), tf.io.encode_png(image))
    dataset = keras.utils.image_dataset_from_directory(
        str(root), image_size=(HEIGHT, WIDTH), batch_size=6, shuffle=False, verbose=False
    )
    images, _ = next(iter(dataset))
    order = [0, 2, 4, 1, 3, 5]  # class by class, files sorted by name
    return dataset, images.numpy(), np.stack(pixels)[order]


def make(name, **arguments):
    if name == "MixUp":
        return MixUp(seed=0, **arguments)
    if name == "CutMix":
        return CutMix(seed=0, **arguments)
    return make_transform(name, **arguments)


def one_hot(dataset):
    return dataset.map(lambda images, labels: (images, tf.one_hot(labels, 2)))


def test_keras_yields_float32_in_0_255(photos):
    dataset, images, uint8 = photos
    assert dataset.element_spec[0].dtype == tf.float32
    np.testing.assert_array_equal(images, uint8.astype(np.float32))


@pytest.mark.parametrize("name", PUBLIC_TRANSFORMS)
def test_without_value_range_every_transform_fails_at_once_with_the_fix(photos, name):
    dataset, images, _ = photos
    transform = make(name)
    pipeline = one_hot(dataset).apply(transform) if name in ("MixUp", "CutMix") else (
        dataset.map(transform)
    )
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=rf"{name}: float `images` must be finite and within value_range=\(0\.0, 1\.0\).*"
        r"image_dataset_from_directory.*pass value_range=\(0, 255\)",
    ):
        next(iter(pipeline))
    with pytest.raises(ValueError, match=r"Received: values from .* to 2\d\d\.0\. "):
        if name in ("MixUp", "CutMix"):
            transform(images, np.eye(6, 2, dtype=np.float32))
        else:
            transform(images)


@pytest.mark.parametrize("name", PUBLIC_TRANSFORMS)
def test_with_value_range_0_255_every_transform_equals_its_uint8_result(photos, name):
    dataset, images, uint8 = photos
    seed = tf.constant([3, 4], tf.int64)
    from_keras = make(name, value_range=(0, 255))
    from_uint8 = make(name)
    if name in ("MixUp", "CutMix"):
        labels = np.eye(6, 2, dtype=np.float32)
        ours = from_keras.apply_with_seed((images, labels), seed)
        reference = from_uint8.apply_with_seed((uint8, labels), seed)
    elif name == "Augment":
        ours = from_keras.apply_with_seed(images, seed)
        reference = from_uint8.apply_with_seed(uint8, seed)
    else:
        ours, reference = from_keras(images), from_uint8(uint8)
        # In the pipeline too, batch after batch. float32 round-off relative to the
        # values' scale (Lab's L reaches 100: one value of 8640 differed by 1.05e-4 in a
        # graph on TensorFlow 2.21).
        np.testing.assert_allclose(
            next(iter(dataset.map(from_keras)))[0], reference, rtol=1e-5, atol=1e-4
        )
    for got, expected in zip(tf.nest.flatten(ours), tf.nest.flatten(reference)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_augment_brightness_and_contrast_are_not_clipped_to_0_1(photos):
    # Issue 18: with the default range these clipped every Keras image to [0, 1].
    _, images, _ = photos
    augment = kit.augment(brightness_range=(1.0, 1.0), contrast_range=(1.0, 1.0),
                          value_range=(0, 255), seed=0)
    np.testing.assert_allclose(augment(images) * 255.0, images, atol=1e-3)


@pytest.mark.parametrize("contrast", [0.5, 1.7])
def test_contrast_matches_keras_random_contrast(photos, contrast):
    _, images, _ = photos
    ours = kit.augment(contrast_range=(contrast, contrast), value_range=(0, 255), seed=0)(images)
    layer = keras.layers.RandomContrast(factor=0.5, value_range=(0, 255))
    factor = np.full((6, 1, 1, 1), contrast, np.float32)
    theirs = layer.transform_images(tf.constant(images), {"contrast_factor": factor})
    np.testing.assert_allclose(ours * 255.0, theirs, atol=2e-3)


def test_to_grayscale_matches_keras_random_grayscale(photos):
    _, images, _ = photos
    ours = kit.to_grayscale(keep_channels=3, value_range=(0, 255))(images)
    theirs = keras.layers.RandomGrayscale(factor=1.0)(images, training=True)
    np.testing.assert_allclose(ours * 255.0, theirs, atol=2e-3)


@pytest.mark.parametrize("mode,keras_arguments", [
    ("stretch", {}), ("crop", {"crop_to_aspect_ratio": True})
])
def test_resize_matches_keras_resizing(photos, mode, keras_arguments):
    _, images, _ = photos
    ours = kit.resize(15, 10, mode=mode, value_range=(0, 255))(images)
    theirs = keras.layers.Resizing(15, 10, **keras_arguments)(images)
    np.testing.assert_allclose(ours * 255.0, theirs, atol=2e-3)


def test_to_hsv_matches_keras_ops_and_to_lab_matches_scikit_image(photos):
    _, images, _ = photos
    hsv = kit.to_hsv(value_range=(0, 255))(images)
    np.testing.assert_allclose(hsv, keras.ops.image.rgb_to_hsv(images / 255.0), atol=1e-5)
    lab = kit.to_lab(value_range=(0, 255))(images).numpy()
    np.testing.assert_allclose(lab, skcolor.rgb2lab(images / 255.0), atol=2e-3)
    assert lab[..., 0].max() <= 100.0  # L stays in [0, 100], not in the thousands


def test_a_model_on_keras_data_trains_with_the_declared_range(photos):
    dataset, _, _ = photos
    inputs = keras.Input((HEIGHT, WIDTH, 3))
    x = kit.resize(16, 16, value_range=(0, 255))(inputs)
    x = kit.to_lab(output_range="unit")(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
