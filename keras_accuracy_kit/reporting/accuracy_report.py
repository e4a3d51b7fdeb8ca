"""AccuracyReport: one TensorBoard run per training run, with what the "Accuracy Kit" tab shows."""

import json
import logging
import numbers
import os
import time

import keras
import numpy as np
import tensorflow as tf
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import api as hparams_api

from keras_accuracy_kit._core import checks, distribution
from keras_accuracy_kit._core import monitor as monitor_lib
from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.history.history import History
from keras_accuracy_kit.reporting import evaluation, rendering
from keras_accuracy_kit.reporting import summary_schema as schema
from keras_accuracy_kit.reporting.image_grid import write_image_grid
from keras_accuracy_kit.reporting.trick_settings import hparam_value, trick_settings

logger = logging.getLogger(__name__)

OWNER = "AccuracyReport"
#: Tag prefixes of what the report writes besides the plugin's own summary.
EPOCH_PREFIX = "epoch/"
CONFUSION_MATRIX_TAG = "report/confusion_matrix"
WORST_GRID_TAG = "report/worst_predictions"
PER_CLASS_PREFIX = "report/per_class_accuracy/"


class AccuracyReport(keras.callbacks.Callback):
    """Writes one run's TensorBoard report: HParams, epoch scalars, and what it got wrong.

    TensorBoard's HParams tab knows neither which trick a run tried nor the order you tried
    them in. This callback writes, into `logdir` (one directory per run: point TensorBoard
    at their parent), everything the kit's "Accuracy Kit" tab needs to lay the runs out as
    a ladder of tricks, plus the standard tabs' views:

    - HParams: the tricks on (`tricks=`) with the settings that differ from their
      defaults, the optimizer and its learning rate, and your `hparams`;
    - every epoch: every numeric value of the epoch logs as `epoch/<key>` (so
      `epoch/val_accuracy`, `epoch/epoch_budget` from `ProgressiveEpochs`, ...) and the
      learning rate as `epoch/learning_rate`;
    - at train end, on `validation_data`: a confusion-matrix image, a grid of the worst
      predicted images captioned with their true and predicted class, per-class
      accuracy scalars, and the plugin's JSON summary (label, order, best value, what
      changed versus the parent `CheckpointOnChange` version and the delta to it);
    - after it, when you call `record_decision(...)`: whether the run was kept, its gain
      over the best so far with the interval, and the rule (the tab's kept mark and
      deltas; `kit.improve` records its own).

    Keras 3 callbacks do not see the validation data, so pass it here. Place the report
    last in `callbacks=` so that it sees what the other callbacks put into the logs.
    Callbacks cannot see each other either: pass the kit objects whose settings you want
    recorded as `tricks=` (transforms, callbacks, and a `CheckpointOnChange`, whose
    `data_config` and `hparams` are read, and whose version tells what changed).

    To lay out a ladder of runs (a baseline, then one trick at a time), give each run its
    own `logdir` under one parent, a `change=` label and an `order=`; the tab sorts runs by
    `order` (then by start time); a run is kept when it beats the best kept run before it
    in the direction of `mode` (unless `record_decision` says otherwise), and its delta is
    taken against that best so far. Several `fit` calls before `on_train_end` (a
    fine-tuning recipe's phases) make one run. Under `tf.distribute` every worker
    evaluates, only the chief writes.

    Args:
        logdir: Path. The run's directory, e.g. `"runs/ladder/02-augment"`.
        hparams: Optional dict. Your own hyperparameters (batch size, ...), written as
            HParams. Defaults to `None`.
        validation_data: Optional `tf.data.Dataset` of `(images, labels)` batches, or a
            tuple `(images, labels)` of arrays. Labels sparse or one-hot. Without it the
            end-of-training views are skipped. Defaults to `None`.
        class_names: Optional list of strings, one per class. Defaults to `None`
            (`"0"`, `"1"`, ...).
        tricks: Optional list of the kit objects the run uses (see above). Defaults to
            `None`.
        change: Optional string. What this run changed, as the ladder shows it, e.g.
            `"augment: rotation_range=10"`. Defaults to `None`: the changes
            `CheckpointOnChange` recorded versus the parent version, else the run's
            directory name.
        order: Optional int. The run's rung on the ladder (0 = baseline). Defaults to
            `None`: runs are ordered by start time.
        monitor: String. The log key whose best value the ladder compares. Defaults to
            `"val_accuracy"`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        num_worst: Non-negative int. Number of worst-predicted images. Defaults to `16`.
        batch_size: Positive int. Batch size to predict arrays `validation_data` with.
            Defaults to `256`.

    Example:

    ```python
    augment = kit.augment(rotation_range=10, seed=0)
    report = kit.callbacks.AccuracyReport(
        "runs/ladder/01-augment", validation_data=(x_val, y_val), class_names=names,
        tricks=[augment], change="augment: rotation_range=10", order=1)
    model.fit(train.map(augment), validation_data=(x_val, y_val), epochs=20,
              callbacks=[report])
    # tensorboard --logdir runs/ladder   -> the "Accuracy Kit" tab
    ```
    """

    def __init__(
        self,
        logdir,
        hparams=None,
        validation_data=None,
        class_names=None,
        tricks=None,
        change=None,
        order=None,
        monitor="val_accuracy",
        mode="auto",
        num_worst=16,
        batch_size=256,
    ):
        super().__init__()
        path = checks.check_path(OWNER, "logdir", logdir, "E.g. logdir='runs/ladder/01-augment'.")
        _check_run_description(tricks, hparams, change, order)
        class_names = _check_class_names(class_names)
        _check_validation_data(validation_data)
        checks.check_int(OWNER, "num_worst", num_worst, minimum=0, example=16)
        self.logdir = os.path.abspath(path)
        self.hparams = dict(hparams or {})
        self.validation_data = validation_data
        self.class_names = class_names
        self.tricks = list(tricks or [])
        self.change = change
        self.order = None if order is None else int(order)
        self._tracked = monitor_lib.MonitoredBest(OWNER, monitor, mode)
        self.monitor = self._tracked.monitor
        self.mode = self._tracked.requested_mode
        self.num_worst = int(num_worst)
        self.batch_size = checks.check_positive_int(OWNER, "batch_size", batch_size)
        self.settings, self.trick_names = trick_settings(self.tricks)
        self._writer = None
        self._start_time = None
        self._end_time = None
        self._epochs = 0
        self._best_epoch = None
        self._training = False  # between the first on_train_begin and on_train_end
        self._result = None
        self._summary_step = None  # the step of the summary written, once training ended
        self.decision = None
        if distribution.is_chief():
            checks.ensure_writable_directory(OWNER, "logdir", self.logdir)

    @property
    def _best(self):
        """The `BestValue` of this run so far (None before its first epoch)."""
        return self._tracked.best if self._epochs else None

    def get_config(self):
        return {
            "logdir": self.logdir,
            "hparams": self.hparams,
            "class_names": self.class_names,
            "change": self.change,
            "order": self.order,
            "monitor": self.monitor,
            "mode": self.mode,
            "num_worst": self.num_worst,
            "batch_size": self.batch_size,
        }

    # -- fit hooks ---------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self._training:  # another phase of the same run (fine-tuning): one run, one writer
            return
        self._training = True
        self._start_time = time.time()
        self._end_time = None
        self._summary_step = None
        self._epochs = 0
        self._tracked.on_train_begin(self.model)
        self._best_epoch = None
        self._check_class_names()
        strategy = getattr(self.model, "distribute_strategy", None)
        self._writer = None
        if distribution.is_chief(strategy):
            self._writer = tf.summary.create_file_writer(self.logdir)
            with self._writer.as_default():
                hparams_api.hparams(self.run_hparams(), start_time_secs=int(self._start_time))
            self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._tracked.update(self._tracked.read(logs)):
            self._best_epoch = epoch
        self._epochs += 1
        if self._writer is None:
            return
        scalars = {key: _as_float(val) for key, val in logs.items()}
        if scalars.get("learning_rate") is None:
            scalars["learning_rate"] = self._learning_rate()
        with self._writer.as_default():
            for key, val in sorted(scalars.items()):
                if val is not None:
                    tf.summary.scalar(EPOCH_PREFIX + key, val, step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._training = False
        self._end_time = time.time()
        result = self._evaluate() if self.validation_data is not None else None
        self._result = result
        if self._writer is None:
            return
        step = max(self._epochs - 1, 0)
        with self._writer.as_default():
            if result is not None:
                self._write_evaluation(result, step)
            self._write_summary(step)
        self._writer.flush()
        self._writer.close()
        self._writer = None

    def record_decision(self, kept, value=None, gain=None, low=None, high=None, rule="", note=""):
        """Records whether this run was kept, and why; the tab shows it as the run's mark.

        Without it the tab decides by itself (kept when the run beats the best kept run
        before it). A ladder that judges runs on more than the best value (`kit.improve`:
        a paired test on the same images) records its decision here, so that the tab
        shows the numbers of its own table. Before `on_train_end` the decision goes into
        the summary written then; after it, the summary is written again with it (the
        tab reads the latest).

        Args:
            kept: True, False, or None (not decided yet: the tab shows it as pending).
            value: Optional float. The value the decision compared (e.g. the accuracy
                on the judged images); the tab shows it in place of `best`.
            gain: Optional float. `value` minus the best so far's.
            low: Optional float. Lower end of the gain's 95 % interval.
            high: Optional float. Upper end of the gain's 95 % interval.
            rule: String. The rule and its evidence, e.g. `"McNemar p=0.090 (keep at
                <= 0.10)"`.
            note: String. Why it was skipped, cut or changed.

        Example:

        ```python
        report.record_decision(True, value=0.93, gain=0.02, low=0.004, high=0.036,
                               rule="McNemar p=0.031 (keep at <= 0.10)")
        ```
        """
        if kept is not None and not isinstance(kept, bool):
            raise TypeError(
                f"{OWNER}: `kept` must be True, False or None (pending). Received: "
                f"kept={kept!r}. Pass bool(...) of your decision."
            )
        given = {"value": value, "gain": gain, "low": low, "high": high}
        for name, number in given.items():
            if number is not None and (
                isinstance(number, bool) or not isinstance(number, numbers.Real)
            ):
                raise TypeError(
                    f"{OWNER}: `{name}` must be a number or None. Received: "
                    f"{name}={number!r}."
                )
        for name, text in (("rule", rule), ("note", note)):
            if not isinstance(text, str):
                raise TypeError(
                    f"{OWNER}: `{name}` must be a string. Received: {name}={text!r}."
                )
        self.decision = {
            schema.KEY_KEPT: kept,
            **{
                key: _as_float(given[name])
                for key, name in (
                    (schema.KEY_VALUE, "value"),
                    (schema.KEY_GAIN, "gain"),
                    (schema.KEY_LOW, "low"),
                    (schema.KEY_HIGH, "high"),
                )
            },
            schema.KEY_RULE: rule,
            schema.KEY_NOTE: note,
        }
        if self._summary_step is not None:  # written already: again, one step later
            writer = tf.summary.create_file_writer(self.logdir)
            with writer.as_default():
                self._write_summary(self._summary_step + 1)
            writer.flush()
            writer.close()

    def _write_summary(self, step):
        tf.summary.write(
            schema.SUMMARY_TAG,
            tf.constant(json.dumps(self.summary(self._result), sort_keys=True)),
            step=step,
            metadata=_plugin_metadata(summary_pb2.DATA_CLASS_TENSOR),
        )
        self._summary_step = step

    # -- what is written ---------------------------------------------------------------

    def run_hparams(self):
        """The run's HParams: your `hparams`, the tricks' settings, optimizer, label, order."""
        values = {"tricks": ",".join(self.trick_names) or "none"}
        optimizer = getattr(self.model, "optimizer", None) if self.model is not None else None
        if optimizer is not None:
            values["optimizer"] = type(optimizer).__name__
            learning_rate = getattr(optimizer, "_learning_rate", None)
            if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
                values["learning_rate_schedule"] = type(learning_rate).__name__
            rate = self._learning_rate()
            if rate is not None:
                values["learning_rate"] = rate
        values.update(self.settings)
        values.update({str(k): hparam_value(v) for k, v in self.hparams.items()})
        if self.change is not None:
            values["change"] = self.change
        if self.order is not None:
            values["order"] = self.order
        return values

    def summary(self, result=None):
        """The plugin's JSON summary of this run (keys in `summary_schema`)."""
        version = self._version_facts()
        best = None if self._best is None or not np.isfinite(self._best.value) else self._best.value
        parent_best = version.get("parent_best")
        change = self.change
        if change is None:
            changes = version.get("changes") or []
            change = "; ".join(changes[:3]) + (
                f" (+{len(changes) - 3} more)" if len(changes) > 3 else ""
            )
            change = change or os.path.basename(self.logdir)
        summary = {
            schema.KEY_SCHEMA_VERSION: schema.SCHEMA_VERSION,
            schema.KEY_CHANGE: change,
            schema.KEY_ORDER: self.order,
            schema.KEY_START_TIME: self._start_time,
            schema.KEY_WALL_TIME: (
                None
                if self._start_time is None
                else (self._end_time or time.time()) - self._start_time
            ),
            schema.KEY_MONITOR: self.monitor,
            schema.KEY_MODE: None if self._best is None else self._best.mode,
            schema.KEY_BEST: best,
            schema.KEY_BEST_EPOCH: self._best_epoch,
            schema.KEY_EPOCHS: self._epochs,
            schema.KEY_VERSION: version.get("id"),
            schema.KEY_PARENT_VERSION: version.get("parent"),
            schema.KEY_CHANGES: version.get("changes") or [],
            schema.KEY_DELTA_VS_PARENT: (
                None if best is None or parent_best is None else best - parent_best
            ),
            schema.KEY_CLASS_NAMES: None,
            schema.KEY_CONFUSION_MATRIX: None,
            schema.KEY_PER_CLASS_ACCURACY: None,
            schema.KEY_WORST: [],
            schema.KEY_HPARAMS: self.run_hparams(),
            schema.KEY_DECISION: None if self.decision is None else dict(self.decision),
        }
        if result is not None:
            summary[schema.KEY_CLASS_NAMES] = self._names(result.confusion_matrix.shape[0])
            summary[schema.KEY_CONFUSION_MATRIX] = result.confusion_matrix.tolist()
            summary[schema.KEY_PER_CLASS_ACCURACY] = [
                None if np.isnan(v) else float(v) for v in result.per_class_accuracy
            ]
            summary[schema.KEY_WORST] = [
                {
                    schema.KEY_TRUE: item.true,
                    schema.KEY_PREDICTED: item.predicted,
                    schema.KEY_TRUE_PROBABILITY: item.true_probability,
                    schema.KEY_PREDICTED_PROBABILITY: item.predicted_probability,
                }
                for item in result.worst
            ]
        return summary

    # -- helpers -----------------------------------------------------------------------

    def _names(self, num_classes):
        return self.class_names or [str(i) for i in range(num_classes)]

    def _num_outputs(self):
        shape = getattr(self.model, "output_shape", None)
        if isinstance(shape, tuple) and shape and isinstance(shape[-1], int):
            return max(shape[-1], 2)
        return None

    def _check_class_names(self):
        num_outputs = self._num_outputs()
        if self.class_names is not None and num_outputs is not None:
            if len(self.class_names) != num_outputs:
                raise ValueError(
                    f"{OWNER}: `class_names` must hold one name per class of the model "
                    f"({num_outputs}). Received: class_names={self.class_names!r} "
                    f"({len(self.class_names)} names). Pass one name per output unit."
                )

    def _learning_rate(self):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            return None
        return _as_float(optimizer.learning_rate)

    def _checkpoint(self):
        for trick in self.tricks:
            if isinstance(trick, CheckpointOnChange):
                return trick
        return None

    def _version_facts(self):
        """Id, parent, changes and the parent's best of the CheckpointOnChange version."""
        checkpoint = self._checkpoint()
        if checkpoint is None or checkpoint.version_id is None:
            return {}
        history = History(checkpoint.directory)
        try:
            versions = {version.id: version for version in history.versions()}
        finally:
            history.close()
        version = versions.get(checkpoint.version_id)
        if version is None:
            return {}
        parent = versions.get(version.parent)
        return {
            "id": version.id,
            "parent": version.parent,
            "changes": version.changes,
            "parent_best": None if parent is None else parent.best,
        }

    def _batches(self):
        """`(images, labels, outputs)` NumPy batches of the validation data."""
        data = self.validation_data
        predict = self._predict_function()
        if isinstance(data, tf.data.Dataset):
            for element in data:
                images, labels = element[0], element[1]
                yield np.asarray(images), np.asarray(labels), predict(images)
            return
        images, labels = np.asarray(data[0]), np.asarray(data[1])
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            yield batch, labels[start : start + self.batch_size], predict(batch)

    def _predict_function(self):
        """One batch in, the model's outputs (NumPy) out, under any `tf.distribute` strategy.

        Not `model.predict_on_batch`: under `MirroredStrategy` Keras runs it on every
        replica with the whole batch and concatenates the results (2 replicas: twice as
        many outputs as images). The model is called directly, in one traced function,
        as `predict_step` does (`training=False`); that reads the mirrored variables in
        any strategy.
        """
        model = self.model
        step = tf.function(lambda images: model(images, training=False), reduce_retracing=True)

        def predict(images):
            outputs = step(images)
            return np.asarray(keras.tree.map_structure(keras.ops.convert_to_numpy, outputs))

        return predict

    def _evaluate(self):
        num_classes = self._num_outputs() or (len(self.class_names) if self.class_names else None)
        if num_classes is None:
            logger.warning("AccuracyReport: cannot tell the number of classes; no evaluation.")
            return None
        return evaluation.evaluate_batches(self._batches(), num_classes, self.num_worst)

    def _write_evaluation(self, result, step):
        names = self._names(result.confusion_matrix.shape[0])
        if len(names) <= rendering.MAX_MATRIX_CLASSES:
            tf.summary.image(
                CONFUSION_MATRIX_TAG,
                rendering.confusion_matrix_image(result.confusion_matrix, names),
                step=step,
                description="Rows: true class; columns: predicted class.",
            )
        grid = rendering.worst_predictions_grid(result.worst, names)
        if grid is not None:
            write_image_grid(
                self.logdir,
                WORST_GRID_TAG,
                grid,
                step=step,
                description="Lowest probability of the true class first.",
                png=False,
                writer=self._writer,
            )
            tf.summary.write(
                schema.WORST_IMAGES_TAG,
                tf.constant([rendering.encode_png(item.image) for item in result.worst]),
                step=step,
                metadata=_plugin_metadata(summary_pb2.DATA_CLASS_BLOB_SEQUENCE),
            )
        for name, accuracy in zip(names, result.per_class_accuracy):
            if not np.isnan(accuracy):
                tf.summary.scalar(PER_CLASS_PREFIX + name, float(accuracy), step=step)


def _check_run_description(tricks, hparams, change, order):
    """Raises unless `tricks`, `hparams`, `change` and `order` (checked in this order) fit."""
    if tricks is not None and not isinstance(tricks, (list, tuple)):
        raise TypeError(
            f"{OWNER}: `tricks` must be a list of the kit objects the run uses, or None. "
            f"Received: tricks={tricks!r}. E.g. tricks=[augment, reduce_lr]."
        )
    if hparams is not None and not isinstance(hparams, dict):
        raise ValueError(
            f"{OWNER}: `hparams` must be a dict. Received: hparams={hparams!r}. "
            "E.g. hparams={'batch_size': 32}."
        )
    if change is not None and not isinstance(change, str):
        raise ValueError(
            f"{OWNER}: `change` must be a string. Received: change={change!r}. "
            "E.g. change='augment: rotation_range=10'."
        )
    if order is not None and (isinstance(order, bool) or not isinstance(order, numbers.Integral)):
        raise ValueError(
            f"{OWNER}: `order` must be an int (the run's rung, 0 for the baseline) or "
            f"None. Received: order={order!r}."
        )


def _check_class_names(class_names):
    """`class_names` as a list (None stays None); raises unless a list of strings."""
    if class_names is None:
        return None
    if not isinstance(class_names, (list, tuple)) or not all(
        isinstance(name, str) for name in class_names
    ):
        raise ValueError(
            f"{OWNER}: `class_names` must be a list of strings, one per class. "
            f"Received: class_names={class_names!r}."
        )
    return list(class_names)


def _check_validation_data(validation_data):
    """Raises unless `validation_data` is None, a dataset or a tuple of 2-3 equal-length arrays."""
    if validation_data is not None and not (
        isinstance(validation_data, tf.data.Dataset)
        or isinstance(validation_data, tuple)
        and len(validation_data) in (2, 3)
    ):
        raise ValueError(
            f"{OWNER}: `validation_data` must be a tf.data.Dataset of (images, labels) "
            "batches or a tuple (images, labels). Received: "
            f"validation_data={type(validation_data).__name__}. Pass the same data as "
            "to `fit(validation_data=...)`."
        )
    if isinstance(validation_data, tuple):
        try:
            lengths = [len(part) for part in validation_data]
        except TypeError:
            lengths = None
        if lengths is None or len(set(lengths)) != 1 or not lengths[0]:
            raise ValueError(
                f"{OWNER}: `validation_data` must be a tuple (images, labels) of arrays "
                "with the same, non-zero number of items. Received: validation_data="
                f"tuple of {[type(part).__name__ for part in validation_data]} with "
                f"lengths {lengths}. Pass the same data as to `fit(validation_data=...)`."
            )


def _plugin_metadata(data_class):
    metadata = summary_pb2.SummaryMetadata(data_class=data_class)
    metadata.plugin_data.plugin_name = schema.PLUGIN_NAME
    metadata.plugin_data.content = json.dumps(
        {schema.KEY_SCHEMA_VERSION: schema.SCHEMA_VERSION}
    ).encode("utf-8")
    return metadata.SerializeToString()


def _as_float(value):
    """The value as a float, or None when it is not a number (a string, a schedule)."""
    try:
        value = float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None
