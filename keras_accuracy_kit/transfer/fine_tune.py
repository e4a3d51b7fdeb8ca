"""`kit.transfer.fine_tune`: a converged head on the frozen backbone first, then the backbone
slower, kept only when validation says it beats the head."""

import contextlib
import math

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, keras_compat
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit.transfer.cache_features import (
    as_dataset,
    compute_features,
    random_layers_before,
    split_at_extractor,
)
from keras_accuracy_kit.transfer.discriminative_optimizer import DiscriminativeOptimizer
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor
from keras_accuracy_kit.transfer.fine_tune_history import FineTuneHistory

_OWNER = "kit.transfer.fine_tune"
#: A head-phase epoch repeats a small training set until it makes at least this many
#: steps: a linear head on 15 images needs hundreds of steps, and each epoch costs a
#: validation pass and the callbacks.
HEAD_STEPS_PER_EPOCH = 50
#: `head_epochs="auto"`: the head phase's ceiling (it stops earlier once converged).
AUTO_HEAD_EPOCHS = 100
#: The head has converged when its epoch training loss fell by less than this ...
HEAD_CONVERGED_DELTA = 1e-3
#: ... over this many epochs.
HEAD_CONVERGED_PATIENCE = 3
#: `fine_tune_epochs="auto"` with validation data: the fine-tuning phase's ceiling.
AUTO_FINE_TUNE_EPOCHS = 30
#: Batch size for the cached validation features.
_VALIDATION_BATCH = 256


