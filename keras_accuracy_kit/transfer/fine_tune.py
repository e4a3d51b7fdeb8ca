"""`kit.transfer.fine_tune`: head first with the backbone frozen, then the backbone, slower."""

import numbers

import keras

from keras_accuracy_kit.transfer.discriminative_optimizer import DiscriminativeOptimizer
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor

_OWNER = "kit.transfer.fine_tune"


def fine_tune(
    model,
    train,
    validation=None,
    head_epochs=5,
    epochs=15,
    base_lr=1e-3,
    backbone_lr_ratio=0.1,
    unfreeze="all",
    optimizer="adam",
    loss=None,
    metrics=("accuracy",),
    callbacks=None,
    verbose="auto",
):
    """Trains a transfer model the standard two-phase way and returns its training history.

    Phase 1 trains the head with every `FeatureExtractor` of `model` frozen, at `base_lr`,
    for `head_epochs`. Phase 2 unfreezes the backbone (all of it, or only its top
    `unfreeze` layers for a named Keras backbone) and trains on to `epochs` with the
    backbone at `base_lr * backbone_lr_ratio` (a `DiscriminativeOptimizer`). Batch norm
    stays in inference mode (named backbones always run with `training=False` and keep
    their batch-norm layers frozen), so the small fine-tuning batches cannot spoil the
    pretrained statistics. The same `callbacks` serve both phases (kit callbacks included:
    `kit.callbacks.ReduceLROnPlateau` lowers both rates together).

    Args:
        model: A `keras.Model` containing at least one `kit.transfer.FeatureExtractor`
            (e.g. from `kit.transfer.classifier`).
        train: Training data for `model.fit`: a `tf.data.Dataset` of `(images, labels)`
            batches (or anything `fit` takes as `x`).
        validation: Optional validation data for `fit`'s `validation_data`.
        head_epochs: Int >= 0. Epochs of phase 1. Defaults to `5`.
        epochs: Int. Total epochs, phases 1 and 2 together (`>= head_epochs`). Defaults
            to `15`.
        base_lr: Positive float. Learning rate of the head. Defaults to `1e-3`.
        backbone_lr_ratio: Positive float. Backbone rate / head rate in phase 2. Defaults
            to `0.1`.
        unfreeze: `"all"`, or an int N: unfreeze only the top N layers of a named Keras
            backbone (SavedModels unfreeze as a whole). Defaults to `"all"`.
        optimizer: Optimizer name or class (e.g. `"adam"`, `keras.optimizers.SGD`).
            Defaults to `"adam"`.
        loss: Loss for `compile`. Defaults to the model's compiled loss, else
            `"sparse_categorical_crossentropy"`.
        metrics: Metrics for `compile`. Defaults to `("accuracy",)`.
        callbacks: Optional list of callbacks for both phases.
        verbose: `fit`'s verbosity. Defaults to `"auto"`.

    Returns:
        A `keras.callbacks.History` covering both phases (epochs numbered across them).

    Example:

    ```python
    model = kit.transfer.classifier("path/to/saved_model", num_classes=5, input_shape=(8, 8, 1))
    history = kit.transfer.fine_tune(model, train, validation, head_epochs=5, epochs=20)
    ```
    """
    extractors = _feature_extractors(model)
    _check_arguments(head_epochs, epochs, base_lr, backbone_lr_ratio, unfreeze)
    loss = loss or getattr(model, "loss", None) or "sparse_categorical_crossentropy"
    metrics = list(metrics or [])
    callbacks = list(callbacks or [])
    merged = keras.callbacks.History()
    merged.history, merged.epoch = {}, []

    def run(initial_epoch, last_epoch):
        history = model.fit(
            train,
            validation_data=validation,
            epochs=last_epoch,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=verbose,
        )
        merged.epoch.extend(history.epoch)
        for key, values in history.history.items():
            merged.history.setdefault(key, []).extend(values)
        merged.params = history.params
        merged.set_model(model)
        return len(history.epoch)

    for extractor in extractors:
        extractor.trainable = False
    done = 0
    if head_epochs:
        model.compile(_make_optimizer(optimizer, base_lr), loss=loss, metrics=metrics)
        done = run(0, head_epochs)
        if done < head_epochs:  # a callback stopped training: don't start phase 2.
            return merged
    if epochs > head_epochs:
        multipliers = {}
        for extractor in extractors:
            _unfreeze(extractor, unfreeze)
            for variable in extractor.trainable_weights:
                multipliers[variable.path] = float(backbone_lr_ratio)
        _check_unique_paths(model, multipliers)
        model.compile(
            DiscriminativeOptimizer(_make_optimizer(optimizer, base_lr), multipliers),
            loss=loss,
            metrics=metrics,
        )
        run(done, epochs)
    return merged


def _feature_extractors(model):
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{_OWNER}: `model` must be a keras.Model. Received: model={model!r}. Build it "
            "with `kit.transfer.classifier(...)`."
        )
    found = [layer for layer in model._flatten_layers() if isinstance(layer, FeatureExtractor)]
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
            f"optimizer={type(optimizer).__name__!r} and set the rate with `base_lr`."
        )
    if isinstance(optimizer, str):
        config = keras.optimizers.serialize(keras.optimizers.get(optimizer))
        config["config"]["learning_rate"] = float(learning_rate)
        return keras.optimizers.deserialize(config)
    return optimizer(learning_rate=float(learning_rate))


def _check_arguments(head_epochs, epochs, base_lr, backbone_lr_ratio, unfreeze):
    for arg, value in (("head_epochs", head_epochs), ("epochs", epochs)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(
                f"{_OWNER}: `{arg}` must be a non-negative integer. Received: {arg}={value!r}."
            )
    if epochs < head_epochs:
        raise ValueError(
            f"{_OWNER}: `epochs` counts both phases and must be >= `head_epochs`. Received: "
            f"epochs={epochs}, head_epochs={head_epochs}. Pass e.g. epochs={head_epochs + 10}."
        )
    for arg, value in (("base_lr", base_lr), ("backbone_lr_ratio", backbone_lr_ratio)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(
                f"{_OWNER}: `{arg}` must be a positive number. Received: {arg}={value!r}."
            )
    if unfreeze != "all" and (
        isinstance(unfreeze, bool) or not isinstance(unfreeze, numbers.Integral) or unfreeze < 1
    ):
        raise ValueError(
            f"{_OWNER}: `unfreeze` must be 'all' or a positive number of top layers. "
            f"Received: unfreeze={unfreeze!r}."
        )
