"""The `generative` rung's data: one ConditionalGAN per member, trained on that member's
training images only, and its generated images mixed into that member's training data.

A GAN trained on every labelled image would leak the judged images into the training of
the members that are judged on them (its samples resemble them), so under k-fold
cross-validation member `i`'s GAN learns from the folds other than `i`, and its images
train member `i` alone. On your split, one GAN learns from `train`. The refit (members
trained on every labelled image, not judged) takes every GAN's images.

Each member's training data is then `GENERATED_FRACTION` generated images, as
`kit.generative.mix` would make it; an epoch is one pass over the real images (and the
generated ones drawn in between). GANs are trained once per process and kept.
"""

import math
import time

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit.generative import ConditionalGAN

#: The share of generated images in a member's training data.
GENERATED_FRACTION = 0.3
#: Generator steps of each GAN (fewer when the budget says so).
GAN_STEPS = 1000
#: The GANs' batch size.
GAN_BATCH_SIZE = 32
#: Largest image side the kit's small GAN is made for.
MAX_GAN_SIDE = 64
#: Bounds on the images generated per class and member (and on their bytes).
MIN_PER_CLASS, MAX_PER_CLASS, MAX_GENERATED_BYTES = 20, 500, 1 << 28
#: The GAN of small data (README): narrow networks, the differentiable augmentation that
#: keeps small images' shapes, a short EMA; its rate decays from this to 0 over its steps
#: (cosine), which holds the generator near its best instead of letting it drift.
GAN_SETTINGS = dict(latent_dim=32, augment=["brightness", "translation"], ema_decay=0.99)
GAN_LEARNING_RATE = 5e-4


def mixed_fraction(num_folds, all_data):
    """The share of generated elements in the stream of all members' training data.

    Under k-fold cross-validation each member sees its own GAN's images (a k-th of the
    generated stream) and k-1 folds of the real ones; this share gives each member
    `GENERATED_FRACTION`. The refit's members see every generated image.
    """
    share = GENERATED_FRACTION
    if num_folds == 1 or all_data:
        return share
    return share * (num_folds - 1) / (1 + share * (num_folds - 2))


