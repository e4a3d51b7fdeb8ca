"""show_batch: the first images of a dataset with their labels, before and after augmentation
(fastai's `show_batch`), as a picture for notebooks and scripts."""

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.reporting import evaluation, rendering
from keras_accuracy_kit.reporting.figure import finish
from keras_accuracy_kit.reporting.image_grid import image_grid
from keras_accuracy_kit.transforms.augment import Augment

OWNER = "show_batch"


def show_batch(
    dataset,
    augment=None,
    class_names=None,
    num_images=8,
    num_columns=8,
    seed=0,
    path=None,
):
    """The first images of a dataset, captioned with their class, and their augmented copies.

    Check what the model will see before training: that labels match images, and what an
    augmentation does to them (a row of originals, the row below their augmented copies).

    Args:
        dataset: A `tf.data.Dataset` of `(images, labels)` or images alone (batched or
            not; a dict element with `"images"` and `"labels"` works too), or a tuple
            `(images, labels)` of arrays.
        augment: Optional augmentation: a `kit.augment(...)` (applied with the stateless
            `seed`, so the picture is reproducible), a Keras layer (called with
            `training=True`) or a function `images -> images`. Defaults to `None`.
        class_names: Optional list of strings, one per class. Defaults to `None` (the
            label's number).
        num_images: Positive int. How many images. Defaults to `8`.
        num_columns: Positive int. Images per row. Defaults to `8`.
        seed: Int. Seed of a `kit.augment`'s draw. Defaults to `0`.
        path: Optional path. Also write the PNG there. Defaults to `None`.

    Returns:
        A `Figure` (shown by Jupyter); its `data` holds `images` (as they came),
        `labels` (class indices, or None), `augmented` (the copies as the augmentation
        returned them, or None) and `captions`.

    Example:

    ```python
    kit.show_batch(train, augment=kit.augment(rotation_range=15, seed=0),
                   class_names=["cat", "dog"])
    ```
    """
    num_images = _check_positive_int("num_images", num_images)
    num_columns = _check_positive_int("num_columns", num_columns)
    if augment is not None and not callable(augment):
        raise TypeError(
            f"{OWNER}: `augment` must be a kit.augment(...), a Keras layer or a function "
            f"images -> images. Received: augment={augment!r}."
        )
    if class_names is not None and (
        not isinstance(class_names, (list, tuple))
        or not all(isinstance(name, str) for name in class_names)
    ):
        raise TypeError(
            f"{OWNER}: `class_names` must be a list of strings, one per class. Received: "
            f"class_names={class_names!r}."
        )
    images, labels = take_examples(dataset, num_images)
    if labels is not None and class_names is not None and labels.max() >= len(class_names):
        raise ValueError(
            f"{OWNER}: `class_names` must hold a name for every label. Received: "
            f"{len(class_names)} names and a label {int(labels.max())}. Pass one name per class."
        )
    originals, augmented = images, None
    if augment is not None:
        originals, augmented = _augmented(augment, images, seed)

    rows, captions = _captioned_rows(originals, augmented, labels, class_names, num_columns)
    grid = image_grid(
        rows, cell_size=(rendering.CELL_SIZE + rendering.CAPTION_HEIGHT, rendering.CELL_SIZE)
    )
    data = {
        "images": images,
        "labels": labels,
        "augmented": augmented,
        "class_names": None if class_names is None else list(class_names),
        "captions": captions,
    }
    return finish(grid.numpy(), data, "batch", path)


def _captioned_rows(originals, augmented, labels, class_names, num_columns):
    """`(rows of captioned cells, captions)`: per row of `num_columns` images, the
    originals, then their augmented copies (unless `augmented` is None)."""

    def name(index):
        if labels is None:
            return f"#{index}"
        label = int(labels[index])
        return class_names[label] if class_names is not None else str(label)

    rows, captions = [], []
    for start in range(0, len(originals), num_columns):
        chunk = range(start, min(start + num_columns, len(originals)))
        versions = [(originals, "original" if augmented is not None else "")]
        if augmented is not None:
            versions.append((augmented, "augmented"))
        for pictures, kind in versions:
            cells = []
            for index in chunk:
                lines = [name(index), kind]
                captions.append(lines)
                cells.append(rendering.captioned_cell(_display(pictures[index]), lines))
            rows.append(np.stack(cells))
    return rows, captions