def fine_tune(
    model,
    train,
    validation=None,
    head_epochs="auto",
    epochs=None,
    base_lr=1e-3,
    backbone_lr_ratio=0.1,
    unfreeze="all",
    optimizer="adam",
    loss=None,
    metrics=("accuracy",),
    callbacks=None,
    verbose="auto",
    head_lr=1e-2,
    head_l2="auto",
    fine_tune_epochs="auto",
    cache="auto",
    monitor="val_accuracy",
    patience=5,
    min_delta=0.0,
    seed=None,
    weighted_metrics=None,
):
    """Fine-tunes a transfer model so that it ends no worse than its head on the frozen backbone.

    A linear probe (a logistic regression on the frozen backbone's features) is the
    baseline any transfer recipe must beat; a head trained for a few epochs and then
    unfrozen with the backbone can end far below it. This recipe has two phases:

    1. **Head.** Every `FeatureExtractor` is frozen and the head trains until its training
       loss has converged (it fell by less than 1e-3 over 3 epochs; at most `head_epochs`),
       with Adam at `head_lr=1e-2` and an L2 penalty on the head's kernels of
       `1 / (2 * num_train_images)`: the penalty of scikit-learn's
       `LogisticRegression(C=1)`, so a softmax head converges to that well-posed linear
       probe rather than stopping wherever a noisy few-image validation set says
       (measured: within a point of scikit-learn's probe on 15-25 training images, where
       early stopping on validation lost up to 7 points, and dropout on the features lost
       2-5). When nothing random comes before the backbone, the head trains on features
       computed once per image (`kit.transfer.cache_features`): on a conv backbone its
       epochs cost a small fraction of an epoch through the backbone. A head epoch repeats a
       small training set until it makes at least 50 steps. The trained head is the
       **floor**: its weights are kept, and with validation data, its `monitor` value.
    2. **Fine-tuning.** The backbone is unfrozen (all of it, or only its top `unfreeze`
       layers for a named Keras backbone) and trains with the head, the head at `base_lr`
       and the backbone at `base_lr * backbone_lr_ratio` (a `DiscriminativeOptimizer`).
       Batch norm stays in inference mode. With validation data the phase stops after
       `patience` epochs without beating the best so far, keeps its best epoch if that
       beats the floor by more than `min_delta`, and otherwise **rolls back** to the floor
       (the head on the frozen backbone, re-frozen): the result is never worse than the
       head on validation. Without validation data nothing can show that unfreezing
       helps, so by default there is no fine-tuning phase; an explicit
       `fine_tune_epochs` (e.g. `history.best_fine_tune_epochs` of a run with
       validation, for a refit on train + validation) runs exactly that many epochs.

    The same `callbacks` serve both phases and see `model` (kit callbacks included:
    `kit.callbacks.ReduceLROnPlateau` lowers both rates of phase 2 together); on cached
    features their logs come from the head on the features, which computes the same
    outputs as `model`.

    Args:
        model: A `keras.Model` containing at least one `kit.transfer.FeatureExtractor`
            (e.g. from `kit.transfer.classifier`).
        train: Training data: a `tf.data.Dataset` of `(images, labels)` or `(images,
            labels, sample_weights)` batches (or anything `fit` takes as `x`), or a tuple
            of such arrays (batched by 32, shuffled).
        validation: Optional validation data for `fit`'s `validation_data`; the
            fine-tuning phase is judged on it. Defaults to `None`.
        head_epochs: `"auto"` or an int >= 0. Ceiling of the head phase, which ends
            earlier once converged. `"auto"` is 100. Defaults to `"auto"`.
        epochs: Optional int. Ceiling of both phases together (the fine-tuning phase gets
            what the head phase left); without validation data and with
            `fine_tune_epochs="auto"`, exactly that total (a fixed schedule). Defaults
            to `None`.
        base_lr: Positive float. Learning rate of the head in the fine-tuning phase.
            Defaults to `1e-3`.
        backbone_lr_ratio: Positive float. Backbone rate / head rate in the fine-tuning
            phase. Defaults to `0.1`.
        unfreeze: `"all"`, or an int N: unfreeze only the top N layers of a named Keras
            backbone (SavedModels unfreeze as a whole). Defaults to `"all"`.
        optimizer: Optimizer name or class (e.g. `"adam"`, `keras.optimizers.SGD`), for
            both phases. Defaults to `"adam"`.
        loss: Loss for `compile`. Defaults to the model's compiled loss, else
            `"sparse_categorical_crossentropy"`.
        metrics: Metrics for `compile`. Defaults to `("accuracy",)`.
        callbacks: Optional list of callbacks for both phases.
        verbose: `fit`'s verbosity. Defaults to `"auto"`.
        head_lr: Positive float. Learning rate of the head phase. Defaults to `1e-2`
            (a linear head converges in a few hundred steps).
        head_l2: `"auto"`, or a float >= 0. L2 factor on the head's kernels in the head
            phase (added to the mean loss). `"auto"` is `1 / (2 * num_train_images)`.
            Defaults to `"auto"`.
        fine_tune_epochs: `"auto"` or an int >= 0. Ceiling of the fine-tuning phase with
            validation data, its exact length without. `"auto"` is 30 with validation
            data, none without (or what `epochs` leaves). Defaults to `"auto"`.
        cache: `"auto"`, True or False. Whether the head phase trains on cached features.
            `"auto"` caches when the model splits at its one `FeatureExtractor` and no
            random layer comes before it; pass False when `train` augments its images at
            random (the cache would keep one augmented copy of each). Defaults to
            `"auto"`.
        monitor: String. The validation log key the fine-tuning phase is judged on.
            Defaults to `"val_accuracy"`.
        patience: Int >= 1. Fine-tuning epochs without a new best before it stops.
            Defaults to `5`.
        min_delta: Float >= 0. How much fine-tuning must beat the floor by to be kept.
            Defaults to `0.0` (any improvement).
        seed: Optional int. Seeds the shuffling of cached features. Defaults to `None`
            (TensorFlow's global seed).
        weighted_metrics: Optional metrics for `compile` that read the sample weights of
            `(images, labels, sample_weights)` data (e.g. `["accuracy"]`, with
            `metrics=()`, so that `val_accuracy` counts only the weighted images). Defaults
            to `None`.

    Returns:
        A `kit.transfer.FineTuneHistory`: the `History` of both phases (epochs numbered
        across them) with `head_epochs`, `cached`, `floor`, `fine_tune_epochs`,
        `best_fine_tune_epochs`, `best_value`, `rolled_back` and `refit_arguments()`.

    Example:

    ```python
    model = kit.transfer.classifier("path/to/saved_model", num_classes=5, input_shape=(32, 32, 1))
    history = kit.transfer.fine_tune(model, train, validation)
    history.floor, history.best_value, history.rolled_back  # what fine-tuning changed
    # a final model on all the data, replaying the decisions:
    final = kit.transfer.classifier("path/to/saved_model", num_classes=5, input_shape=(32, 32, 1))
    kit.transfer.fine_tune(final, train.concatenate(validation), **history.refit_arguments())
    ```
    """
    extractors = _feature_extractors(model)
    with _strategy_scope(model):  # the head's trainer and optimizers live where `model` does
        return _fine_tune(
            model, extractors, train, validation, head_epochs, epochs, base_lr,
            backbone_lr_ratio, unfreeze, optimizer, loss, metrics, callbacks, verbose, head_lr,
            head_l2, fine_tune_epochs, cache, monitor, patience, min_delta, seed,
            weighted_metrics,
        )  # fmt: skip