class _StopAt(keras.callbacks.Callback):
    """Stops a GAN's `fit` at the batch that passes `deadline` (`time.monotonic()`)."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = deadline

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


class GeneratedData:
    """Trains the members' GANs (once) and gives each member's generated images.

    Args:
        evidence: The ladder's `Evidence` (its folds and labelled images).
        facts: The data's `DataFacts`.
        seed: Int. Seeds the GANs and their samples.
    """

    def __init__(self, evidence, facts, seed):
        self.evidence, self.facts, self.seed = evidence, facts, seed
        self.gans = None

    @staticmethod
    def skip_reason(facts):
        """Why the data does not suit the kit's GAN, or None."""
        if max(facts.image_shape[:2]) > MAX_GAN_SIDE:
            return (
                f"images larger than {MAX_GAN_SIDE} px: the kit's GAN is made for small "
                "images (train one yourself, kit.generative)"
            )
        return None

    def train(self, deadline=None):
        """Trains one GAN per member of the evidence, unless done; `deadline`
        (`time.monotonic()`) bounds all of them together."""
        if self.gans is not None:
            return self.gans
        parts = self._member_training_sets()
        self.gans = []
        for index, data in enumerate(parts):
            keras.utils.set_random_seed(self.seed + 7919 * (index + 1))
            batches = max(1, int(data.cardinality()))
            epochs = max(1, math.ceil(GAN_STEPS / batches))
            gan = ConditionalGAN(
                self.facts.image_shape, self.facts.num_classes,
                filters=16 if max(self.facts.image_shape[:2]) <= 16 else 32,
                value_range=self.facts.value_range, image_dtype=self._image_dtype(),
                learning_rate=keras.optimizers.schedules.CosineDecay(
                    GAN_LEARNING_RATE, epochs * batches
                ),
                seed=self.seed + index, **GAN_SETTINGS,
            )  # fmt: skip
            gan.compile()
            callbacks = []
            if deadline is not None:  # the GANs left share the time left equally
                now = time.monotonic()
                callbacks.append(_StopAt(now + (deadline - now) / (len(parts) - index)))
            gan.fit(
                data.repeat(), steps_per_epoch=batches, epochs=epochs, callbacks=callbacks,
                shuffle=False, verbose=0,  # the data shuffles itself
            )  # fmt: skip
            self.gans.append(gan)
        return self.gans

    def member_data(self, index, all_data):
        """Member `index`'s generated `(image, label, code)` elements, unbatched, labels
        in the real labels' format. `code` is the fold id meaning "train member `index`
        only" (`-(index + 2)`), or -1 (every member) for the refit."""
        gan = self.gans[index]
        per_class = self._per_class()
        labels = np.tile(np.arange(self.facts.num_classes), per_class)
        images = gan.generate(labels, seed=self.seed + 104729 * (index + 1)).numpy()
        code = -1 if all_data else -(index + 2)
        codes = np.full(len(labels), code, dtype=self._fold_id_dtype())
        data = tf.data.Dataset.from_tensor_slices((images, self._as_real_labels(labels), codes))
        return data.shuffle(len(labels), seed=self.seed + index, reshuffle_each_iteration=True)

    # Helpers ----------------------------------------------------------------------------

    def _member_training_sets(self):
        """Batched `(images, class ids)` each GAN learns from."""
        evidence = self.evidence
        if evidence.num_folds == 1:
            sparse = self.facts.sparse_labels

            def class_ids(images, labels):
                if sparse:
                    return images, tf.reshape(tf.cast(labels, tf.int32), [-1])
                return images, tf.argmax(labels, axis=-1, output_type=tf.int32)

            batch_size = min(GAN_BATCH_SIZE, self.facts.num_train)
            data = evidence.train.unbatch().batch(batch_size, drop_remainder=True)
            return [data.map(class_ids).apply(tf.data.experimental.assert_cardinality(
                self.facts.num_train // batch_size
            ))]  # fmt: skip
        sets = []
        for index in range(evidence.num_folds):
            keep = evidence.fold_ids != index
            data = tf.data.Dataset.from_tensor_slices(
                (evidence.images[keep], evidence.sparse_labels[keep].astype(np.int32))
            )
            data = data.shuffle(int(keep.sum()), seed=self.seed + index)
            sets.append(data.batch(min(GAN_BATCH_SIZE, int(keep.sum())), drop_remainder=True))
        return sets

    def _per_class(self):
        seen = (self.facts.num_train + self.facts.num_validation) * self.evidence.fit_share()
        per_class = math.ceil(seen / self.facts.num_classes)
        image_bytes = int(np.prod(self.facts.image_shape)) * 4
        by_memory = MAX_GENERATED_BYTES // (image_bytes * self.facts.num_classes)
        return int(max(1, min(max(MIN_PER_CLASS, per_class), MAX_PER_CLASS, by_memory)))

    def _image_dtype(self):
        if self.evidence.num_folds > 1:
            return self.evidence.images.dtype.name
        return self.evidence.train.element_spec[0].dtype.name

    def _label_spec(self):
        if self.evidence.num_folds > 1:
            return self.evidence.labels.shape[1:], self.evidence.labels.dtype
        spec = self.evidence.train.element_spec[1]
        return tuple(spec.shape[1:]), spec.dtype.as_numpy_dtype

    def _fold_id_dtype(self):
        return self.evidence.fold_ids.dtype if self.evidence.num_folds > 1 else np.int64

    def _as_real_labels(self, class_ids):
        shape, dtype = self._label_spec()
        if self.facts.sparse_labels:
            return class_ids.reshape((len(class_ids), *shape)).astype(dtype)
        return np.eye(self.facts.num_classes, dtype=dtype)[class_ids]