def take_examples(dataset, num_images):
    """The first `num_images` `(images, labels)` of a dataset, as NumPy (labels may be None).

    Labels come back as class indices (one-hot labels are turned into indices).
    """
    if isinstance(dataset, tf.data.Dataset):
        images, labels, count = [], [], 0
        for element in dataset:
            batch_images, batch_labels = _split(element)
            if batch_images.ndim == 3:
                batch_images = batch_images[None]
                batch_labels = None if batch_labels is None else batch_labels[None]
            images.append(batch_images)
            labels.append(batch_labels)
            count += len(batch_images)
            if count >= num_images:
                break
        if not images:
            raise ValueError(
                f"{OWNER}: `dataset` must hold images. Received: an empty dataset. Check the "
                "pipeline, e.g. `next(iter(dataset))`."
            )
        images = np.concatenate(images)[:num_images]
        labels = None if labels[0] is None else np.concatenate(labels)[:num_images]
    elif isinstance(dataset, tuple) and len(dataset) == 2:
        images, labels = _split(dataset)
        images, labels = images[:num_images], labels[:num_images]
    else:
        raise TypeError(
            f"{OWNER}: `dataset` must be a tf.data.Dataset or a tuple (images, labels) of "
            f"arrays. Received: dataset={type(dataset).__name__}."
        )
    if labels is not None:
        labels = evaluation.to_class_indices(labels)
        if len(labels) != len(images):
            raise ValueError(
                f"{OWNER}: `dataset` must hold one label per image. Received: {len(images)} "
                f"images and {len(labels)} labels."
            )
    return images, labels


def _split(element):
    if isinstance(element, dict):
        images, labels = element.get("images"), element.get("labels")
        if images is None:
            raise ValueError(
                f"{OWNER}: a dict element must have an 'images' key. Received: "
                f"keys={sorted(element)}. Rename the image entry to 'images'."
            )
    elif isinstance(element, (tuple, list)):
        images, labels = element[0], (element[1] if len(element) > 1 else None)
    else:
        images, labels = element, None
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            f"{OWNER}: `dataset` must hold images (H, W, C) or batches (N, H, W, C). "
            f"Received: an element of shape {images.shape}. Add a channel axis to grayscale "
            "images, e.g. `images[..., None]`."
        )
    return images, None if labels is None else np.asarray(labels)


def _augmented(augment, images, seed):
    """`(originals as shown, augmented copies)` of the images under `augment`."""
    tensor = tf.convert_to_tensor(images)
    if isinstance(augment, Augment):
        seed = checks.check_seed(OWNER, seed, allow_none=False)
        originals = augment._scale_only(tensor)
        copies = augment.augment_images(
            originals, tf.constant([int(seed), 0], tf.int64), source_dtype=tensor.dtype
        )
        return originals.numpy(), copies.numpy()
    if isinstance(augment, keras.layers.Layer):
        copies = augment(tensor, training=True)
    else:
        copies = augment(tensor)
    copies = np.asarray(keras.ops.convert_to_numpy(copies))
    if len(copies) != len(images):
        raise ValueError(
            f"{OWNER}: `augment` must return one image per image. Received: {len(copies)} "
            f"images for {len(images)}. Pass a function of the images only."
        )
    return images, copies


def _display(image):
    picture = rendering.to_display_image(image)
    if picture is None:
        raise ValueError(
            f"{OWNER}: the images must be (H, W, C) with at least one channel. Received: an "
            f"image of shape {np.shape(image)}."
        )
    return picture


def _check_positive_int(name, value):
    return checks.check_int(OWNER, name, value, example=8)
