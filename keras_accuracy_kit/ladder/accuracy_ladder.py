"""`kit.improve`: climb the seed article's ladder of tricks and keep what pays."""

import dataclasses
import inspect
import math
import os
import re
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core.announce import announce
from keras_accuracy_kit._core.checks import ensure_writable_directory
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.history.history import History
from keras_accuracy_kit.ladder import data as data_lib
from keras_accuracy_kit.reporting.accuracy_report import AccuracyReport
from keras_accuracy_kit.transforms.augment import Augment
from keras_accuracy_kit.transforms.resize import Resize
from keras_accuracy_kit.transforms.to_hsv import ToHSV
from keras_accuracy_kit.transforms.to_lab import ToLab

_OWNER = "kit.improve"
#: The ladder's rungs, in the seed article's order.
TRICKS = ("epochs", "learning_rate", "augment", "color", "image_size", "depth", "transfer")
#: The augmentation the ladder tries (ImageDataGenerator names), before the guard.
DEFAULT_AUGMENT = {
    "rotation_range": 10,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
    "horizontal_flip": True,
}


@dataclasses.dataclass
class Step:
    """One rung of the ladder: what was tried and what it gave.

    Args:
        name: String. The trick (`"baseline"`, `"epochs"`, ...).
        change: String. What this step changed, in words.
        val_accuracy: Float or None. Validation accuracy of the step's model (None when
            skipped).
        delta: Float or None. Gain over the best accuracy before the step.
        kept: Bool. Whether the ladder kept the change.
        epochs: Int. Epochs trained.
        seconds: Float. Wall time of the step.
        version: Int or None. The `kit.History` version the step was recorded as.
        note: String. Why it was skipped or dropped, or what the guard removed.
    """

    name: str
    change: str
    val_accuracy: float = None
    delta: float = None
    kept: bool = False
    epochs: int = 0
    seconds: float = 0.0
    version: int = None
    note: str = ""