def _fine_tune(
    model, extractors, train, validation, head_epochs, epochs, base_lr, backbone_lr_ratio,
    unfreeze, optimizer, loss, metrics, callbacks, verbose, head_lr, head_l2,
    fine_tune_epochs, cache, monitor, patience, min_delta, seed, weighted_metrics,
):  # fmt: skip
    cache = _check_arguments(
        head_epochs, epochs, base_lr, backbone_lr_ratio, unfreeze, head_lr, head_l2,
        fine_tune_epochs, cache, patience, min_delta,
    )  # fmt: skip
    monitor, min_delta = _check_monitor(
        monitor, min_delta, optimizer, head_lr, validation, metrics, weighted_metrics
    )
    compiled = _compile_arguments(model, loss, metrics, weighted_metrics)
    callbacks = list(callbacks or [])
    train = _as_training_data(train, seed)
    validation = _as_validation_data(validation)
    head_epochs = AUTO_HEAD_EPOCHS if head_epochs == "auto" else int(head_epochs)
    if epochs is not None:
        head_epochs = min(head_epochs, int(epochs))
    result = FineTuneHistory()
    result.monitor = monitor

    for extractor in extractors:
        extractor.trainable = False
    if head_epochs:
        _train_head(
            model, train, validation, head_epochs, head_lr, head_l2, optimizer, compiled,
            callbacks, verbose, cache, seed, result,
        )  # fmt: skip
        if model.stop_training:  # a callback (a deadline, early stopping) ended training
            return result
    else:
        _compile_frozen(model, optimizer, base_lr, compiled)
    floor_weights = model.get_weights()
    if validation is not None:
        result.floor = result.best_value = _evaluate(model, validation, monitor)

    length = _fine_tune_length(fine_tune_epochs, epochs, result.head_epochs, validation)
    if not length:
        _compile_frozen(model, optimizer, base_lr, compiled)
        return result
    _compile_discriminative(
        model, extractors, unfreeze, backbone_lr_ratio, optimizer, base_lr, compiled
    )
    _train_backbone(
        model, extractors, train, validation, length, optimizer, base_lr, compiled, callbacks,
        verbose, monitor, min_delta, patience, floor_weights, result,
    )  # fmt: skip
    return result


def _train_backbone(
    model, extractors, train, validation, length, optimizer, base_lr, compiled, callbacks,
    verbose, monitor, min_delta, patience, floor_weights, result,
):  # fmt: skip
    """Trains the compiled, unfrozen model `length` epochs after the head's; with
    validation data, keeps its best epoch only if it beats the frozen floor."""
    guard = None
    if validation is not None:
        mode = monitor_lib.resolve_mode(_OWNER, monitor, "auto", model)
        guard = _BeatTheFloor(monitor, mode, result.floor, min_delta, patience)
    done = result.head_epochs
    history = model.fit(
        train,
        validation_data=validation,
        epochs=done + length,
        initial_epoch=done,
        callbacks=callbacks + ([guard] if guard else []),
        shuffle=False,  # tf.data pipelines shuffle themselves
        verbose=verbose,
    )
    result.fine_tune_epochs = result.extend(history, model)
    if guard is None:
        result.best_fine_tune_epochs = result.fine_tune_epochs
        return
    _keep_best(model, extractors, guard, floor_weights, optimizer, base_lr, compiled, result, done)


