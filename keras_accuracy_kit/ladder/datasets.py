"""The ladder's inputs: an image directory (one folder per class) or the embedded digits."""

import os
import warnings

import numpy as np
import tensorflow as tf

from keras_accuracy_kit.transforms.resize import Resize

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
    if (
        isinstance(validation_fraction, bool)
        or not isinstance(validation_fraction, (int, float))
        or not 0 < validation_fraction < 1
    ):
        raise ValueError(
            f"{_OWNER}: `validation_fraction` must be in (0, 1). Received: "
            f"validation_fraction={validation_fraction!r}. E.g. 0.2."
        )
    _check_arguments(0.5, batch_size, None)
    digits = _load_digits()
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
    digits = _load_digits()
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


#: The shorter side (pixels) `image_directory_datasets` brings photos down to by default.
DEFAULT_MAX_SHORTER_SIDE = 64
#: Decoded images (uint8, at the training size) up to this many bytes are kept in memory.
CACHE_BYTES = 1 << 30


def image_directory_datasets(
    directory, validation_split=0.2, seed=0, image_size=None, batch_size=32
):
    """Returns `(train, validation, class_names)` read from one folder per class.

    Checks the directory before any training: it must exist and hold images of at least
    two classes, each with at least two images (one to train on, one to validate), all
    with the same channel count. Every image is decoded once to check it: a corrupt or
    truncated file is skipped with a warning that names it (a class left without images
    stops it). The split is stratified: `validation_split` of each class (at least one
    image) is set apart, seeded by `seed`.

    Images keep Keras' convention (float32 in [0, 255], as from
    `keras.utils.image_dataset_from_directory`). They are brought to one size with
    `kit.resize(mode="pad")` (aspect ratio kept, letterboxed, antialiased):
    `image_size`, or by default the median image's size scaled down so that its shorter
    side is at most `DEFAULT_MAX_SHORTER_SIDE` (64) pixels. A folder of 1200x900 photos
    is trained at 85x64, not at full size; images already at the default size and no
    larger are left as they are (`default_image_size`). The decoded images are kept in
    memory (as uint8) when they fit in `CACHE_BYTES` (1 GiB), so later epochs read no files.

    Args:
        directory: Path with one sub-folder of images per class.
        validation_split: Float in (0, 1). Share of each class set apart for validation.
            Defaults to `0.2`.
        seed: Int. Seeds the split and the training set's shuffling. Defaults to `0`.
        image_size: Optional pair of positive ints `(height, width)` every image is
            brought to (aspect ratio kept by padding). Defaults to `None` (see above).
        batch_size: Positive int. Defaults to `32`.

    Returns:
        Two batched `tf.data.Dataset`s of `(images, labels)` (training shuffled each
        epoch) and the class names (the sub-folder names, sorted).
    """
    validation_split, batch_size, image_size = _check_arguments(
        validation_split, batch_size, image_size
    )
    files = _class_files(directory)
    readable, shapes = _readable_images(files)
    empty = sorted(set(files) - set(readable))
    if empty:
        raise ValueError(
            f"{_OWNER}: every class folder must hold readable images. Received: no image "
            f"of class(es) {empty} in {os.fspath(directory)!r} could be decoded (see the "
            "skipped files above). Replace those files."
        )
    _check_class_sizes(readable, directory)
    channels = _check_channels(shapes, directory)
    sizes = [shape[:2] for _, shape in shapes]
    if image_size is None:
        image_size = default_image_size(sizes)
    resize = None
    if any(tuple(size) != image_size for size in sizes):
        resize = Resize(*image_size, mode="pad", antialias=True)
    load = _loader(resize, image_size, channels)

    # Decoding a photo costs milliseconds and every epoch of every step reads the data:
    # the small decoded images are kept in memory when they fit in `CACHE_BYTES`.
    num_images = sum(len(paths) for paths in readable.values())
    cache = num_images * image_size[0] * image_size[1] * channels <= CACHE_BYTES

    class_names = sorted(readable)
    parts = _stratified_split(readable, class_names, validation_split, seed)
    datasets = {
        part: _pipeline(paths, labels, load, cache, part == "train", seed, batch_size)
        for part, (paths, labels) in parts.items()
    }
    return datasets["train"], datasets["validation"], class_names


