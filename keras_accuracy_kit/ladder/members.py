"""The ladder's evidence: the images a step is judged on, and its members trained together.

Small validation sets are noise: on 100 images one image is a point of accuracy. When the
validation set is small (`SMALL_VALIDATION`) and the data fits in memory, the ladder
judges on stratified k-fold cross-validation over train + validation instead: each step
trains one member per fold, each on the other folds, and every labelled image is judged
once by the member that never saw it (its out-of-fold prediction). The members of a step
are trained *together*, as the outputs of one Keras model whose loss for member `i`
masks out fold `i` (per-output sample weights): one `fit`, one traced graph, so k folds
cost little more than one on small data. With Adam-like optimizers (per-weight state)
this is the same as training the members one by one. Otherwise (large validation set)
the ladder judges on your split: one member trained on `train`, judged on `validation`.
"""

import math
import time

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit.ladder import generated_data
from keras_accuracy_kit.ladder.evidence import stratified_folds

#: Validation sets smaller than this are judged by k-fold cross-validation.
SMALL_VALIDATION = 1000
#: Folds of that cross-validation.
DEFAULT_FOLDS = 3
#: Largest train + validation (bytes) the ladder holds in memory for cross-validation.
MAX_IN_MEMORY_BYTES = 1 << 30
#: Time budgets shorter than this judge on your split: k folds cost k trainings per step,
#: and in a few minutes that leaves room for two or three steps only.
MIN_CROSS_VALIDATION_SECONDS = 300.0