def _check_monitor(monitor, min_delta, optimizer, head_lr, validation, metrics, weighted_metrics):
    """(monitor, min_delta) checked; a wrong `optimizer` or an uncomputed monitor raises."""
    monitor = monitor_lib.check_monitor(_OWNER, monitor)
    min_delta = monitor_lib.check_min_delta(_OWNER, min_delta)
    _make_optimizer(optimizer, head_lr)  # a wrong `optimizer` fails before any training
    if validation is not None and monitor != "val_loss" and not (metrics or weighted_metrics):
        raise ValueError(
            f"{_OWNER}: `monitor` must name a validation metric the model computes. "
            f"Received: monitor={monitor!r} with metrics={metrics!r}. Pass "
            "metrics=['accuracy'], or monitor='val_loss'."
        )
    return monitor, min_delta


def _as_validation_data(validation):
    """`validation` as a dataset: a tuple or list of arrays is batched; others are kept."""
    if isinstance(validation, (tuple, list)):
        validation = tf.data.Dataset.from_tensor_slices(tuple(validation)).batch(
            _VALIDATION_BATCH
        )
    return validation


def _compile_arguments(model, loss, metrics, weighted_metrics):
    """`compile`'s loss and metrics for every phase (the model's own loss by default)."""
    loss = loss or getattr(model, "loss", None) or "sparse_categorical_crossentropy"
    return {
        "loss": loss,
        "metrics": list(metrics or []),
        "weighted_metrics": None if weighted_metrics is None else list(weighted_metrics),
    }


def _compile_discriminative(
    model, extractors, unfreeze, backbone_lr_ratio, optimizer, base_lr, compiled
):
    """Unfreezes the extractors and compiles with their rate scaled by `backbone_lr_ratio`."""
    multipliers = {}
    for extractor in extractors:
        _unfreeze(extractor, unfreeze)
        for variable in extractor.trainable_weights:
            multipliers[variable.path] = float(backbone_lr_ratio)
    _check_unique_paths(model, multipliers)
    model.compile(
        DiscriminativeOptimizer(_make_optimizer(optimizer, base_lr), multipliers), **compiled
    )


def _keep_best(model, extractors, guard, floor_weights, optimizer, base_lr, compiled, result, done):
    """The best fine-tuned weights, or back to the floor (frozen) if none beat the head."""
    if guard.best_weights is None:  # nothing beat the head: back to the floor
        model.set_weights(floor_weights)
        for extractor in extractors:
            extractor.trainable = False
        _compile_frozen(model, optimizer, base_lr, compiled)
        result.rolled_back = True
    else:
        model.set_weights(guard.best_weights)
        result.best_fine_tune_epochs = guard.best_epoch - done + 1
        result.best_value = guard.best


# The head phase --------------------------------------------------------------------------


