"""mix: a seeded mix of a real `tf.data` pipeline with a generated one."""

import tensorflow as tf

from keras_accuracy_kit._core import checks

_OWNER = "mix"


def mix(real, generated, fraction=0.3, seed=0):
    """Draws each element from `generated` with probability `fraction`, else from `real`.

    Both datasets hold unbatched `(image, label)` pairs (mix before `batch()`); images
    must share shape and dtype, and generated labels are cast to the real labels' dtype.
    The mix ends when either dataset does: `repeat()` the generated one to keep every real
    element. Built on `tf.data.Dataset.sample_from_datasets`, seeded.

    Args:
        real: `tf.data.Dataset` of `(image, label)`.
        generated: `tf.data.Dataset` of `(image, label)`, e.g. `gan.dataset(...)`.
        fraction: Float in [0, 1]. The probability of a generated element. Defaults to
            `0.3`.
        seed: Int. The same seed gives the same order. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(image, label)`.

    Example:

    >>> import tensorflow as tf
    >>> real = tf.data.Dataset.from_tensor_slices((tf.zeros((6, 2, 2, 1)), tf.zeros(6, tf.int64)))
    >>> fake = tf.data.Dataset.from_tensor_slices((tf.ones((6, 2, 2, 1)), tf.ones(6, tf.int32)))
    >>> [int(label) for _, label in mix(real, fake.repeat(), fraction=0.0)]
    [0, 0, 0, 0, 0, 0]
    """
    fraction = checks.check_number(
        _OWNER, "fraction", fraction, low=0, high=1, expectation="a number in [0, 1]",
        fix="E.g. fraction=0.3 draws 30 % of the elements from the generated data.",
    )  # fmt: skip
    seed = checks.check_seed(_OWNER, seed)
    for arg, dataset in (("real", real), ("generated", generated)):
        spec = getattr(dataset, "element_spec", None)
        if (
            not isinstance(dataset, tf.data.Dataset)
            or not isinstance(spec, tuple)
            or len(spec) != 2
        ):
            raise ValueError(
                f"{_OWNER}: `{arg}` must be a tf.data.Dataset of (image, label) pairs. "
                f"Received: {arg}={dataset!r}. Map it to (image, label) tuples first."
            )
    (real_image, real_label), (fake_image, fake_label) = real.element_spec, generated.element_spec
    if real_image.shape.rank != 3 or fake_image.shape.rank != 3:
        raise ValueError(
            f"{_OWNER}: `real` and `generated` must hold single images (H, W, C), unbatched. "
            f"Received: image shapes {real_image.shape} and {fake_image.shape}. Mix before "
            "`batch()`, e.g. `mix(real, gan.dataset(...)).batch(64)`."
        )
    if real_image.dtype != fake_image.dtype or not real_image.shape.is_compatible_with(
        fake_image.shape
    ):
        raise ValueError(
            f"{_OWNER}: `generated` images must have the real images' shape and dtype. "
            f"Received: real {real_image.shape} {real_image.dtype.name}, generated "
            f"{fake_image.shape} {fake_image.dtype.name}. Build the GAN with the data's "
            "`image_shape` and `image_dtype`."
        )
    if fake_label.dtype != real_label.dtype:
        generated = generated.map(lambda image, label: (image, tf.cast(label, real_label.dtype)))
    return tf.data.Dataset.sample_from_datasets(
        [real, generated], weights=[1.0 - float(fraction), float(fraction)], seed=seed,
        stop_on_empty_dataset=True,
    )  # fmt: skip