class Evidence:
    """Labelled images, how they are split into members' training and judging sets.

    Args:
        train: Batched `(images, labels)` dataset.
        validation: Batched `(images, labels)` dataset.
        facts: The data's `DataFacts`.
        folds: `"auto"`, 1 (your split) or an int >= 2 (k-fold over train + validation).
        seed: Int. Seeds the folds and the shuffling.
        batch_size: Int. Batch size of the cross-validation pipelines.
        budget_seconds: Float or None. The ladder's explicit time budget, if any: under
            `MIN_CROSS_VALIDATION_SECONDS`, `"auto"` judges on your split.
    """

    def __init__(self, train, validation, facts, folds, seed, batch_size, budget_seconds=None):
        self.facts, self.seed = facts, seed
        self.batch_size = max(1, min(batch_size, facts.batch_size or batch_size))
        self.train, self.validation = train, validation
        total = facts.num_train + facts.num_validation
        image_bytes = int(np.prod(facts.image_shape)) * 4
        if folds == "auto":
            small = facts.num_validation < SMALL_VALIDATION
            fits = total * image_bytes <= MAX_IN_MEMORY_BYTES
            affordable = budget_seconds is None or budget_seconds >= MIN_CROSS_VALIDATION_SECONDS
            folds = DEFAULT_FOLDS if small and fits and affordable else 1
        self.num_folds = folds
        if folds > 1:
            images, labels = [], []
            for data in (train, validation):
                for batch_images, batch_labels in data:
                    images.append(batch_images.numpy())
                    labels.append(batch_labels.numpy())
            self.images = np.concatenate(images)
            self.labels = np.concatenate(labels)
            self.sparse_labels = _sparse(self.labels, facts.sparse_labels)
            self.fold_ids = stratified_folds(self.sparse_labels, folds, seed)
            if np.min(np.bincount(self.fold_ids, minlength=folds)) == 0:
                raise ValueError(
                    f"kit.improve: `folds` must leave images in every fold. Received: folds="
                    f"{folds} for {total} images. Use fewer folds."
                )
        else:
            self.sparse_labels = np.concatenate(
                [_sparse(labels.numpy(), facts.sparse_labels) for _, labels in validation]
            )
        self.num_images = len(self.sparse_labels)

    @property
    def num_members(self):
        return self.num_folds

    def describe(self):
        if self.num_folds > 1:
            return (
                f"{self.num_folds}-fold cross-validation over the {self.num_images} train + "
                "validation images"
            )
        return f"the {self.num_images} validation images"

    # Pipelines ------------------------------------------------------------------------

    def training_data(self, pipeline, all_data=False, num_members=None, generated=None):
        """`(images, labels per member, weights per member)` batches, through `pipeline`.

        `pipeline(dataset)` maps the images of `(images, ...)` elements (transforms,
        augmentation). With `all_data`, every member trains on every image (the refit).
        `generated` (a trained `GeneratedData`) mixes each member's generated images into
        its training data (`generated_data.mixed_fraction`).
        """
        num_members = num_members or self.num_members
        if self.num_folds == 1:
            data = self.train.concatenate(self.validation) if all_data else self.train
            if generated is not None:
                data = self._mixed(data.unbatch(), generated, all_data, with_folds=False)
                data = data.batch(self.batch_size)
            data = pipeline(data)
            if num_members == 1:
                return data.prefetch(tf.data.AUTOTUNE)  # (images, labels): one member
            return data.map(
                lambda images, labels: (
                    images,
                    (labels,) * num_members,
                    (tf.ones(tf.shape(labels)[:1]),) * num_members,
                )
            ).prefetch(tf.data.AUTOTUNE)
        fold_ids = np.full_like(self.fold_ids, -1) if all_data else self.fold_ids
        data = tf.data.Dataset.from_tensor_slices((self.images, self.labels, fold_ids))
        data = data.shuffle(self.num_images, seed=self.seed, reshuffle_each_iteration=True)
        if generated is not None:
            data = self._mixed(data, generated, all_data, with_folds=True)
        data = pipeline(data.batch(self.batch_size))
        return data.map(_split_for_members(num_members, train=True)).prefetch(tf.data.AUTOTUNE)

    def _mixed(self, real, generated, all_data, with_folds):
        """`real` elements with the members' generated ones drawn in between (seeded),
        until `real` ends."""
        parts = [generated.member_data(index, all_data) for index in range(len(generated.gans))]
        if not with_folds:
            parts = [part.map(lambda image, label, code: (image, label)) for part in parts]
        share = generated_data.mixed_fraction(self.num_folds, all_data)
        weights = [1.0 - share] + [share / len(parts)] * len(parts)
        return tf.data.Dataset.sample_from_datasets(
            [real] + [part.repeat() for part in parts], weights=weights, seed=self.seed,
            stop_on_empty_dataset=True,
        )  # fmt: skip

    def batches_per_epoch(self, training=True, all_data=False, generated=False):
        """Batches in one pass of `training_data` (or `judging_data`), or None if unknown.

        The ladder repeats its datasets and fits with `steps_per_epoch`: Keras then keeps
        one tf.data iterator for the whole fit instead of making one per epoch, which
        costs tenths of a second when the pipeline maps augmentation or transforms (the
        map functions are instantiated anew), more than an epoch of a few hundred images.
        With `generated` images mixed in, an epoch is one pass over the real ones.
        """
        scale = 1.0
        if generated and training:
            scale = 1.0 / (1.0 - generated_data.mixed_fraction(self.num_folds, all_data))
        if self.num_folds > 1:
            return math.ceil(self.num_images * scale / self.batch_size)
        parts = (self.train, self.validation) if all_data else (
            (self.train,) if training else (self.validation,)
        )
        if generated and training:
            images = self.facts.num_train + (self.facts.num_validation if all_data else 0)
            return math.ceil(images * scale / self.batch_size)
        counts = [int(part.cardinality()) for part in parts]
        return sum(counts) if min(counts) > 0 else None

    def judging_data(self, pipeline):
        """The judged images with per-member held-out weights (None for the refit)."""
        if self.num_folds == 1:
            return pipeline(self.validation).prefetch(tf.data.AUTOTUNE)
        data = tf.data.Dataset.from_tensor_slices((self.images, self.labels, self.fold_ids))
        data = pipeline(data.batch(self.batch_size))
        return data.map(_split_for_members(self.num_members, train=False)).prefetch(
            tf.data.AUTOTUNE
        )

    def judged_images(self, pipeline):
        """The judged images alone (in judging order), through `pipeline`."""
        if self.num_folds == 1:
            data = self.validation.map(lambda images, labels: images)
        else:
            data = tf.data.Dataset.from_tensor_slices(self.images).batch(self.batch_size)
        return pipeline(data)

    def judged_images_at(self, pipeline, indices):
        """The judged images at `indices` (sorted, in judging order) through `pipeline`,
        as one array: the images a report shows, without the others' pipeline work."""
        indices = np.asarray(indices, np.int64)
        if self.num_folds > 1:
            images = self.images[indices]
        else:
            picked, start = [], 0
            for batch, _ in self.validation:
                stop = start + len(batch)
                inside = indices[(indices >= start) & (indices < stop)] - start
                if len(inside):
                    picked.append(np.asarray(batch)[inside])
                start = stop
            images = np.concatenate(picked) if picked else []
        if not len(images):
            return np.zeros((0,), np.float32)
        through = pipeline(tf.data.Dataset.from_tensors(images))
        return np.concatenate([np.asarray(batch) for batch in through])

    def out_of_fold(self, predictions):
        """Each judged image's prediction by the member that did not train on it."""
        if self.num_folds == 1:
            return np.asarray(predictions if not isinstance(predictions, list) else predictions[0])
        stacked = np.stack([np.asarray(p) for p in predictions])  # (members, n, classes)
        return stacked[self.fold_ids, np.arange(self.num_images)]

    def fit_share(self):
        """The share of all labelled images a member trains on."""
        if self.num_folds > 1:
            return (self.num_folds - 1) / self.num_folds
        return self.facts.num_train / (self.facts.num_train + self.facts.num_validation)

    def fold_sizes(self):
        if self.num_folds == 1:
            return np.array([self.num_images])
        return np.bincount(self.fold_ids, minlength=self.num_folds)


