"""Shared plumbing of the label-mixing transforms (`MixUp`, `CutMix`): batched elements with
one-hot labels, stateless seeds per call or per element."""

from collections.abc import Mapping

import tensorflow as tf

from keras_accuracy_kit._core import checks, seeds


#: The `alpha` values the Beta sampler handles in float32 (outside them the distribution is,
#: to float32 precision, a fair coin between 0 and 1, or the constant 0.5).
MIN_ALPHA = 1e-6
MAX_ALPHA = 1e6


class MixingTransform:
    """Base of transforms that mix pairs of images AND their labels within a batch.

    Subclasses implement `mix(images, labels, seed)` on float images in [0, 1] and float
    labels `(N, num_classes)`, and register with `@register_transform` (as label-mixing
    transforms: `registered_transforms(label_mixing=True)`).
    """

    #: Takes `(images, labels)` batches, not images: not a layer of a model.
    label_mixing = True

    def __init__(self, alpha, seed=None, value_range=(0.0, 1.0)):
        owner = type(self).__name__
        self.alpha = checks.check_number(
            owner, "alpha", alpha, low=MIN_ALPHA, high=MAX_ALPHA,
            expectation=f"a positive number, from {MIN_ALPHA:g} to {MAX_ALPHA:g} (the Beta "
            "distribution's concentration)",
            fix="E.g. alpha=0.2 for MixUp, alpha=1.0 for CutMix; beyond these bounds "
            "Beta(alpha, alpha) is a coin toss between 0 and 1 (small) or 0.5 (large).",
        )  # fmt: skip
        self.seed = checks.check_seed(owner, seed)
        self.value_range = checks.check_value_range(owner, value_range)
        self._base_seed = seeds.base_seed(self.seed)
        self.call_counter = tf.Variable(tf.zeros([3], tf.int64), trainable=False)

    @property
    def _owner(self):
        return type(self).__name__

    def __call__(self, *element):
        if len(element) == 1 and isinstance(element[0], tf.data.Dataset):
            return self.apply_to_dataset(element[0])
        seed = seeds.next_call_seed(self.call_counter, self._base_seed)
        return self.apply_with_seed(element[0] if len(element) == 1 else element, seed)

    def apply_with_seed(self, element, seed):
        """Mixes one batched element `(images, labels, ...)` or dict with a stateless seed."""
        if isinstance(element, Mapping):
            if "images" not in element or "labels" not in element:
                raise ValueError(
                    f"{self._owner}: a dict element must have 'images' and 'labels' keys. "
                    f"Received: keys={sorted(element)}. Rename the entries accordingly."
                )
            images, labels = self._mix(element["images"], element["labels"], seed)
            return {**element, "images": images, "labels": labels}
        if not isinstance(element, (tuple, list)) or len(element) < 2:
            raise ValueError(
                f"{self._owner}: elements must be `(images, one_hot_labels)` pairs or "
                '`{"images", "labels"}` dicts. Received: bare images. Mixing changes the '
                "labels too: map over `(images, labels)` pairs."
            )
        images, labels = self._mix(element[0], element[1], seed)
        return (images, labels) + tuple(element[2:])

    def apply_to_dataset(self, dataset, num_parallel_calls=tf.data.AUTOTUNE):
        """`dataset.apply(mix)`: one seed per batch from `tf.data.Dataset.random(seed)`."""
        return seeds.map_with_seeds(dataset, self.apply_with_seed, self.seed, num_parallel_calls)

    def _mix(self, images, labels, seed):
        images = checks.as_image_tensor(self._owner, images)
        if images.shape.rank != 4:
            raise ValueError(
                f"{self._owner}: `images` must be a batch (rank 4). Received: "
                f"images.shape={images.shape}. Mixing pairs images within a batch: apply it "
                "after `batch()`."
            )
        labels = tf.convert_to_tensor(labels)
        if not labels.dtype.is_floating or labels.shape.rank != 2:
            raise ValueError(
                f"{self._owner}: `labels` must be one-hot or class probabilities, float of "
                f"shape (batch, num_classes). Received: labels.dtype={labels.dtype.name}, "
                f"labels.shape={labels.shape}. Convert class ids with "
                "`tf.one_hot(labels, num_classes)` (and train with a categorical loss)."
            )
        images = checks.check_image_values(self._owner, images, self.value_range)
        images, labels = self._check_counts(images, labels)
        images = checks.to_unit_float(images, self.value_range)
        return self.mix(images, labels, seed)

    def _check_counts(self, images, labels):
        """One label row per image: a ValueError now, or an assertion on the first batch."""
        prefix = f"{self._owner}: `labels` must have one row per image. Received: images.shape="
        fix = (
            "Batch images and labels together, e.g. "
            "`tf.data.Dataset.from_tensor_slices((images, labels)).batch(32)`."
        )
        num_images, num_labels = images.shape[0], labels.shape[0]
        if num_images is not None and num_labels is not None:
            if num_images != num_labels:
                raise ValueError(
                    f"{prefix}{images.shape} and labels.shape={labels.shape}. {fix}"
                )
            return images, labels
        same = tf.debugging.Assert(
            tf.equal(tf.shape(images)[0], tf.shape(labels)[0]),
            [prefix, tf.shape(images), "and labels.shape=", tf.shape(labels), fix],
            summarize=4,
        )
        with tf.control_dependencies([same]):
            return tf.identity(images), tf.identity(labels)

    def _partners(self, seed, num):
        """A stateless random permutation: image i is mixed with image `partners[i]`."""
        return tf.argsort(tf.random.stateless_uniform([num], seed))

    def _beta(self, seed, num):
        """`Beta(alpha, alpha)` draws as `a / (a + b)` with `a, b ~ Gamma(alpha)`, in logs.

        `Gamma(alpha)` is drawn as `Gamma(alpha + 1) * U ** (1 / alpha)`: for small
        `alpha`, plain gamma draws underflow to the smallest float32 and `a / (a + b)`
        was then always near 0 instead of near 0 or 1.
        """
        seeds = tf.random.experimental.stateless_split(seed, 4)
        alpha = self.alpha

        def log_gamma(gamma_seed, uniform_seed):
            boosted = tf.random.stateless_gamma([num], gamma_seed, alpha=alpha + 1.0)
            uniform = tf.random.stateless_uniform([num], uniform_seed, minval=1e-37)
            return tf.math.log(boosted) + tf.math.log(uniform) / alpha

        return tf.sigmoid(log_gamma(seeds[0], seeds[1]) - log_gamma(seeds[2], seeds[3]))

    def mix(self, images, labels, seed):
        raise NotImplementedError

    def get_config(self):
        return {"alpha": self.alpha, "seed": self.seed, "value_range": list(self.value_range)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
