"""What the ladder needs to know about the user's data, checked before any training."""

import dataclasses
import math

import tensorflow as tf

from keras_accuracy_kit._core import elements

_OWNER = "kit.improve"


@dataclasses.dataclass(frozen=True)
class DataFacts:
    """Facts about a classification dataset, read in one pass over it.

    Args:
        image_shape: Tuple `(height, width, channels)`.
        num_classes: Int. Largest label + 1 (or the one-hot depth).
        sparse_labels: Bool. Integer labels (`True`) or one-hot rows.
        num_train: Int. Training examples.
        num_validation: Int. Validation examples.
        value_range: Pair of floats. `(0, 255)`, `(0, 1)` or `(0, max)` of the training images.
        batch_size: Int. The training batch size.
    """

    image_shape: tuple
    num_classes: int
    sparse_labels: bool
    num_train: int
    num_validation: int
    value_range: tuple
    batch_size: int


def as_batched_dataset(data, batch_size, name, shuffle_seed=None):
    """Returns `data` (a dataset, or an `(images, labels)` pair of arrays) as batches.

    Arrays are shuffled anew each epoch (seeded by `shuffle_seed`) when one is given;
    datasets are taken as they are.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2:
        data = elements.arrays_to_dataset(_OWNER, name, data, shuffle_seed=shuffle_seed)
    if not isinstance(data, tf.data.Dataset):
        raise ValueError(
            f"{_OWNER}: `{name}` must be a tf.data.Dataset of (images, labels) or a pair "
            f"(images, labels) of arrays. Received: {name}={type(data).__name__}. Build one "
            "with `keras.utils.image_dataset_from_directory` or "
            "`tf.data.Dataset.from_tensor_slices((images, labels))`."
        )
    spec = data.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(
            f"{_OWNER}: `{name}` must yield (images, labels) pairs. Received elements "
            f"{spec}. Map it to pairs first, e.g. `dataset.map(lambda d: (d['image'], "
            "d['label']))`."
        )
    images = spec[0]
    if images.shape.rank == 3:
        data = data.batch(batch_size)
    elif images.shape.rank != 4:
        raise ValueError(
            f"{_OWNER}: `{name}` images must have rank 3 (height, width, channels) or 4 "
            f"(batches). Received: shape {images.shape}. Add a channel axis to grayscale "
            "images, e.g. `images[..., None]`."
        )
    return data.map(lambda *element: element[:2])


def describe(train, validation):
    """Reads the facts of `train` and `validation` and checks they can be learnt.

    Raises:
        ValueError: empty data, one class only, mixed image shapes, validation classes
            the training data never shows, non-image elements.
    """
    train_facts = _scan(train, "train")
    validation_facts = _scan(validation, "validation")
    if train_facts["shape"] != validation_facts["shape"]:
        raise ValueError(
            f"{_OWNER}: `validation` images must have the training images' shape. Received: "
            f"train {train_facts['shape']}, validation {validation_facts['shape']}. Resize "
            "both the same way (e.g. `kit.resize`)."
        )
    if train_facts["sparse"] != validation_facts["sparse"]:
        raise ValueError(
            f"{_OWNER}: `train` and `validation` labels must have the same form. Received: "
            f"{'integer' if train_facts['sparse'] else 'one-hot'} training labels and "
            f"{'integer' if validation_facts['sparse'] else 'one-hot'} validation labels."
        )
    classes = train_facts["classes"]
    if len(classes) < 2:
        raise ValueError(
            f"{_OWNER}: `train` must contain at least two classes. Received: only class "
            f"{sorted(classes)} in {train_facts['count']} training examples. Add images of "
            "the other classes (one folder per class)."
        )
    missing = sorted(validation_facts["classes"] - classes)
    if missing:
        raise ValueError(
            f"{_OWNER}: every validation class must appear in `train`. Received: validation "
            f"classes {missing} that no training example has. Split with stratification "
            "or move some of those images to the training set."
        )
    high = train_facts["max"]
    value_range = (0.0, 255.0) if high > 1.0 + 1e-6 else (0.0, 1.0)
    if train_facts["dtype"] != tf.uint8 and 1.0 + 1e-6 < high <= 64:
        value_range = (0.0, float(math.ceil(high)))  # e.g. load_digits: 0..16
    return DataFacts(
        image_shape=train_facts["shape"],
        num_classes=max(max(classes), max(validation_facts["classes"], default=0)) + 1
        if train_facts["sparse"]
        else train_facts["depth"],
        sparse_labels=train_facts["sparse"],
        num_train=train_facts["count"],
        num_validation=validation_facts["count"],
        value_range=value_range,
        batch_size=train_facts["batch_size"],
    )


def _scan(dataset, name):
    spec = dataset.element_spec
    shape = tuple(spec[0].shape[1:])
    labels_spec = spec[1]
    sparse = labels_spec.shape.rank == 1 or (
        labels_spec.shape.rank == 2 and labels_spec.shape[-1] == 1
    )
    if not sparse and labels_spec.shape.rank != 2:
        raise ValueError(
            f"{_OWNER}: `{name}` labels must be integers (batch,) or one-hot rows "
            f"(batch, num_classes). Received: label shape {labels_spec.shape}."
        )
    count, classes, high, batch_size, seen_shapes = 0, set(), 0.0, 0, set()
    for images, labels in dataset:
        seen_shapes.add(tuple(images.shape[1:]))
        count += int(images.shape[0])
        batch_size = max(batch_size, int(images.shape[0]))
        high = max(high, float(tf.reduce_max(tf.cast(images, tf.float32))))
        values = labels.numpy().reshape(len(labels), -1)
        if sparse:
            classes.update(int(v) for v in values[:, 0])
        else:
            classes.update(int(v) for v in values.argmax(-1))
    if count == 0:
        raise ValueError(
            f"{_OWNER}: `{name}` must not be empty. Received: a dataset with no elements. "
            "Check the directory or the split (e.g. `validation_split=0.2`)."
        )
    if len(seen_shapes) > 1 or None in shape:
        shapes = sorted(seen_shapes)
        channels = sorted({s[-1] for s in shapes})
        detail = (
            f"mixed channel counts {channels}"
            if len(channels) > 1
            else f"mixed image sizes {shapes[:4]}"
        )
        raise ValueError(
            f"{_OWNER}: `{name}` images must all have one shape. Received: {detail}. Convert "
            "them first, e.g. `color_mode='rgb'` and `image_size=` in "
            "`image_dataset_from_directory`, or `kit.resize` and `kit.to_grayscale`."
        )
    if shape[-1] not in (1, 3):
        raise ValueError(
            f"{_OWNER}: `{name}` images must have 1 or 3 channels. Received: shape {shape}. "
            "Drop the alpha channel or convert with `kit.to_grayscale`."
        )
    return {
        "shape": next(iter(seen_shapes)),
        "sparse": sparse,
        "classes": classes,
        "count": count,
        "max": high,
        "dtype": spec[0].dtype,
        "batch_size": batch_size,
        "depth": int(labels_spec.shape[-1]) if not sparse else None,
    }