def _sparse(labels, sparse):
    labels = np.asarray(labels)
    if sparse:
        return labels.reshape(len(labels), -1)[:, 0].astype(np.int64)
    return labels.reshape(len(labels), -1).argmax(-1)


def _split_for_members(num_members, train):
    def split(images, labels, fold_ids):
        # Real images: fold ids >= 0 (-1: every member trains on them, the refit).
        # Generated images: -(i + 2), member i's own (`GeneratedData.member_data`).
        def trains(index):
            own = tf.equal(fold_ids, -(index + 2))
            return tf.where(fold_ids >= -1, tf.not_equal(fold_ids, index), own)

        weights = tuple(
            tf.cast(trains(index) if train else tf.equal(fold_ids, index), tf.float32)
            for index in range(num_members)
        )
        if num_members == 1:
            return images, labels, weights[0]
        return images, (labels,) * num_members, weights

    return split


def renamed(model, name):
    """`model` under another name (a functional view sharing its layers and weights)."""
    outputs = model.outputs[0] if len(model.outputs) == 1 else model.outputs
    return keras.Model(model.inputs, outputs, name=name)


def joint_model(members, input_shape):
    """One trainable model whose outputs are `members` (each on the same inputs)."""
    if len(members) == 1:
        return members[0]
    inputs = keras.Input(input_shape, name="images")
    outputs = [
        keras.layers.Identity(name=f"member_{index}")(
            renamed(member, f"member_model_{index}")(inputs)
        )
        for index, member in enumerate(members)
    ]
    return keras.Model(inputs, outputs, name="members")


def copy_random_state(source, target):
    """Gives `target` the random-number states of `source` (same architecture).

    `get_weights()` leaves out the seed generators' states (dropout's draws): a model
    reused with new weights must take them too to train as the new model would.
    """
    states = [v for v in source.variables if v.path.endswith("seed_generator_state")]
    targets = [v for v in target.variables if v.path.endswith("seed_generator_state")]
    for state, variable in zip(states, targets):
        variable.assign(state)


def fresh_optimizer(model):
    """A new optimizer of `model`'s class and config (no state shared with it)."""
    return model.optimizer.__class__.from_config(model.optimizer.get_config())


def compile_joint(joint, members):
    """Compiles `joint` with the first member's optimizer (a fresh copy) and loss."""
    if len(members) == 1:
        return
    first = members[0]
    joint.compile(
        optimizer=fresh_optimizer(first),
        loss=[first.loss] * len(members),
        weighted_metrics=[["accuracy"] for _ in members],
    )


class MemberLogs(keras.callbacks.Callback):
    """Puts the members' mean `accuracy`, `loss` (and `val_*`) into the epoch logs.

    Place it first: `ProgressiveEpochs`, `ReduceLROnPlateau` and the reports then read
    `val_accuracy` as for one model. The mean is weighted by the members' held-out sizes:
    `val_accuracy` is the out-of-fold accuracy.
    """

    def __init__(self, num_members, weights=None):
        super().__init__()
        self.num_members = num_members
        self.weights = np.ones(num_members) if weights is None else np.asarray(weights, float)
        self.epoch_logs = []
        self.epoch_times = []  # seconds since the start of training, at each epoch's end

    def on_train_begin(self, logs=None):
        if not self.epoch_logs:
            self._start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self.num_members > 1:
            for prefix in ("", "val_"):
                for metric in ("accuracy", "loss"):
                    keys = [f"{prefix}member_{i}_{metric}" for i in range(self.num_members)]
                    if all(key in logs for key in keys):
                        values = np.array([float(logs[key]) for key in keys])
                        logs[prefix + metric] = float(np.average(values, weights=self.weights))
        self.epoch_logs.append(dict(logs))
        self.epoch_times.append(time.monotonic() - self._start)
