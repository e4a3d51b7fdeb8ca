"""LRFinder and find_lr: the learning-rate range test (fastai's `lr_find`) for Keras."""

import dataclasses
import math
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, distribution, late_bound


@dataclasses.dataclass
class LRFinderResult:
    """What a learning-rate range test measured and suggests.

    Attributes:
        learning_rates: List of floats. The rate used at each step.
        losses: List of floats. The training loss of each step's batch.
        smoothed_losses: List of floats. Bias-corrected exponential moving average of
            `losses`.
        suggestion_steepest: Float. Rate where the smoothed loss falls fastest (per unit
            of log learning rate), before its minimum. Like the valley, it is computed
            without the first tenth of the steps and the last five (as fastai does).
        suggestion_valley: Float. fastai's "valley": a rate about halfway into the
            longest run of falling loss (usually the more robust choice).
        diverged: Bool. Whether the test stopped early because the loss exploded.
        reliable: Bool. False when the suggestions rest on too few points (the loss
            diverged within the first `MIN_POINTS` steps, or was not finite from the
            start); a warning says why.
    """

    learning_rates: list
    losses: list
    smoothed_losses: list
    suggestion_steepest: float
    suggestion_valley: float
    diverged: bool
    reliable: bool = True

    @property
    def suggestion(self):
        """The recommended learning rate: `suggestion_valley`."""
        return self.suggestion_valley

    def plot(self, path=None):
        """The loss against the learning rate (log scale), the suggestions marked.

        In a notebook the returned `Figure` shows as an image; its `data` holds the
        numbers drawn. Drawn by `reporting/lr_finder_plot.py` (see `plot_lr_finder`).

        Args:
            path: Optional path. Also write the PNG there. Defaults to `None`.

        Returns:
            A `keras_accuracy_kit.reporting.Figure`.

        Example:

        ```python
        result = kit.find_lr(model, train)
        result.plot("lr_find.png")   # or just `result.plot()` as a notebook cell's last line
        ```
        """
        # Drawing is `reporting/`'s job, which sits above this package: it registers the
        # function when imported (as `import keras_accuracy_kit` does).
        return late_bound.call(
            "keras_accuracy_kit.reporting.lr_finder_plot.plot_lr_finder",
            "LRFinderResult.plot",
            self,
            path=path,
        )

    def __repr__(self):
        """One line: the suggestions and the range tested (`print(find_lr(...))`)."""
        if self.learning_rates:
            tested = (
                f"{len(self.learning_rates)} steps from {self.learning_rates[0]:.3g} to "
                f"{self.learning_rates[-1]:.3g}"
            )
        else:
            tested = "0 steps"
        return (
            f"LRFinderResult(suggestion={self.suggestion_valley:.3g} (valley), "
            f"steepest={self.suggestion_steepest:.3g}, {tested}, "
            f"diverged={self.diverged}, reliable={self.reliable})"
        )


def steepest_suggestion(learning_rates, smoothed_losses):
    """The rate where the smoothed loss falls fastest per unit of log rate, before its minimum.

    Example:

    >>> steepest_suggestion([1e-4, 1e-3, 1e-2, 1e-1], [2.0, 1.9, 1.0, 3.0])
    0.001
    """
    lrs = np.asarray(learning_rates, dtype=np.float64)
    losses = np.asarray(smoothed_losses, dtype=np.float64)
    end = int(np.argmin(losses)) + 1
    if end < 2:
        return float(lrs[0])
    slopes = np.diff(losses[:end]) / np.diff(np.log(lrs[:end]))
    return float(lrs[int(np.argmin(slopes))])


def valley_suggestion(learning_rates, smoothed_losses):
    """fastai's valley: about halfway into the longest decreasing run of the loss.

    The run is the longest decreasing subsequence of the losses; from its start `s` (one
    before its first point, as in fastai) to its end `e`, the index is
    `s + int((e - s) / 3) + int((e - s) / 6)`.

    Example:

    >>> valley_suggestion([1, 2, 3, 4, 5, 6, 7], [5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 9.0])
    3.0
    """
    losses = np.asarray(smoothed_losses, dtype=np.float64)
    num = len(losses)
    longest = [1] * num
    start, end = 0, 0
    for i in range(1, num):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[end] < longest[i]:
            end = i
            start = end - longest[end]
    sections = (end - start) / 3
    index = start + int(sections) + int(sections / 2)
    return float(learning_rates[min(max(index, 0), num - 1)])


#: Fewer recorded steps than this (when the test asked for more) make an unreliable suggestion.
MIN_POINTS = 10


class LRFinder(keras.callbacks.Callback):
    """Runs a learning-rate range test during `fit`, then puts the model back as it was.

    The rate grows exponentially from `min_lr` to `max_lr` over `num_steps` training
    steps; the loss of every batch is recorded and smoothed, and the test stops early when
    the smoothed loss exceeds `divergence_threshold` times its best (or is not finite).
    At the end it computes two suggestions (steepest descent and fastai's valley), writes
    the curve to TensorBoard when `logdir` is given (chief only), and -- with
    `restore=True` -- restores the weights, the optimizer's state and its learning rate
    (float or schedule), so that `fit` can follow directly. `find_lr` wraps it.

    Args:
        min_lr: Positive float. First rate. Defaults to `1e-7`.
        max_lr: Float larger than `min_lr`. Last rate. Defaults to `10.0`.
        num_steps: Int >= 2. Steps from `min_lr` to `max_lr`. Defaults to `100`.
        smoothing: Float in [0, 1). Weight of the past in the loss average. Defaults to
            `0.98`.
        divergence_threshold: Float > 1. Stop when smoothed loss > threshold * best.
            Defaults to `4.0`.
        restore: Bool. Restore the model at the end. Defaults to `True`.
        logdir: Optional path. TensorBoard log directory for the curve. Defaults to
            `None`.

    Example:

    ```python
    finder = kit.callbacks.LRFinder(num_steps=100)
    model.fit(train.repeat(), epochs=1, steps_per_epoch=100, callbacks=[finder])
    model.optimizer.learning_rate = finder.result.suggestion
    ```
    """

    def __init__(
        self,
        min_lr=1e-7,
        max_lr=10.0,
        num_steps=100,
        smoothing=0.98,
        divergence_threshold=4.0,
        restore=True,
        logdir=None,
    ):
        super().__init__()
        _check_range_test_arguments(min_lr, max_lr, num_steps, smoothing, divergence_threshold)
        self.min_lr = float(min_lr)
        self.max_lr = float(max_lr)
        self.num_steps = int(num_steps)
        self.smoothing = float(smoothing)
        self.divergence_threshold = float(divergence_threshold)
        self.restore = checks.check_bool("LRFinder", "restore", restore)
        self.logdir = checks.check_path(
            "LRFinder", "logdir", logdir, "E.g. logdir='runs/lr'.", allow_none=True
        )
        if self.logdir is not None:
            checks.ensure_writable_directory("LRFinder", "logdir", self.logdir)
        self.result = None

    def learning_rate_at(self, step):
        """The rate of `step` (0-based): exponential from `min_lr` to `max_lr`."""
        fraction = step / (self.num_steps - 1)
        return self.min_lr * (self.max_lr / self.min_lr) ** fraction

    # -- fit hooks ---------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if optimizer is None:
            raise ValueError(
                "LRFinder: the model must be compiled with an optimizer. Received: "
                "model.optimizer=None. Call `model.compile(optimizer=..., loss=...)` first."
            )
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self._saved_weights = self.model.get_weights()
        self._saved_optimizer = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        self._saved_learning_rate = optimizer._learning_rate
        self._saved_learning_rate_value = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        source = optimizer._learning_rate
        if isinstance(source, keras.optimizers.schedules.LearningRateSchedule) or (
            callable(source) and not isinstance(source, keras.Variable)
        ):
            # A schedule or a callable cannot be overwritten by a float: drive the rate
            # through a variable-backed callable for the test, and trace the step again.
            with self.model.distribute_strategy.scope():
                self._rate = keras.Variable(self.min_lr, dtype="float32", trainable=False)
            rate = self._rate
            optimizer.learning_rate = lambda: rate
            self.model.make_train_function(force=True)
        else:
            self._rate = None
        self._step = 0
        self._running_mean = 0.0
        self._batches_in_epoch = 0
        self._average = 0.0
        self._best = math.inf
        self._diverged = False
        self._lrs, self._losses, self._smoothed = [], [], []

    def _set_rate(self, value):
        if self._rate is not None:
            self._rate.assign(value)
        else:
            self.model.optimizer.learning_rate = value

    def on_epoch_begin(self, epoch, logs=None):
        self._running_mean = 0.0
        self._batches_in_epoch = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._set_rate(self.learning_rate_at(min(self._step, self.num_steps - 1)))

    def on_train_batch_end(self, batch, logs=None):
        # Keras logs the running mean of the loss since the epoch began; recover the
        # loss of this batch from two consecutive means.
        mean = float(keras.ops.convert_to_numpy((logs or {})["loss"]))
        count = self._batches_in_epoch + 1
        loss = count * mean - (count - 1) * self._running_mean
        self._running_mean, self._batches_in_epoch = mean, count

        self._lrs.append(self.learning_rate_at(min(self._step, self.num_steps - 1)))
        self._losses.append(loss)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing ** (self._step + 1))
        self._smoothed.append(smoothed)
        self._step += 1
        if not math.isfinite(smoothed) or smoothed > self.divergence_threshold * self._best:
            self._diverged = True
            self.model.stop_training = True
        self._best = min(self._best, smoothed)
        if self._step >= self.num_steps:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._lrs:
            # As fastai: the first tenth is noise of a young average, the last few steps
            # are the blow-up; suggest from what lies between.
            num = len(self._smoothed)
            start, end = (num // 10, num - 5) if num > 20 else (0, num)
            lrs, smoothed = self._lrs[start:end], self._smoothed[start:end]
            self.result = LRFinderResult(
                learning_rates=list(self._lrs),
                losses=list(self._losses),
                smoothed_losses=list(self._smoothed),
                suggestion_steepest=steepest_suggestion(lrs, smoothed),
                suggestion_valley=valley_suggestion(lrs, smoothed),
                diverged=self._diverged,
                reliable=self._check_reliable(),
            )
            self._write_tensorboard()
        else:
            warnings.warn(
                "LRFinder: no training step ran, so there is no result. Received: a dataset "
                "that yielded no batch. Check the pipeline (a `filter` that drops everything, "
                "`take(0)`, a `batch` with drop_remainder larger than the data).",
                stacklevel=2,
            )
        if self.restore:
            self._restore_model()

    def _check_reliable(self):
        """Whether enough steps ran for a suggestion; warns (saying why) when not."""
        num = len(self._smoothed)
        if math.isfinite(self._losses[0]) and num >= min(MIN_POINTS, self.num_steps):
            return True
        if not math.isfinite(self._losses[0]):
            why = (
                f"the loss was not finite from the first step (loss={self._losses[0]}): the "
                "model or the data are broken (NaN inputs, labels out of range, a loss that "
                "does not match the outputs?); no learning rate can fix that"
            )
        else:
            why = (
                f"the loss diverged after {num} of {self.num_steps} steps, at learning rate "
                f"{self._lrs[-1]:.3g}: {num} point(s) are too few for a suggestion. Start "
                f"lower, e.g. min_lr={self.min_lr / 100:.3g}, or check the model and data"
            )
        warnings.warn(
            f"LRFinder: the suggestion ({valley_suggestion(self._lrs, self._smoothed):.3g}) is "
            f"unreliable: {why}. `result.reliable` is False.",
            stacklevel=2,
        )
        return False

    def _restore_model(self):
        optimizer = self.model.optimizer
        self.model.set_weights(self._saved_weights)
        for variable, value in zip(optimizer.variables, self._saved_optimizer):
            variable.assign(value)
        if self._rate is not None:
            optimizer.learning_rate = self._saved_learning_rate
            self.model.make_train_function(force=True)
        else:
            optimizer.learning_rate = self._saved_learning_rate_value

    def _write_tensorboard(self):
        strategy = getattr(self.model, "distribute_strategy", None)
        if self.logdir is None or not distribution.is_chief(strategy):
            return
        writer = tf.summary.create_file_writer(os.path.join(self.logdir, "lr_find"))
        result = self.result
        with writer.as_default():
            for step, (lr, loss, smoothed) in enumerate(
                zip(result.learning_rates, result.losses, result.smoothed_losses)
            ):
                tf.summary.scalar("lr_find/learning_rate", lr, step=step)
                tf.summary.scalar("lr_find/loss", loss, step=step)
                tf.summary.scalar(
                    "lr_find/smoothed_loss",
                    smoothed,
                    step=step,
                    description="Smoothed loss against the step of the range test; the "
                    "rate of each step is in lr_find/learning_rate (log-linear).",
                )
            tf.summary.text(
                "lr_find/suggestion",
                f"valley: {result.suggestion_valley:.3g}, "
                f"steepest: {result.suggestion_steepest:.3g}, diverged: {result.diverged}",
                step=0,
            )
        writer.close()


def find_lr(
    model,
    dataset,
    min_lr=1e-7,
    max_lr=10.0,
    num_steps=100,
    smoothing=0.98,
    divergence_threshold=4.0,
    logdir=None,
    verbose=0,
):
    """Runs a learning-rate range test on a compiled model and returns the curve and suggestions.

    The model's weights, optimizer state and learning rate are restored afterwards, so
    `model.fit` can follow directly, e.g. with `result.suggestion` as the rate.

    Args:
        model: A compiled Keras model.
        dataset: A `tf.data.Dataset` of `(inputs, targets)` batches (repeated as needed).
        min_lr: Positive float. First rate. Defaults to `1e-7`.
        max_lr: Float larger than `min_lr`. Last rate. Defaults to `10.0`.
        num_steps: Int >= 2. Number of steps. Defaults to `100`.
        smoothing: Float in [0, 1). Defaults to `0.98`.
        divergence_threshold: Float > 1. Defaults to `4.0`.
        logdir: Optional path. Writes the curve to TensorBoard. Defaults to `None`.
        verbose: Int. `fit` verbosity (a progress bar with 1). Defaults to `0`.

    Returns:
        An `LRFinderResult`.

    Example:

    ```python
    result = kit.callbacks.find_lr(model, train, num_steps=100, logdir="runs/lr")
    model.optimizer.learning_rate = result.suggestion
    model.fit(train, epochs=10)
    ```
    """
    _check_find_lr_inputs(model, dataset)
    finder = LRFinder(
        min_lr=min_lr,
        max_lr=max_lr,
        num_steps=num_steps,
        smoothing=smoothing,
        divergence_threshold=divergence_threshold,
        logdir=logdir,
    )
    try:
        with warnings.catch_warnings():
            # An empty dataset is reported below, as an error of find_lr.
            warnings.filterwarnings("ignore", message="LRFinder: no training step ran")
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(
                dataset.repeat(),
                epochs=1,
                steps_per_epoch=finder.num_steps,
                callbacks=[finder],
                verbose=verbose,
                shuffle=False,
            )
    finally:
        # `fit` skips on_train_end when it raises (or is interrupted): restore anyway.
        if finder.result is None and hasattr(finder, "_saved_weights"):
            finder._restore_model()
    if finder.result is None:
        raise ValueError(
            "find_lr: `dataset` must yield at least one batch. Received: a dataset that "
            "yielded none when it ran (its size was unknown before: a `filter` that drops "
            "everything?). Check the pipeline, e.g. `next(iter(dataset))`."
        )
    return finder.result


def _check_find_lr_inputs(model, dataset):
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(
            "find_lr: `dataset` must be a tf.data.Dataset of (inputs, targets) batches. "
            f"Received: dataset={type(dataset).__name__}. Wrap arrays with "
            "`tf.data.Dataset.from_tensor_slices((x, y)).batch(32)`."
        )
    if dataset.cardinality() == 0:
        raise ValueError(
            "find_lr: `dataset` must not be empty. Received: a dataset with 0 batches. "
            "Check the pipeline (filters, `take`, a `batch` with drop_remainder)."
        )
    if getattr(model, "optimizer", None) is None:
        raise ValueError(
            "find_lr: `model` must be compiled. Received: model.optimizer=None. Call "
            "`model.compile(optimizer=..., loss=...)` first."
        )


def _check_range_test_arguments(min_lr, max_lr, num_steps, smoothing, divergence_threshold):
    owner = "LRFinder"
    checks.check_number(
        owner, "min_lr", min_lr, low=0, open_low=True,
        expectation="a positive finite number", fix="Start the range low, e.g. min_lr=1e-7.",
    )  # fmt: skip
    checks.check_number(
        owner, "max_lr", max_lr, low=min_lr, open_low=True,
        expectation=f"a finite number larger than min_lr={min_lr!r}", fix="E.g. max_lr=10.",
    )  # fmt: skip
    checks.check_int(owner, "num_steps", num_steps, minimum=2, example=100)
    checks.check_number(
        owner, "smoothing", smoothing, low=0, high=1, open_high=True,
        expectation="in [0, 1)", fix="0.98 is usual; 0 disables smoothing.",
    )  # fmt: skip
    checks.check_number(
        owner, "divergence_threshold", divergence_threshold, low=1, open_low=True,
        expectation="a finite number > 1", fix="4 is usual.",
    )  # fmt: skip
