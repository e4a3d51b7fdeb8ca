"""The ladder's inputs: an image directory (one folder per class) or the embedded digits."""

import os

import numpy as np
import tensorflow as tf

_OWNER = "kak improve"
#: File extensions `keras.utils.image_dataset_from_directory` reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def digits_datasets(validation_fraction=0.2, seed=0, batch_size=32):
    """Returns `(train, validation, class_names)`: scikit-learn's digits, split per class.

    The embedded default data of `kak improve --dataset digits` (8x8 grayscale images,
    values 0..16, 1797 of them), split with the same fraction in every class.

    Args:
        validation_fraction: Float in (0, 1). Share of each class for validation.
            Defaults to `0.2`.
        seed: Int. Seeds the split. Defaults to `0`.
        batch_size: Int. Defaults to `32`.

    Returns:
        Two batched `tf.data.Dataset`s of `(images, labels)` and the class names.
    """
    from sklearn.datasets import load_digits

    if not 0 < validation_fraction < 1:
        raise ValueError(
            f"{_OWNER}: `validation_fraction` must be in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}. E.g. 0.2."
        )
    digits = load_digits()
    images = digits.images[..., None].astype("float32")
    labels = digits.target.astype("int32")
    rng = np.random.default_rng(seed)
    validation = np.concatenate(
        [
            rng.permutation(np.flatnonzero(labels == c))[
                : max(1, int(round(validation_fraction * np.sum(labels == c))))
            ]
            for c in range(10)
        ]
    )
    train = rng.permutation(np.setdiff1d(np.arange(len(labels)), validation))
    return (
        tf.data.Dataset.from_tensor_slices((images[train], labels[train])).batch(batch_size),
        tf.data.Dataset.from_tensor_slices((images[validation], labels[validation])).batch(
            batch_size
        ),
        [str(c) for c in range(10)],
    )


def few_shot_digits(per_class=10, seed=0):
    """Returns `[(images, labels)] * 3`: few-shot train, validation and test splits of digits.

    `per_class` images of each class to train, `per_class` others to validate, the rest
    (about 1600) to test: the setting of `benchmarks/bench_accuracy.py`. Images are
    `(8, 8, 1)` float32 in [0, 16], labels int.

    Args:
        per_class: Int. Training (and validation) images per class. Defaults to `10`.
        seed: Int. Seeds the draw. Defaults to `0`.

    Returns:
        A list of three `(images, labels)` pairs of NumPy arrays.

    Example:

    >>> from keras_accuracy_kit.ladder import few_shot_digits
    >>> train, validation, test = few_shot_digits(per_class=5)
    >>> train[0].shape, validation[0].shape, len(test[0])
    ((50, 8, 8, 1), (50, 8, 8, 1), 1697)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[..., None].astype("float32"), digits.target.astype("int32")
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    )
    rest = np.setdiff1d(np.arange(len(labels)), train)
    validation = np.concatenate(
        [rng.choice(rest[labels[rest] == c], per_class, replace=False) for c in range(10)]
    )
    test = np.setdiff1d(rest, validation)
    return [(images[i], labels[i]) for i in (train, validation, test)]


def image_directory_datasets(
    directory, validation_split=0.2, seed=0, image_size=None, batch_size=32
):
    """Returns `(train, validation, class_names)` read from one folder per class.

    Checks the directory before any training: it must exist and hold images of at least
    two classes, all with the same channel count. Images are read with
    `keras.utils.image_dataset_from_directory` (values in [0, 255]) and split with
    `seed`; `image_size` defaults to the size of the first image.

    Args:
        directory: Path with one sub-folder of images per class.
        validation_split: Float in (0, 1). Defaults to `0.2`.
        seed: Int. Seeds the split. Defaults to `0`.
        image_size: Optional pair `(height, width)` every image is resized to (keeping
            the aspect ratio by cropping). Defaults to the first image's size.
        batch_size: Int. Defaults to `32`.

    Returns:
        Two batched `tf.data.Dataset`s of `(images, labels)` and the class names.
    """
    import keras

    files = _class_files(directory)
    shapes = {}
    for class_name, paths in files.items():
        for path in paths:
            shape = tuple(tf.io.decode_image(tf.io.read_file(path), expand_animations=False).shape)
            shapes.setdefault(shape[-1], []).append(path)
    if len(shapes) > 1:
        examples = {
            channels: os.path.relpath(paths[0], directory) for channels, paths in shapes.items()
        }
        raise ValueError(
            f"{_OWNER}: the images in `directory` must all have the same number of channels. "
            f"Received: mixed channel counts {sorted(shapes)} in {directory!r} (e.g. "
            f"{examples}). Convert them all to RGB (or all to grayscale) first."
        )
    channels = next(iter(shapes))
    if channels not in (1, 3):
        raise ValueError(
            f"{_OWNER}: the images in `directory` must be grayscale or RGB. Received: "
            f"{channels} channels. Drop the alpha channel first."
        )
    if image_size is None:
        first = next(iter(next(iter(files.values()))))
        image_size = tuple(
            tf.io.decode_image(tf.io.read_file(first), expand_animations=False).shape[:2]
        )
    train, validation = keras.utils.image_dataset_from_directory(
        directory,
        validation_split=validation_split,
        subset="both",
        seed=seed,
        image_size=tuple(image_size),
        batch_size=batch_size,
        color_mode="grayscale" if channels == 1 else "rgb",
        crop_to_aspect_ratio=True,
        verbose=False,
    )
    return train, validation, list(train.class_names)


def _class_files(directory):
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(
            f"{_OWNER}: `directory` must be an existing folder with one sub-folder of images "
            f"per class. Received: directory={directory!r}, which does not exist."
        )
    files = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            images = [
                os.path.join(path, f)
                for f in sorted(os.listdir(path))
                if f.lower().endswith(IMAGE_EXTENSIONS)
            ]
            if images:
                files[name] = images
    if not files:
        raise ValueError(
            f"{_OWNER}: `directory` must hold one sub-folder of images per class. Received: "
            f"directory={directory!r} with no images in any sub-folder ({IMAGE_EXTENSIONS}). "
            "Put each class's images in its own folder, e.g. DIR/cats/1.jpg, DIR/dogs/2.jpg."
        )
    if len(files) < 2:
        raise ValueError(
            f"{_OWNER}: `directory` must hold at least two classes. Received: only "
            f"{sorted(files)} in {directory!r}. Add a folder of images per other class."
        )
    return files