@dataclasses.dataclass
class ImproveResult:
    """What `kit.improve` returns: the best model and the table of steps.

    Args:
        best_model: The `keras.Model` of the best configuration. It takes your images as
            they are: the input transforms the ladder kept (resize, colour space) are
            layers at its front, so `best_model.predict(images)` just works.
        best_accuracy: Float. Its validation accuracy.
        best_transforms: List of the kit transforms at the front of `best_model` (their
            configs describe the data pipeline); empty when none.
        steps: List of `Step`, in the order they ran.
        logdir: String. The TensorBoard log directory.
        directory: String. The `kit.History` directory of the versions.
    """

    best_model: keras.Model
    best_accuracy: float
    best_transforms: list
    steps: list
    logdir: str
    directory: str

    def table(self):
        """The ladder as a text table: step, change, accuracy, delta, kept, epochs, time."""
        rows = [["#", "step", "val_acc", "delta", "kept", "epochs", "time", "change / note"]]
        for index, step in enumerate(self.steps):
            rows.append(
                [
                    str(index),
                    step.name,
                    "-" if step.val_accuracy is None else f"{step.val_accuracy:.4f}",
                    "-" if step.delta is None else f"{step.delta:+.4f}",
                    "yes" if step.kept else "no",
                    str(step.epochs),
                    f"{step.seconds:.1f}s",
                    step.change + (f" ({step.note})" if step.note else ""),
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        return "\n".join(
            "  ".join([cell.ljust(width) for cell, width in zip(row[:-1], widths)] + [row[-1]])
            for row in rows
        )


@dataclasses.dataclass
class _Config:
    """The configuration a step trains: the best so far plus one trick."""

    epochs: int
    progressive: bool = False
    reduce_lr: bool = False
    augment: dict = None
    color: str = None
    image_size: int = None
    depth: int = None
    transfer: bool = False

    def hparams(self):
        return {
            "epochs": self.epochs,
            "progressive_epochs": self.progressive,
            "reduce_lr_on_plateau": self.reduce_lr,
            "augment": "none" if not self.augment else _describe(self.augment),
            "color": self.color or "none",
            "image_size": self.image_size or 0,
            "depth": self.depth or 0,
            "transfer": self.transfer,
        }


class _Budget:
    """The ladder's budget: epochs, minutes, or none; spent across steps."""

    def __init__(self, budget):
        self.epochs_left, self.deadline = math.inf, math.inf
        if budget is None:
            return
        if isinstance(budget, bool):
            budget = "invalid"
        if isinstance(budget, int) and budget > 0:
            self.epochs_left = budget
            return
        match = isinstance(budget, str) and re.fullmatch(
            r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)\s*", budget
        )
        if not match:
            raise ValueError(
                f"{_OWNER}: `budget` must be a positive number of epochs (int) or a duration "
                f"such as '90s', '5min', '1h'. Received: budget={budget!r}."
            )
        seconds = (
            float(match.group(1))
            * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[match.group(2)]
        )
        self.deadline = time.monotonic() + seconds

    def exhausted(self):
        return self.epochs_left <= 0 or time.monotonic() >= self.deadline

    def spend(self, epochs):
        self.epochs_left -= epochs


class _StopAtDeadline(keras.callbacks.Callback):
    """Stops `fit` at the end of the epoch that passes the budget's deadline."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = deadline

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


def improve(
    model,
    train,
    validation,
    tricks="auto",
    budget=None,
    logdir="runs/improve",
    directory=None,
    epochs=10,
    backbone=None,
    batch_size=32,
    min_delta="auto",
    class_names=None,
    refit=False,
    seed=0,
    verbose=1,
):
    """Tries the seed article's tricks one at a time on your model and keeps what pays.

    The ladder trains your baseline as it is, then, on top of the best configuration so
    far: more epochs (`ProgressiveEpochs`, best weights kept), then the learning rate
    (`ReduceLROnPlateau`), augmentation (`kit.augment`, with the steps that change the
    class removed by `augment.checked`), colour space (Lab, HSV; RGB data only), image size
    (larger inputs through `kit.resize`; needs a build function), depth (one more block;
    needs a build function with a `depth` argument) and transfer learning (when a
    `backbone` is given). A trick is kept only when validation accuracy beats the best by
    more than `min_delta`. Every step is a `kit.History` version (`kak history DIR`) and
    a TensorBoard run under `logdir` with an `AccuracyReport` (the "Accuracy Kit" tab shows
    the ladder: each step's change, best accuracy and deltas); progress is printed as it
    goes.

    Args:
        model: A `keras.Model` (each step trains a fresh copy from `clone_model`) or a
            build function `build(input_shape, num_classes)` returning one; it may also
            take `depth=` (the ladder then tries `depth + 1`). Compiled models keep their
            optimizer and loss; others get Adam(1e-3) and cross-entropy.
        train: `(images, labels)` batches (`tf.data.Dataset`) or a pair of arrays.
            Integer or one-hot labels; images `(height, width, 1 or 3)`.
        validation: The same for validation: steps are compared on it.
        tricks: `"auto"` (every trick that applies) or a list of names of `TRICKS`.
            Defaults to `"auto"`.
        budget: Optional bound on the whole ladder: an int (epochs) or a duration string
            (`"90s"`, `"5min"`, `"1h"`). Steps that do not fit are skipped. Defaults to
            `None` (no bound).
        logdir: Path. TensorBoard runs, one per step. Defaults to `"runs/improve"`.
        directory: Path of the `kit.History` store. Defaults to `<logdir>/history`.
        epochs: Int. Epochs of the baseline (and of each stage of "more epochs").
            Defaults to `10`.
        backbone: Optional transfer backbone: a name of `kit.transfer.list_backbones()`
            or a SavedModel directory / hub URL. Defaults to `None` (no transfer step).
        batch_size: Int. Batch size for array inputs. Defaults to `32`.
        min_delta: `"auto"` or a float. The gain a trick must beat. `"auto"` is half the
            binomial standard error of the best accuracy on the validation set, and at
            least one validation image. Defaults to `"auto"`.
        class_names: Optional list of class names for the reports. Defaults to `None`
            (the class indices).
        refit: Bool. After the ladder, train the best configuration once more on
            `train` and `validation` together, for the epochs that were best, and return
            that model (as keras-tuner's guide advises once a search is done). More data
            for the final model; its accuracy can then only be measured on a test set of
            your own. Defaults to `False`.
        seed: Int. Seeds weights, shuffling and augmentation: reruns give the same
            ladder. Defaults to `0`.
        verbose: 0 (silent), 1 (one line per step) or 2 (also `fit` progress).

    Returns:
        An `ImproveResult` (`best_model`, `best_accuracy`, `best_transforms`, `steps`,
        `table()`).

    Example:

    ```python
    def build(input_shape, num_classes):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                                 keras.layers.Dense(num_classes, activation="softmax")])

    result = kit.improve(build, train, validation, budget="5min", logdir="runs/ladder")
    result.best_model.save("best.keras")
    ```
    """
    ladder = _Ladder(
        model, train, validation, tricks, budget, logdir, directory, epochs, backbone,
        batch_size, min_delta, class_names, refit, seed, verbose,
    )  # fmt: skip
    return ladder.run()


class _Ladder:
    def __init__(
        self, model, train, validation, tricks, budget, logdir, directory, epochs, backbone,
        batch_size, min_delta, class_names, refit, seed, verbose,
    ):  # fmt: skip
        if not (isinstance(model, keras.Model) or callable(model)):
            raise ValueError(
                f"{_OWNER}: `model` must be a keras.Model or a build function "
                f"`build(input_shape, num_classes)`. Received: model={model!r}."
            )
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(
                f"{_OWNER}: `epochs` must be a positive int. Received: epochs={epochs!r}."
            )
        if min_delta != "auto" and (
            isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or min_delta < 0
        ):
            raise ValueError(
                f"{_OWNER}: `min_delta` must be 'auto' or a non-negative float. Received: "
                f"min_delta={min_delta!r}."
            )
        self.tricks = _check_tricks(tricks)
        self.budget = _Budget(budget)
        self.logdir = ensure_writable_directory(_OWNER, "logdir", logdir)
        self.directory = ensure_writable_directory(
            _OWNER, "directory", directory or os.path.join(self.logdir, "history")
        )
        self.train = data_lib.as_batched_dataset(train, batch_size, "train", shuffle_seed=seed)
        self.validation = data_lib.as_batched_dataset(validation, batch_size, "validation")
        self.facts = data_lib.describe(self.train, self.validation)
        self.model, self.build = (
            (None, model) if not isinstance(model, keras.Model) else (model, None)
        )
        self.epochs, self.backbone, self.min_delta = epochs, backbone, min_delta
        self.seed, self.verbose = seed, verbose
        if not isinstance(refit, bool):
            raise ValueError(f"{_OWNER}: `refit` must be True or False. Received: refit={refit!r}.")
        self.refit = refit
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.validation_labels = np.concatenate(
            [np.asarray(labels).reshape(len(labels), -1) for _, labels in self.validation]
        )
        if not self.facts.sparse_labels:
            self.validation_labels = self.validation_labels.argmax(-1)
        self.validation_labels = self.validation_labels.reshape(-1)
        self.steps = []

    # The ladder ---------------------------------------------------------------------------

    def run(self):
        self._announce(
            f"kit.improve: {self.facts.num_train} training / {self.facts.num_validation} "
            f"validation images {self.facts.image_shape}, {self.facts.num_classes} classes; "
            f"logs in {self.logdir}"
        )
        best_config = _Config(epochs=self.epochs)
        best = self._train_step("baseline", "your model as it is", best_config)
        if best is None:
            raise ValueError(
                f"{_OWNER}: `budget` must leave room for the baseline. Received: a budget "
                "exhausted before the first step. Raise `budget`."
            )
        for trick in self.tricks:
            if self.budget.exhausted():  # before the guard's own training, too
                self.steps.append(Step(trick, _TRICK_LABELS[trick], note="budget spent"))
                self._announce(f"  {trick}: skipped (budget spent)")
                continue
            for change, config, note in self._candidates(trick, best_config):
                if config is None:
                    self.steps.append(Step(trick, change, note=note))
                    self._announce(f"  {trick}: skipped ({note})")
                    continue
                outcome = self._train_step(trick, change, config, best, note)
                if outcome is None:
                    continue
                step = self.steps[-1]
                if outcome["accuracy"] > best["accuracy"] + self._threshold(best["accuracy"]):
                    step.kept = True
                    best, best_config = outcome, config
                    self._announce(f"  {trick}: kept ({change})")
                    break  # one variant per trick: the first that pays
        self._announce(f"kit.improve: best val_accuracy {best['accuracy']:.4f}\n")
        if self.refit:
            best = dict(best, model=self._refit(best_config, best["best_epochs"]))
        self._announce(f"To see the curves and the ladder: tensorboard --logdir {self.logdir}")
        return ImproveResult(
            best_model=best["model"],
            best_accuracy=best["accuracy"],
            best_transforms=best["transforms"],
            steps=self.steps,
            logdir=self.logdir,
            directory=self.directory,
        )

    def _candidates(self, trick, base):
        """Yields `(change, config or None, note)` for each variant of `trick`."""
        skip = lambda note: iter([(_TRICK_LABELS[trick], None, note)])  # noqa: E731
        if trick == "epochs":
            yield "more epochs while it improves", dataclasses.replace(base, progressive=True), ""
        elif trick == "learning_rate":
            yield "lower the rate on plateaus", dataclasses.replace(base, reduce_lr=True), ""
        elif trick == "augment":
            kept, removed = self._guarded_augment()
            note = f"guard removed {', '.join(removed)}" if removed else ""
            if not kept:
                yield from skip("every augmentation step changes classes")
                return
            yield f"augment {_describe(kept)}", dataclasses.replace(base, augment=kept), note
        elif trick == "color":
            if self.facts.image_shape[-1] != 3:
                yield from skip("grayscale images")
                return
            for color in ("lab", "hsv"):
                yield f"colour space {color}", dataclasses.replace(base, color=color), ""
        elif trick == "image_size":
            if self.build is None:
                yield from skip("needs a build function")
                return
            height = base.image_size or self.facts.image_shape[0]
            for size in (2 * height, 4 * height):
                if size > 224:
                    break
                yield (
                    f"resize to {size}x{size} (pad)",
                    dataclasses.replace(base, image_size=size),
                    "",
                )
        elif trick == "depth":
            if self.build is None or "depth" not in inspect.signature(self.build).parameters:
                yield from skip("needs a build function with a `depth` argument")
                return
            default = inspect.signature(self.build).parameters["depth"].default
            depth = (base.depth or (default if isinstance(default, int) else 1)) + 1
            yield f"depth {depth}", dataclasses.replace(base, depth=depth), ""
        elif trick == "transfer":
            if self.backbone is None:
                yield from skip("no `backbone` given")
                return
            yield f"transfer from {self.backbone}", dataclasses.replace(base, transfer=True), ""

    def _guarded_augment(self):
        augment = Augment(**DEFAULT_AUGMENT, value_range=self.facts.value_range, seed=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report_kept = augment.checked(self.train, num_images=min(1000, self.facts.num_train))
        kept = {
            name: getattr(report_kept, name)
            for name in DEFAULT_AUGMENT
            if getattr(report_kept, name) not in (0, 0.0, False, None)
        }
        removed = [name for name in DEFAULT_AUGMENT if name not in kept]
        return kept, removed

    def _threshold(self, accuracy):
        if self.min_delta != "auto":
            return float(self.min_delta)
        n = self.facts.num_validation
        return max(0.5 * math.sqrt(max(accuracy * (1 - accuracy), 1e-12) / n), 1.0 / n)

    # One step -----------------------------------------------------------------------------

    def _train_step(self, name, change, config, best=None, note=""):
        best_accuracy = None if best is None else best["accuracy"]
        best_version = None if best is None else best["version"]
        if self.budget.exhausted():
            self.steps.append(Step(name, change, note="budget spent"))
            self._announce(f"  {name}: skipped (budget spent)")
            return None
        index = len(self.steps)
        self._announce(f"[{index}] {name}: {change} ...")
        start = time.monotonic()
        keras.utils.set_random_seed(self.seed)
        transforms = self._transforms(config)
        train, validation = self._pipelines(config, transforms)
        model = self._model(config)
        max_epochs = config.epochs * (10 if config.progressive else 1)
        max_epochs = int(min(max_epochs, self.budget.epochs_left))
        run_logdir = os.path.join(self.logdir, f"{index:02d}-{name}")
        if best_version is not None:  # the trick's version derives from the best so far
            with History(self.directory) as history:
                history.rollback(best_version, load=False)
        checkpoint = CheckpointOnChange(
            self.directory,
            monitor="val_accuracy",
            hparams={"ladder_step": name, **config.hparams()},
            data_config=transforms,
        )
        callbacks = [
            checkpoint,
            _StopAtDeadline(self.budget.deadline),
            keras.callbacks.TensorBoard(run_logdir),
        ]
        if config.progressive:
            callbacks.insert(
                0,
                ProgressiveEpochs(
                    "val_accuracy",
                    initial_epochs=min(config.epochs, max_epochs),
                    extension=config.epochs,
                ),
            )
        if config.reduce_lr:
            callbacks.insert(
                0, ReduceLROnPlateau("val_loss", factor=0.5, patience=max(2, config.epochs // 5))
            )
        callbacks.append(
            AccuracyReport(
                run_logdir,
                hparams={"ladder_step": name, **config.hparams()},
                validation_data=validation,
                class_names=self.class_names,
                tricks=[checkpoint],
                change=change,
                order=index,
            )
        )  # last: it reads what the other callbacks logged
        if config.transfer:
            history = self._fine_tune(model, train, validation, max_epochs, callbacks)
        else:
            history = model.fit(
                train,
                validation_data=validation,
                epochs=max_epochs,
                callbacks=callbacks,
                shuffle=False,  # tf.data pipelines shuffle themselves
                verbose=2 if self.verbose >= 2 else 0,
            )
        epochs_run = len(history.epoch)
        self.budget.spend(epochs_run)
        best_epochs = epochs_run
        if config.progressive and history.history.get("val_accuracy"):
            best_epochs = int(np.argmax(history.history["val_accuracy"])) + 1
        if self.budget.exhausted():
            note = "; ".join(filter(None, [note, "cut short by the budget"]))
        accuracy = self._accuracy(model, validation)
        delta = None if best_accuracy is None else accuracy - best_accuracy
        step = Step(
            name,
            change,
            val_accuracy=accuracy,
            delta=delta,
            kept=best_accuracy is None,
            epochs=epochs_run,
            seconds=time.monotonic() - start,
            version=checkpoint.version_id,
            note=note,
        )
        self.steps.append(step)
        self._announce(
            f"    val_accuracy {accuracy:.4f}"
            + ("" if delta is None else f" ({delta:+.4f})")
            + f" in {epochs_run} epochs, {step.seconds:.1f}s"
        )
        return {
            "accuracy": accuracy,
            "model": self._deployable(model, transforms),
            "transforms": transforms,
            "best_epochs": best_epochs,
            "version": checkpoint.version_id,
        }

    def _refit(self, config, epochs):
        """Trains `config` on train + validation for `epochs`; returns the deployable model."""
        index = len(self.steps)
        change = f"refit on train + validation for {epochs} epochs"
        self._announce(f"[{index}] refit: {change} ...")
        start = time.monotonic()
        keras.utils.set_random_seed(self.seed)
        transforms = self._transforms(config)
        both = dataclasses.replace(config, progressive=False, reduce_lr=False)
        train, _ = self._pipelines(both, transforms, train=self.train.concatenate(self.validation))
        model = self._model(both)
        if config.transfer:
            self._fine_tune(model, train, None, epochs, [])
        else:
            model.fit(train, epochs=epochs, shuffle=False, verbose=2 if self.verbose >= 2 else 0)
        self.steps.append(
            Step(
                "refit", change, kept=True, epochs=epochs, seconds=time.monotonic() - start,
                note="no held-out data left: measure it on your test set",
            )
        )  # fmt: skip
        return self._deployable(model, transforms)

    def _transforms(self, config):
        transforms = []
        if config.image_size:
            transforms.append(
                Resize(
                    config.image_size,
                    config.image_size,
                    mode="pad",
                    value_range=self.facts.value_range,
                )
            )
        if config.color == "lab":
            transforms.append(ToLab(output_range="unit", value_range=self.facts.value_range))
        elif config.color == "hsv":
            transforms.append(ToHSV(value_range=self.facts.value_range))
        return transforms

    def _pipelines(self, config, transforms, train=None):
        """Train and validation pipelines; values end in the user's range, as the baseline's.

        Kit transforms output floats in [0, 1]; mapping them back to the data's own value
        range keeps the model's input scale, so a trick is judged on what it changes, not
        on a rescaling the model was never tuned for. `train` replaces the training data
        (the refit's train + validation).
        """
        train = self.train if train is None else train
        validation = self.validation
        for transform in transforms:
            train = train.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
            validation = validation.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
        if config.augment:
            augment = Augment(
                **config.augment,
                value_range=(0.0, 1.0) if transforms else self.facts.value_range,
                seed=self.seed,
            )
            train = train.apply(augment)
        low, high = self.facts.value_range
        rescale = lambda images, labels: (images * (high - low) + low, labels)  # noqa: E731
        if transforms or config.augment:
            train = train.map(rescale, num_parallel_calls=tf.data.AUTOTUNE)
        if transforms:
            validation = validation.map(rescale, num_parallel_calls=tf.data.AUTOTUNE)
        return train.prefetch(tf.data.AUTOTUNE), validation.prefetch(tf.data.AUTOTUNE)

    def _deployable(self, model, transforms):
        """`model` behind its input transforms: one model that takes the raw images."""
        if not transforms:
            return model
        low, high = self.facts.value_range
        inputs = keras.Input(self.facts.image_shape, name="images")
        x = inputs
        for transform in transforms:
            x = transform(x)
        x = keras.layers.Rescaling(high - low, offset=low, name="to_value_range")(x)
        return keras.Model(inputs, model(x), name=f"{model.name}_with_transforms")

    def _input_shape(self, config):
        height, width, channels = self.facts.image_shape
        if config.image_size:
            height = width = config.image_size
        return (height, width, channels)

    def _model(self, config):
        if config.transfer:
            from keras_accuracy_kit.transfer.classifier import classifier

            return classifier(
                self.backbone,
                num_classes=self.facts.num_classes,
                input_shape=self._input_shape(config),
                value_range=self.facts.value_range,
            )
        if self.build is not None:
            arguments = {"depth": config.depth} if config.depth else {}
            model = self.build(self._input_shape(config), self.facts.num_classes, **arguments)
            if not isinstance(model, keras.Model):
                raise ValueError(
                    f"{_OWNER}: the build function must return a keras.Model. Received: "
                    f"{type(model).__name__} from {getattr(self.build, '__name__', self.build)}."
                )
        else:
            model = keras.models.clone_model(self.model)
        source = self.model if self.model is not None else model
        if getattr(source, "compiled", False) and source.optimizer is not None:
            config = source.get_compile_config()
            metrics = config.get("metrics") or []
            metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
            if not any("accuracy" in str(metric) for metric in metrics):
                metrics.append("accuracy")  # the ladder compares `val_accuracy`
            model.compile_from_config({**config, "metrics": metrics})
        else:
            loss = (
                "sparse_categorical_crossentropy"
                if self.facts.sparse_labels
                else "categorical_crossentropy"
            )
            model.compile(keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
        return model

    def _fine_tune(self, model, train, validation, max_epochs, callbacks):
        from keras_accuracy_kit.transfer.fine_tune import fine_tune

        head_epochs = max(1, max_epochs // 2)
        return fine_tune(
            model,
            train,
            validation,
            head_epochs=head_epochs,
            epochs=max(max_epochs, head_epochs),
            loss="sparse_categorical_crossentropy"
            if self.facts.sparse_labels
            else "categorical_crossentropy",
            callbacks=callbacks,
            verbose=2 if self.verbose >= 2 else 0,
        )

    def _accuracy(self, model, validation):
        predictions = model.predict(validation, verbose=0).argmax(-1)
        return float((predictions == self.validation_labels).mean())

    def _announce(self, message):
        if self.verbose:
            announce(message, __name__)


_TRICK_LABELS = {
    "epochs": "more epochs",
    "learning_rate": "learning rate",
    "augment": "augmentation",
    "color": "colour space",
    "image_size": "image size",
    "depth": "more layers",
    "transfer": "transfer learning",
}


def _describe(augment):
    return ", ".join(f"{key}={value}" for key, value in augment.items())


def _check_tricks(tricks):
    if tricks == "auto":
        return list(TRICKS)
    if isinstance(tricks, str) or not all(trick in TRICKS for trick in tricks or ["?"]):
        raise ValueError(
            f"{_OWNER}: `tricks` must be 'auto' or a list of {list(TRICKS)}. Received: "
            f"tricks={tricks!r}."
        )
    return [trick for trick in TRICKS if trick in tricks]