def _train_head(
    model, train, validation, head_epochs, head_lr, head_l2, optimizer, compiled, callbacks,
    verbose, cache, seed, result,
):  # fmt: skip
    """Trains the head to convergence on the frozen backbone; fills `result`'s head fields."""
    split = _cache_plan(model, train, validation, cache)
    if split is not None:
        feature_model, head_model = split
        train_arrays, batch_size = _features(feature_model, train)
        num_train = len(train_arrays[0])
        trainee = head_model
        train_data = (
            tf.data.Dataset.from_tensor_slices(train_arrays)
            .shuffle(num_train, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
        )
        steps = math.ceil(num_train / batch_size)
        validation_data = None
        if validation is not None:
            validation_arrays, _ = _features(feature_model, validation)
            validation_data = tf.data.Dataset.from_tensor_slices(validation_arrays).batch(
                _VALIDATION_BATCH
            )
    else:
        trainee, train_data, validation_data = model, train, validation
        num_train, steps = _count(train, count_images=head_l2 == "auto")
    if steps and steps < HEAD_STEPS_PER_EPOCH:
        train_data = train_data.repeat(math.ceil(HEAD_STEPS_PER_EPOCH / steps))
    if head_l2 != "auto":
        l2 = float(head_l2)
    else:  # no count (a generator): no penalty
        l2 = 1.0 / (2.0 * num_train) if num_train else 0.0
    trainer = _PenalisedHead(trainee, _head_kernels(model), l2, name="head_trainer")
    head_optimizer = _make_optimizer(optimizer, head_lr)
    trainer.compile(head_optimizer, **compiled)
    # Callbacks see `model`, whose optimizer is the one training the head.
    model.compile(head_optimizer, **compiled)
    converged = keras.callbacks.EarlyStopping(
        "loss", min_delta=HEAD_CONVERGED_DELTA, patience=HEAD_CONVERGED_PATIENCE
    )
    model.stop_training = False
    history = trainer.fit(
        train_data,
        validation_data=validation_data,
        epochs=head_epochs,
        callbacks=[_SeenOn(callback, model) for callback in callbacks] + [converged],
        shuffle=False,  # tf.data pipelines shuffle themselves
        verbose=verbose,
    )
    # A stop asked by a user callback stays on `model`; convergence stops only `trainer`.
    result.head_epochs = result.extend(history, model)
    result.cached = split is not None


def _cache_plan(model, train, validation, cache):
    """`(feature_model, head_model)` when the head phase trains on cached features, else None."""
    if cache is False:
        return None
    reasons = []
    split = split_at_extractor(model)
    if isinstance(split, str):
        reasons.append(split)
    else:
        random_layers = random_layers_before(split[0])
        if random_layers and cache == "auto":
            reasons.append(f"layers before the backbone may be random: {random_layers}")
    for name, data in (("train", train), ("validation", validation)):
        if data is None:
            continue
        if not isinstance(data, tf.data.Dataset):
            reasons.append(f"`{name}` is a {type(data).__name__}, not a tf.data.Dataset")
        elif not _labelled(data.element_spec):
            reasons.append(f"`{name}` holds {data.element_spec}, not (images, labels[, weights])")
    if not reasons:
        return split
    if cache is True:
        raise ValueError(
            f"{_OWNER}: `cache=True` needs a model that splits at its one FeatureExtractor "
            f"and tf.data datasets. Received: {'; '.join(reasons)}. Pass cache='auto' or "
            "cache=False to train the head through the backbone."
        )
    return None


def _features(feature_model, dataset):
    """Cached `(features, labels[, weights])` of one pass and the first batch's size."""
    dataset = as_dataset(dataset, feature_model, 32, _OWNER)
    batch_sizes = []
    arrays = compute_features(feature_model, dataset, batch_sizes)
    return arrays, batch_sizes[0]


def _labelled(spec):
    return (
        isinstance(spec, tuple)
        and len(spec) in (2, 3)
        and all(isinstance(part, tf.TensorSpec) for part in spec)
    )


def _count(dataset, count_images):
    """`(num_images, steps)` of one pass over `dataset`; 0 when unknown (nothing repeats).

    Counting the images reads one pass of the pipeline (not the model).
    """
    if not isinstance(dataset, tf.data.Dataset):
        return 0, 0
    steps = max(int(dataset.cardinality()), 0)  # infinite or unknown: 0
    num_images = 0
    if count_images and steps:
        for element in dataset:
            images = element[0] if isinstance(element, tuple) else element
            num_images += int(images.shape[0])
    return num_images, steps


def _head_kernels(model):
    """The trainable kernels of `model` while its backbone is frozen: the head's."""
    trainable = {id(variable) for variable in model.trainable_weights}
    kernels, seen = [], set()
    for layer in keras_compat.flatten_layers(model, include_self=False):
        kernel = getattr(layer, "kernel", None)
        if isinstance(kernel, keras.Variable) and id(kernel) in trainable:
            if id(kernel) not in seen:
                seen.add(id(kernel))
                kernels.append(kernel)
    return kernels


class _PenalisedHead(keras.Model):
    """`inner` plus an L2 penalty on the head's kernels, added to the mean loss."""

    def __init__(self, inner, kernels, l2, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.l2 = float(l2)
        self._kernels = lambda: kernels  # a function: the tracker must not own them twice

    def call(self, inputs, training=None):
        outputs = self.inner(inputs, training=training)
        kernels = self._kernels()
        if self.l2 and kernels:
            penalty = keras.ops.sum(
                keras.ops.stack([keras.ops.sum(keras.ops.square(k)) for k in kernels])
            )
            self.add_loss(self.l2 * penalty)
        return outputs


class _SeenOn(keras.callbacks.Callback):
    """Forwards every hook to `callback`, which sees `target` (the whole model) as its model.

    The head phase fits a head model on features; the user's callbacks (checkpoints,
    reports, plateau rate cuts) must see, save and change the model they were given.
    A stop they ask for on `target` stops the head's `fit` too.
    """

    def __init__(self, callback, target):
        super().__init__()
        self.callback = callback
        self.target = target
        self._trainer = None

    def set_model(self, model):
        self._trainer = model
        self.callback.set_model(self.target)

    def set_params(self, params):
        super().set_params(params)
        self.callback.set_params(params)

    def _forward(self, hook, *args):
        getattr(self.callback, hook)(*args)
        if self.target.stop_training and self._trainer is not None:
            self._trainer.stop_training = True

    def on_train_begin(self, logs=None):
        self.target.stop_training = False
        self._forward("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._forward("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._forward("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._forward("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._forward("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._forward("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._forward("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._forward("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._forward("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._forward("on_test_batch_end", batch, logs)


# The fine-tuning phase ---------------------------------------------------------------------


class _BeatTheFloor(keras.callbacks.Callback):
    """Keeps the weights of the best epoch that beats the floor; stops after `patience`
    epochs without a new best (the floor counts as the first best)."""

    def __init__(self, monitor, mode, floor, min_delta, patience):
        super().__init__()
        self.monitor, self.patience = monitor, patience
        self.best_value = monitor_lib.BestValue(mode, min_delta)
        self.best_value.update(floor)
        self.best = floor
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        value = monitor_lib.monitored_value(_OWNER, self.monitor, logs)
        if self.best_value.update(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True


def beats_floor(floor, values, mode="max", min_delta=0.0):
    """The index of the best of `values` that beats `floor` by more than `min_delta`, or None.

    The decision of the fine-tuning phase, as a pure function (ties keep the earlier epoch,
    as Keras' callbacks do).

    Example:

    >>> beats_floor(0.80, [0.78, 0.80, 0.81, 0.81]), beats_floor(0.80, [0.80, 0.79])
    (2, None)
    >>> beats_floor(0.5, [0.45, 0.4], mode="min"), beats_floor(0.80, [0.805], min_delta=0.01)
    (1, None)
    """
    best = monitor_lib.BestValue(mode, min_delta)
    best.update(floor)
    chosen = None
    for index, value in enumerate(values):
        if best.update(value):
            chosen = index
    return chosen


def _fine_tune_length(fine_tune_epochs, epochs, head_epochs_run, validation):
    if fine_tune_epochs != "auto":
        length = int(fine_tune_epochs)
        if epochs is not None:
            length = min(length, max(int(epochs) - head_epochs_run, 0))
        return length
    if epochs is not None:
        return max(int(epochs) - head_epochs_run, 0)
    return AUTO_FINE_TUNE_EPOCHS if validation is not None else 0


def _evaluate(model, validation, monitor):
    logs = model.evaluate(validation, verbose=0, return_dict=True)
    key = monitor[4:] if monitor.startswith("val_") else monitor
    if key not in logs:
        raise ValueError(
            f"{_OWNER}: `monitor` must name a validation metric of the model. Received: "
            f"monitor={monitor!r}; the validation logs hold "
            f"{sorted('val_' + name for name in logs)}. Pass one of them, or add the "
            "metric to `metrics`."
        )
    return float(logs[key])


def _strategy_scope(model):
    """The scope of the strategy `model` was built in, unless one is entered already."""
    if tf.distribute.has_strategy():
        return contextlib.nullcontext()
    return model.distribute_strategy.scope()


def _compile_frozen(model, optimizer, learning_rate, compiled):
    model.compile(_make_optimizer(optimizer, learning_rate), **compiled)


def _as_training_data(train, seed):
    if isinstance(train, (tuple, list)) and 1 < len(train) <= 3:
        arrays = tuple(np.asarray(part) for part in train)
        return (
            tf.data.Dataset.from_tensor_slices(arrays)
            .shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
            .batch(32)
        )
    return train


# Shared ------------------------------------------------------------------------------------


def _feature_extractors(model):
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{_OWNER}: `model` must be a keras.Model. Received: model={model!r}. Build it "
            "with `kit.transfer.classifier(...)`."
        )
    found = [layer for layer in keras_compat.flatten_layers(model) if isinstance(layer, FeatureExtractor)]
    if not found:
        raise ValueError(
            f"{_OWNER}: `model` must contain a kit.transfer.FeatureExtractor. Received: model "
            f"{model.name!r} with layers {[layer.name for layer in model.layers]}. Build it "
            "with `kit.transfer.classifier(...)` or add a FeatureExtractor layer."
        )
    return found


def _unfreeze(extractor, unfreeze):
    extractor.trainable = True
    backbone = extractor.backbone_model
    if backbone is None:
        return
    layers = backbone.layers
    first_trainable = 0 if unfreeze == "all" else max(len(layers) - unfreeze, 0)
    for index, layer in enumerate(layers):
        is_batch_norm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = index >= first_trainable and not is_batch_norm


def _check_unique_paths(model, multipliers):
    """The optimizer routes by variable path: the backbone's paths must be its own."""
    counts = {}
    for variable in model.trainable_weights:
        counts[variable.path] = counts.get(variable.path, 0) + 1
    clashes = sorted(path for path, count in counts.items() if count > 1 and path in multipliers)
    if clashes:
        raise ValueError(
            f"{_OWNER}: the backbone's variable paths must be unique in the model. Received: "
            f"{clashes} shared by several variables. Give the layers distinct names."
        )


def _make_optimizer(optimizer, learning_rate):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"{_OWNER}: `optimizer` must be a name or class, since each phase builds a fresh "
            f"one at its own rate. Received: optimizer={optimizer!r}. Pass e.g. "
            f"optimizer={type(optimizer).__name__!r} and set the rates with `head_lr` and "
            "`base_lr`."
        )
    if isinstance(optimizer, str):
        config = keras.optimizers.serialize(keras.optimizers.get(optimizer))
        config["config"]["learning_rate"] = float(learning_rate)
        return keras.optimizers.deserialize(config)
    return optimizer(learning_rate=float(learning_rate))


def _check_arguments(
    head_epochs, epochs, base_lr, backbone_lr_ratio, unfreeze, head_lr, head_l2,
    fine_tune_epochs, cache, patience, min_delta,
):  # fmt: skip
    """Raises on the first bad argument; returns `cache` as 'auto', True or False."""
    checks.check_int(_OWNER, "head_epochs", head_epochs, minimum=0, example=20, allow=("auto",))
    checks.check_int(_OWNER, "fine_tune_epochs", fine_tune_epochs, minimum=0, example=30,
                     allow=("auto",))  # fmt: skip
    checks.check_int(_OWNER, "epochs", epochs, minimum=0, example=50, allow=(None,))
    if epochs is not None and head_epochs != "auto" and epochs < head_epochs:
        raise ValueError(
            f"{_OWNER}: `epochs` counts both phases and must be >= `head_epochs`. Received: "
            f"epochs={epochs}, head_epochs={head_epochs}. Pass e.g. epochs={head_epochs + 10}."
        )
    for arg, value in (
        ("base_lr", base_lr),
        ("backbone_lr_ratio", backbone_lr_ratio),
        ("head_lr", head_lr),
    ):
        checks.check_number(_OWNER, arg, value, low=0, open_low=True,
                            expectation="a positive number")  # fmt: skip
    checks.check_number(_OWNER, "head_l2", head_l2, low=0, allow=("auto",),
                        expectation="'auto' or a finite number >= 0",
                        fix="Pass 0 for no penalty.")  # fmt: skip
    checks.check_int(_OWNER, "unfreeze", unfreeze, example=2, allow=("all",),
                     expectation="a positive number of top layers")  # fmt: skip
    cache = checks.check_bool(_OWNER, "cache", cache, error=ValueError, allow=("auto",))
    checks.check_int(_OWNER, "patience", patience, example=3)
    return cache
