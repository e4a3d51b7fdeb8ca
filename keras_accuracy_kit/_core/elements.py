"""The images of a dataset element, whatever its layout, and a map over them.

Every kit transform, the invariance guard and the previews read the same element layouts a
Keras user has: bare images, `(images, labels, ...)` tuples and dicts with an `"images"` key
(the Keras preprocessing convention). This module is the one place that knows them.
"""

from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks


def image_part(element):
    """The images of an element (or of its spec), or None for a dict without `"images"`.

    The `"images"` entry of a dict, the first item of a tuple or list, else the element.

    Example:

    >>> image_part({"images": 1, "labels": 2}), image_part((3, 4)), image_part(5)
    (1, 3, 5)
    """
    if isinstance(element, Mapping):
        return element.get("images")
    if isinstance(element, (tuple, list)):
        return element[0]
    return element


def _missing_images_key(owner, element):
    return ValueError(
        f"{owner}: a dict element must have an 'images' key. Received: "
        f"keys={sorted(element)}. Rename the image entry to 'images', e.g. "
        "`dataset.map(lambda d: {'images': d['image'], 'labels': d['label']})`."
    )


def images_of(element, owner):
    """The images of an element as a tensor; a ValueError for a dict without `"images"`."""
    images = image_part(element)
    if images is None:
        raise _missing_images_key(owner, element)
    return tf.convert_to_tensor(images)


def labels_of(element):
    """The labels of an element: the `"labels"` entry of a dict, the second item of a tuple,
    else None."""
    if isinstance(element, Mapping):
        return element.get("labels")
    if isinstance(element, (tuple, list)) and len(element) > 1:
        return element[1]
    return None


def map_images(element, function, owner):
    """Applies `function` to the images of one element, passing everything else through.

    Args:
        element: One tensor, one dict with an `"images"` key, or a tuple whose first item
            is the images. A list is images (a batch, as `np.array` reads it), not an
            `(image, label)` pair: `dataset.map` passes tuples.
        function: Callable. Takes and returns images.
        owner: String. Name used in error messages.

    Returns:
        The element with the same structure, images replaced by `function(images)`.

    Example:

    >>> map_images(({"images": 2, "labels": 0}), lambda x: x * 10, "Demo")
    {'images': 20, 'labels': 0}
    """
    if isinstance(element, Mapping):
        if "images" not in element:
            raise _missing_images_key(owner, element)
        output = dict(element)
        output["images"] = function(element["images"])
        return output
    if isinstance(element, tuple):
        if not element:
            raise ValueError(
                f"{owner}: a tuple element must start with images. Received: an empty tuple."
            )
        return (function(element[0]),) + tuple(element[1:])
    return function(element)


def _batched(images):
    return images[None] if images.shape.rank == 3 else images


def take_images(dataset, num_images, owner):
    """The first `num_images` images of a dataset (any element layout, batched or not).

    Args:
        dataset: A `tf.data.Dataset`, or one element (an array, a tuple, a dict).
        num_images: Int. How many images to take.
        owner: String. Name used in error messages.

    Returns:
        A tensor `(n, H, W, C)` with `n <= num_images`.
    """
    if not isinstance(dataset, tf.data.Dataset):
        images = checks.as_image_tensor(owner, images_of(dataset, owner))
        return _batched(images)[:num_images]
    batches, count = [], 0
    for element in dataset:
        batch = _batched(images_of(element, owner))
        batches.append(batch)
        count += int(batch.shape[0])
        if count >= num_images:
            break
    if not batches:
        raise ValueError(f"{owner}: `dataset` must hold images. Received: an empty dataset.")
    return tf.concat(batches, axis=0)[:num_images]


def take_images_and_labels(elements, num_images, owner):
    """The first `num_images` images and labels of an iterable of elements.

    Labels are class ids or one-hot (read as their argmax); elements without labels give
    none.

    Returns:
        `(images, labels, num_labelled_batches, num_batches)`: a tensor `(n, H, W, C)`, an
        int64 array `(n,)` or None, and how many of the batches read carried labels.
    """
    images, labels, count = [], [], 0
    for element in elements:
        batch_images = checks.as_image_tensor(owner, images_of(element, owner))
        batch_labels = labels_of(element)
        single = batch_images.shape.rank == 3
        images.append(_batched(batch_images))
        if batch_labels is not None:
            batch_labels = np.asarray(batch_labels)
            if single:
                batch_labels = batch_labels[None]
            if batch_labels.ndim == 2:
                batch_labels = np.argmax(batch_labels, axis=-1)
            labels.append(batch_labels.reshape(-1).astype(np.int64))
        count += int(images[-1].shape[0])
        if count >= num_images:
            break
    if not images:
        raise ValueError(f"{owner}: `dataset` must hold images. Received: an empty dataset.")
    all_images = tf.concat(images, axis=0)[:num_images]
    all_labels = np.concatenate(labels)[:num_images] if labels else None
    return all_images, all_labels, len(labels), len(images)


def groupable(element_spec, max_values):
    """Whether elements can be batched and unbatched losslessly: single fixed-size images
    of fewer than `max_values` values, and every other tensor of a fixed shape."""
    specs = tf.nest.flatten(element_spec)
    if not specs or not all(
        type(spec) is tf.TensorSpec and spec.shape.is_fully_defined() for spec in specs
    ):
        return False
    images = image_part(element_spec)
    return (
        isinstance(images, tf.TensorSpec)
        and images.shape.rank == 3
        and images.shape.num_elements() < max_values
    )


def arrays_to_dataset(owner, arg, data, shuffle_seed=None):
    """A `tf.data.Dataset` of `(images, labels)` elements from a pair of arrays.

    Args:
        owner: String. Name used in error messages.
        arg: String. The argument's name (`"train"`, ...).
        data: A pair `(images, labels)` of arrays of the same length.
        shuffle_seed: Optional int. Shuffle the whole set anew each epoch with this seed.
            Defaults to `None` (the arrays' order).

    Returns:
        The unbatched dataset.

    Example:

    >>> import numpy as np
    >>> data = arrays_to_dataset("Demo", "train", (np.zeros((3, 2, 2, 1)), [0, 1, 2]))
    >>> [int(label) for _, label in data]
    [0, 1, 2]
    """
    images, labels = (np.asarray(part) for part in data)
    if len(images) != len(labels):
        raise ValueError(
            f"{owner}: `{arg}` must pair one label with each image. Received: "
            f"{len(images)} images and {len(labels)} labels."
        )
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset
