"""The kit's keras-tuner tuners: one named class per search strategy, the kit's trial hooks
mixed in (seeds, ProgressiveEpochs, CheckpointOnChange, HParams once, pruned checkpoints)."""

import copy
import glob
import logging
import os
import time

import keras

from keras_accuracy_kit._core.announce import announce
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.search.hparams_logger import HParamsLogger
from keras_accuracy_kit.search.requirements import import_keras_tuner
from keras_accuracy_kit.search.result import active_values, format_values, trial_record

keras_tuner = import_keras_tuner()

logger = logging.getLogger("keras_accuracy_kit.search")

_ENDED = ("COMPLETED", "INVALID", "FAILED")
# The hooks a callback receives from `fit`; `_TrialTensorBoard` hands each on.
_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class _TrialTensorBoard(keras.callbacks.Callback):
    """A copy of a `keras.callbacks.TensorBoard` writing to a trial's own directory.

    keras-tuner gives each `TensorBoard` callback it finds a per-trial directory and adds
    its own HParams callback, which records inactive values too and once per TensorBoard
    callback. Wrapped, the copy is not a `TensorBoard` to keras-tuner: the kit sets the
    directory (keras-tuner's layout, `<log_dir>/<trial_id>/execution0`) and logs the
    HParams once per directory with `HParamsLogger`, through public hooks only.
    """

    def __init__(self, tensorboard, log_dir):
        super().__init__()
        self.tensorboard = copy.deepcopy(tensorboard)
        self.tensorboard.log_dir = log_dir

    def set_params(self, params):
        super().set_params(params)
        self.tensorboard.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        self.tensorboard.set_model(model)


def _forward(name):
    def hook(self, *args, **kwargs):
        return getattr(self.tensorboard, name)(*args, **kwargs)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(_TrialTensorBoard, _name, _forward(_name))


def _per_trial_tensorboards(callbacks, trial_id):
    """`callbacks` with each TensorBoard moved to the trial's directory, plus one
    `HParamsLogger` per directory (the trial's active values)."""
    result, logdirs = [], []
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.TensorBoard):
            log_dir = os.path.join(str(callback.log_dir), str(trial_id), "execution0")
            callback = _TrialTensorBoard(callback, log_dir)
            if log_dir not in logdirs:
                logdirs.append(log_dir)
        result.append(callback)
    return result, logdirs


class KitTunerMixin:
    """What `tune` adds to a keras-tuner tuner; mixed into each strategy's tuner class.

    Per trial: seeds, `ProgressiveEpochs` and `CheckpointOnChange(keep_best=...)`, one
    HParams record per TensorBoard log directory, a progress line in the
    `keras_accuracy_kit.search` logger, and deletion of keras-tuner's checkpoints of
    trials that are not among the `keep_best` best. Only public keras-tuner hooks are
    overridden (`run_trial`, `on_trial_end`, `load_model`).
    """

    def configure_kit(
        self, keep_best, seed, history_dir, initial_epochs, extension, total, verbose=0
    ):
        self.keep_best = keep_best
        self.verbose = verbose
        self.kit_seed = seed
        self.history_dir = history_dir
        self.initial_epochs = initial_epochs
        self.extension = extension
        self.total_trials = total
        self.trials_run = []
        self._trial_started = {}

    def run_trial(self, trial, *args, **kwargs):
        values = active_values(trial.hyperparameters)
        number = int(trial.trial_id) if str(trial.trial_id).isdigit() else 0
        keras.utils.set_random_seed(self.kit_seed + number)
        self._trial_started[trial.trial_id] = time.perf_counter()
        self._progress(
            logging.INFO, "trial %s%s started: %s", trial.trial_id, self._of_total(),
            format_values(values),
        )  # fmt: skip
        callbacks, logdirs = _per_trial_tensorboards(kwargs.get("callbacks") or [], trial.trial_id)
        callbacks += [HParamsLogger(logdir, values, trial.trial_id) for logdir in logdirs]
        kwargs["callbacks"] = callbacks + self._kit_callbacks(trial, values)
        return super().run_trial(trial, *args, **kwargs)

    def _kit_callbacks(self, trial, values):
        objective = self.oracle.objective.name
        direction = self.oracle.objective.direction
        return [
            ProgressiveEpochs(
                monitor=objective,
                initial_epochs=self.initial_epochs,
                extension=self.extension,
                mode=direction,
            ),
            CheckpointOnChange(
                self.history_dir,
                monitor=objective,
                mode=direction,
                hparams={"trial_id": str(trial.trial_id), **values},
                keep_best=self.keep_best,
                save_last=False,
            ),
        ]

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        seconds = time.perf_counter() - self._trial_started.pop(trial.trial_id, time.perf_counter())
        ended = self.oracle.get_trial(trial.trial_id)
        self.trials_run.append(trial_record(ended))
        best = self.oracle.get_best_trials(1)
        best_text = f"{best[0].score:.4f}" if best and best[0].score is not None else "-"
        score = "-" if ended.score is None else f"{ended.score:.4f}"
        self._progress(
            logging.INFO,
            "trial %s%s %s in %.1fs: %s=%s (best so far %s)",
            trial.trial_id,
            self._of_total(),
            str(ended.status).lower(),
            seconds,
            self.oracle.objective.name,
            score,
            best_text,
        )
        if str(ended.status) != "COMPLETED" and ended.message:
            # keras-tuner keeps the traceback in the trial; say why instead of only "invalid".
            reason = ended.message.strip().splitlines()[-1]
            self._progress(logging.WARNING, "trial %s failed: %s", trial.trial_id, reason)
        self.prune_checkpoints(final=False)

    def load_model(self, trial):
        # Hyperband builds a continued trial by loading its parent's checkpoint first; the
        # trial's own checkpoint holds all its weights, and the parent's may be pruned.
        trial = copy.copy(trial)
        trial.hyperparameters = trial.hyperparameters.copy()
        trial.hyperparameters.values.pop("tuner/trial_id", None)
        return super().load_model(trial)

    def _progress(self, level, message, *args):
        """A progress line: to the `keras_accuracy_kit.search` logger, and printed (as
        Keras prints `fit` progress) when `verbose`."""
        logger.log(level, message, *args)
        if getattr(self, "verbose", 0):
            announce("kit.search.tune: " + message % args, logger.name)

    def _of_total(self):
        return f"/{self.total_trials}" if self.total_trials else ""

    def prune_checkpoints(self, final):
        """Deletes keras-tuner's checkpoints of ended trials outside the `keep_best` best.

        Hyperband continues trials from earlier rounds' checkpoints: those of trials that
        a later round may continue stay until `final`.
        """
        if self.keep_best is None:
            return
        keep = {t.trial_id for t in self.oracle.get_best_trials(self.keep_best)}
        pattern = os.path.join(self.project_dir, "trial_*", "checkpoint*")
        for path in glob.glob(pattern):
            trial_id = os.path.basename(os.path.dirname(path))[len("trial_") :]
            if trial_id in keep:
                continue
            trial = self.oracle.get_trial(trial_id)
            if str(trial.status) not in _ENDED:
                continue
            values = trial.hyperparameters.values
            may_continue = values.get("tuner/round", 0) < values.get("tuner/bracket", 0)
            if may_continue and not final:
                continue
            _remove(path)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class KitHyperband(KitTunerMixin, keras_tuner.Hyperband):
    """`keras_tuner.Hyperband` with the kit's trial hooks (`strategy="hyperband"`)."""


class KitBayesianOptimization(KitTunerMixin, keras_tuner.BayesianOptimization):
    """`keras_tuner.BayesianOptimization` with the kit's trial hooks (`strategy="bayesian"`)."""


class KitRandomSearch(KitTunerMixin, keras_tuner.RandomSearch):
    """`keras_tuner.RandomSearch` with the kit's trial hooks (`strategy="random"`)."""


#: The tuner class of each `strategy` of `tune`.
TUNERS = {
    "hyperband": KitHyperband,
    "bayesian": KitBayesianOptimization,
    "random": KitRandomSearch,
}
STRATEGIES = tuple(TUNERS)


def make_tuner(strategy, hypermodel, objective, max_trials, epochs, seed, directory,
               project_name, overwrite):  # fmt: skip
    """The tuner of `strategy`: Hyperband's budget is `epochs`, the others' `max_trials`."""
    common = dict(
        hypermodel=hypermodel,
        objective=objective,
        seed=seed,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
    )
    if strategy == "hyperband":
        return TUNERS[strategy](max_epochs=epochs, **common)
    return TUNERS[strategy](max_trials=max_trials, **common)