def _readable_images(files):
    """({class: decodable paths}, [(path, shape)]); warns (naming them) of the others.

    Every image is decoded once; a file that fails, or has 0 pixels, is skipped.
    """
    readable, shapes, unreadable = {}, [], []
    for class_name, paths in files.items():
        for path in paths:
            try:
                shape = tuple(
                    tf.io.decode_image(tf.io.read_file(path), expand_animations=False).shape
                )
            except (tf.errors.OpError, OSError) as error:
                unreadable.append((path, _reason(error)))
                continue
            if 0 in shape[:2]:
                unreadable.append((path, "an empty image (0 pixels)"))
                continue
            readable.setdefault(class_name, []).append(path)
            shapes.append((path, shape))
    if unreadable:
        listed = "; ".join(f"{path}: {reason}" for path, reason in unreadable[:10])
        more = f" (and {len(unreadable) - 10} more)" if len(unreadable) > 10 else ""
        warnings.warn(
            f"{_OWNER}: skipped {len(unreadable)} image file(s) that cannot be decoded "
            f"(corrupt, truncated or not an image): {listed}{more}. Re-export or remove "
            "them to use them.",
            stacklevel=3,  # the caller of image_directory_datasets
        )
    return readable, shapes


def _loader(resize, image_size, channels):
    """The `map` function: a (path, label) pair to the decoded uint8 image and the label."""

    def load(path, label):
        """Decoded and brought to `image_size`, as uint8 (the form that is cached)."""
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=channels, expand_animations=False
        )
        if resize is not None:
            image = tf.cast(tf.round(resize(image) * 255.0), tf.uint8)
        return tf.ensure_shape(image, (*image_size, channels)), label

    return load


def _as_float(image, label):
    return tf.cast(image, tf.float32), label


def _stratified_split(readable, class_names, validation_split, seed):
    """{"train": (paths, labels), "validation": (paths, labels)}, stratified and seeded.

    Of each class, `validation_split` (at least one image, never all) goes to validation.
    """
    rng = np.random.default_rng(seed)
    parts = {"train": ([], []), "validation": ([], [])}
    for label, class_name in enumerate(class_names):
        paths = list(rng.permutation(readable[class_name]))
        num_validation = min(len(paths) - 1, max(1, int(round(validation_split * len(paths)))))
        for part, chosen in (
            ("validation", paths[:num_validation]),
            ("train", paths[num_validation:]),
        ):
            parts[part][0].extend(str(p) for p in chosen)
            parts[part][1].extend([label] * len(chosen))
    return parts


def _pipeline(paths, labels, load, cache, shuffle, seed, batch_size):
    """Batched float32 `(images, labels)` of `paths`, cached if `cache`, else read each epoch.

    The training set (`shuffle`) is shuffled anew each epoch, seeded by `seed`.
    """
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(paths), tf.constant(labels, tf.int32))
    )
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(_as_float).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def default_image_size(sizes, max_shorter_side=DEFAULT_MAX_SHORTER_SIDE):
    """Returns the `(height, width)` `kak improve PATH` trains at when given no size.

    The median height and width of the images, scaled down (never up) so that the
    shorter side is at most `max_shorter_side`: small images keep their size, photos are
    brought to a size a CPU trains in seconds, with their aspect ratio.

    Args:
        sizes: Sequence of `(height, width)` pairs, one per image.
        max_shorter_side: Positive int. Defaults to `DEFAULT_MAX_SHORTER_SIDE` (64).

    Returns:
        A pair of positive ints.

    Example:

    >>> from keras_accuracy_kit.ladder.datasets import default_image_size
    >>> default_image_size([(1200, 900), (1200, 900), (800, 1000)])
    (85, 64)
    >>> default_image_size([(8, 8), (8, 8)])
    (8, 8)
    """
    heights, widths = zip(*sizes)
    height, width = float(np.median(heights)), float(np.median(widths))
    scale = min(1.0, max_shorter_side / min(height, width))
    return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # scikit-learn is a core requirement: a broken install
        raise ValueError(
            f"{_OWNER}: the embedded digits data needs scikit-learn, which is not "
            f"importable ({error}). Fix it with `pip install scikit-learn`."
        ) from error
    return load_digits()


def _check_arguments(validation_split, batch_size, image_size):
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, (int, float))
        or not 0 < validation_split < 1
    ):
        raise ValueError(
            f"{_OWNER}: `validation_split` must be a float in (0, 1). Received: "
            f"validation_split={validation_split!r}. E.g. 0.2 (a fifth of each class)."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"{_OWNER}: `batch_size` must be a positive int. Received: "
            f"batch_size={batch_size!r}. E.g. 32."
        )
    if image_size is not None:
        if (
            not isinstance(image_size, (tuple, list))
            or len(image_size) != 2
            or any(isinstance(s, bool) or not isinstance(s, int) for s in image_size)
            or not all(1 <= s <= 65536 for s in image_size)
        ):
            raise ValueError(
                f"{_OWNER}: `image_size` must be a pair of ints (height, width) in "
                f"[1, 65536]. Received: image_size={image_size!r}. E.g. (64, 64)."
            )
        image_size = tuple(image_size)
    return float(validation_split), batch_size, image_size


def _check_class_sizes(files, directory):
    too_small = {name: len(paths) for name, paths in files.items() if len(paths) < 2}
    if too_small:
        raise ValueError(
            f"{_OWNER}: every class must hold at least two images (one to train on, one "
            f"to validate). Received: {too_small} image(s) in {os.fspath(directory)!r}. "
            "Add images to those folders or remove them."
        )


def _check_channels(shapes, directory):
    by_channels = {}
    for path, shape in shapes:
        by_channels.setdefault(shape[-1], path)
    if len(by_channels) > 1:
        examples = {
            channels: os.path.relpath(path, directory) for channels, path in by_channels.items()
        }
        raise ValueError(
            f"{_OWNER}: the images in `directory` must all have the same number of channels. "
            f"Received: mixed channel counts {sorted(by_channels)} in {directory!r} (e.g. "
            f"{examples}). Convert them all to RGB (or all to grayscale) first."
        )
    channels = next(iter(by_channels))
    if channels not in (1, 3):
        raise ValueError(
            f"{_OWNER}: the images in `directory` must be grayscale or RGB. Received: "
            f"{channels} channels (e.g. {next(iter(by_channels.values()))!r}). Drop the "
            "alpha channel first."
        )
    return channels


def _reason(error):
    """The readable part of a TF decode error (without the op and device prefixes)."""
    message = getattr(error, "message", None) or str(error)
    message = message.split("}}")[-1].split("[Op:")[0].strip()
    return message or type(error).__name__


def _class_files(directory):
    directory = os.fspath(directory)
    if not os.path.exists(directory):
        raise ValueError(
            f"{_OWNER}: `directory` must be an existing folder with one sub-folder of images "
            f"per class. Received: directory={directory!r}, which does not exist."
        )
    if not os.path.isdir(directory):
        raise ValueError(
            f"{_OWNER}: `directory` must be a folder with one sub-folder of images per "
            f"class. Received: directory={directory!r}, which is a file, not a folder. "
            "Give the folder that holds the class folders, e.g. `kak improve photos/` for "
            "photos/cats/1.jpg, photos/dogs/2.jpg."
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
