"""kit.search.tune: a keras-tuner search with the kit's callbacks, HParams and bounded disk."""

import contextlib
import copy
import dataclasses
import gc
import glob
import logging
import os
import socket
import time
import warnings

import keras
import tensorflow as tf

from keras_accuracy_kit._core import checks
from keras_accuracy_kit._core.announce import announce
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.search import distributed
from keras_accuracy_kit.search.hparams_logger import HParamsLogger
from keras_accuracy_kit.search.requirements import import_keras_tuner

keras_tuner = import_keras_tuner()

logger = logging.getLogger("keras_accuracy_kit.search")

STRATEGIES = ("hyperband", "bayesian", "random")
_ENDED = ("COMPLETED", "INVALID", "FAILED")


def active_values(hyperparameters):
    """The trial's values that configure the trained model: active ones, and `tuner/*`.

    Args:
        hyperparameters: `keras_tuner.HyperParameters`.

    Returns:
        Dict of name to value.
    """
    declared = {hp.name for hp in hyperparameters.space}
    return {
        name: value
        for name, value in hyperparameters.values.items()
        if name not in declared or hyperparameters.is_active(name)
    }


class KitTunerMixin:
    """What `tune` adds to a keras-tuner tuner; mixed into each strategy's tuner class.

    Per trial: seeds, `ProgressiveEpochs` and `CheckpointOnChange(keep_best=...)`, one
    HParams record per TensorBoard log directory, a progress line in the
    `keras_accuracy_kit.search` logger, and deletion of keras-tuner's checkpoints of
    trials that are not among the `keep_best` best.
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
            _format(values),
        )  # fmt: skip
        objective = self.oracle.objective.name
        kit_callbacks = [
            ProgressiveEpochs(
                monitor=objective,
                initial_epochs=self.initial_epochs,
                extension=self.extension,
                mode=self.oracle.objective.direction,
            ),
            CheckpointOnChange(
                self.history_dir,
                monitor=objective,
                mode=self.oracle.objective.direction,
                hparams={"trial_id": str(trial.trial_id), **values},
                keep_best=self.keep_best,
                save_last=False,
            ),
        ]
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + kit_callbacks
        return super().run_trial(trial, *args, **kwargs)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner appends its own HParams callback for each TensorBoard callback and
        # records inactive values too; log once per directory, active values only.
        logdirs = []
        for callback in callbacks:
            if isinstance(callback, keras.callbacks.TensorBoard):
                callback.log_dir = self._get_tensorboard_dir(
                    callback.log_dir, trial.trial_id, execution
                )
                if callback.log_dir not in logdirs:
                    logdirs.append(callback.log_dir)
        values = active_values(trial.hyperparameters)
        callbacks.extend(HParamsLogger(logdir, values, trial.trial_id) for logdir in logdirs)

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


def _tuner_class(base):
    return type(f"Kit{base.__name__}", (KitTunerMixin, base), {})


_TUNERS = {
    "hyperband": _tuner_class(keras_tuner.Hyperband),
    "bayesian": _tuner_class(keras_tuner.BayesianOptimization),
    "random": _tuner_class(keras_tuner.RandomSearch),
}


def trial_record(trial):
    """One row of the trials table: id, status, score, best epoch and active values."""
    return {
        "trial_id": trial.trial_id,
        "status": str(trial.status),
        "score": None if trial.score is None else float(trial.score),
        "best_step": trial.best_step,
        "values": active_values(trial.hyperparameters),
    }


@dataclasses.dataclass
class SearchResult:
    """What `tune` returns.

    Attributes:
        best_model: The best trial's model with its best epoch's weights, or `None`
            (worker processes, or no trial completed).
        best_values: Dict. The best trial's active hyper-parameter values, or `None`.
        trials: List of dicts, one per trial (`trial_id`, `status`, `score`,
            `best_step`, `values`): all trials of the search, or on a worker the trials
            it ran.
        objective: String. The objective's name.
        directory: String. The project directory (keras-tuner's trials, the kit's
            `history/`).
        tuner: The keras-tuner tuner, for anything else (`tuner.oracle`, ...).
    """

    best_model: object
    best_values: object
    trials: list
    objective: str
    directory: str
    tuner: object

    def table(self):
        """The trials as aligned text, best first (failed trials last)."""
        names = sorted({name for row in self.trials for name in row["values"]})
        header = ["trial", "status", self.objective, "best@"] + names
        direction = self.tuner.oracle.objective.direction if self.tuner else "max"

        def key(row):
            score = row["score"]
            if score is None:
                return (1, 0.0)
            return (0, -score if direction == "max" else score)

        rows = [header]
        for row in sorted(self.trials, key=key):
            rows.append(
                [
                    str(row["trial_id"]),
                    row["status"].lower(),
                    "-" if row["score"] is None else f"{row['score']:.4f}",
                    "-" if row["best_step"] is None else str(row["best_step"]),
                ]
                + [_format_value(row["values"].get(name, "-")) for name in names]
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _format_value(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _format(values):
    return ", ".join(f"{name}={_format_value(value)}" for name, value in values.items())


def tune(
    hypermodel,
    train=None,
    validation=None,
    strategy="hyperband",
    max_trials=10,
    directory="runs/search",
    project_name="search",
    objective="val_accuracy",
    epochs=10,
    initial_epochs=5,
    extension=5,
    keep_best=2,
    logdir=None,
    callbacks=None,
    batch_size=32,
    seed=0,
    overwrite=True,
    role=None,
    oracle_ip="127.0.0.1",
    oracle_port=0,
    tuner_id=None,
    timeout=120.0,
    verbose=1,
):
    """Searches `hypermodel` with keras-tuner and the kit's callbacks; returns the best model.

    Every trial trains with `kit.callbacks.ProgressiveEpochs` (stages of
    `initial_epochs`, then `extension`, up to `epochs`) and records itself in a
    `CheckpointOnChange` history (`<directory>/<project_name>/history`, hparams = the
    trial's active values and id). With `keep_best=k` only the `k` best trials keep model
    files on disk: keras-tuner's checkpoints of the others are deleted when they end (for
    Hyperband, when no later round can continue them), and the history keeps the files of
    its `k` best versions. With `logdir`, each trial writes TensorBoard scalars to
    `logdir/<trial_id>/execution0` and one HParams record of its active values (also when
    you pass your own `keras.callbacks.TensorBoard`: keras-tuner's duplicate is left
    out). Progress: one line per trial start and end, printed with `verbose=1` (as Keras
    prints `fit` progress) and always sent to the `keras_accuracy_kit.search` logger
    (INFO); keras-tuner's own printing is off (its stray prints in distributed mode too).

    Distributed (keras-tuner's chief/worker mode): run one process with `role="chief"`
    and any number with `role="worker"`, sharing `directory`. The chief binds
    `oracle_ip:oracle_port` (0 picks a free port), publishes the address in the project
    directory and serves the oracle until the workers are done; workers read it (or use
    `oracle_ip`/`oracle_port` when `oracle_port` is non-zero) and fail with a
    TimeoutError if no chief answers within `timeout` seconds. Setting keras-tuner's
    variables `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`
    yourself selects the role and address the same way.

    Args:
        hypermodel: A `keras_tuner.HyperModel` (`DepthSearch`, `SizeSearch`, ...) or a
            function `build(hp) -> compiled keras.Model`.
        train: `tf.data.Dataset` of `(images, labels)`, or a pair of arrays `(x, y)`.
            Not needed on the chief.
        validation: Same, for the objective. Not needed on the chief.
        strategy: `"hyperband"`, `"bayesian"` or `"random"`. Defaults to `"hyperband"`.
        max_trials: Positive int. Trials to run (`"bayesian"`, `"random"`); Hyperband's
            budget is `epochs` instead. Defaults to `10`.
        directory: Path. Shared by all processes of a search. Defaults to
            `"runs/search"`.
        project_name: String. Sub-directory of this search. Defaults to `"search"`.
        objective: String or `keras_tuner.Objective`. Defaults to `"val_accuracy"`.
        epochs: Positive int. Most epochs per trial (Hyperband's `max_epochs`).
            Defaults to `10`.
        initial_epochs: Positive int. `ProgressiveEpochs`' first stage. Defaults to `5`.
        extension: Positive int or list. `ProgressiveEpochs`' extensions. Defaults to `5`.
        keep_best: Optional positive int. Trials whose model files stay on disk.
            Defaults to `2`; `None` keeps all.
        logdir: Optional path. TensorBoard log directory. Defaults to `None`.
        callbacks: Optional list of Keras callbacks for every trial. Defaults to `None`.
        batch_size: Positive int. Batch size for array inputs. Defaults to `32`.
        seed: Int. Seeds the oracle and each trial (`seed + trial number`). Defaults
            to `0`.
        overwrite: Bool. Start afresh rather than resume the project (never on a
            worker). Defaults to `True`.
        role: `None` (one process), `"chief"` or `"worker"`. Defaults to `None`, or
            keras-tuner's variables if they are set.
        oracle_ip: String. The chief's address. Defaults to `"127.0.0.1"`.
        oracle_port: Int. The chief's port; 0 lets the chief pick a free one and the
            workers read it from `directory`. Defaults to `0`.
        tuner_id: Optional string. This worker's id. Defaults to
            `"worker-<host>-<pid>"`.
        timeout: Positive float. Seconds a worker waits for the chief and the chief for
            a first worker. Defaults to `120`.
        verbose: 0 or 1. Print a line per trial start and end. Pass 0 when you show the
            `keras_accuracy_kit.search` logger yourself. Defaults to `1`.

    Returns:
        A `SearchResult`: `best_model`, `best_values`, `trials`, `table()`.

    Example:

    ```python
    depth = kit.search.DepthSearch("conv_bn", max_blocks=4, input_shape=(32, 32, 3))
    result = kit.search.tune(depth, train, validation, strategy="random", max_trials=8,
                             directory="runs/search", keep_best=2, logdir="runs/tb")
    result.best_model.evaluate(test)
    logging.getLogger(__name__).info("\\n%s", result.table())
    ```
    """
    owner = "tune"
    checks.check_choice(owner, "strategy", strategy, STRATEGIES)
    max_trials = checks.check_int(owner, "max_trials", max_trials, example=10)
    epochs = checks.check_int(owner, "epochs", epochs, example=10)
    if keep_best is not None:
        keep_best = checks.check_int(owner, "keep_best", keep_best, example=2)
    # Checked now, not as a failed trial: the callback is built again in every trial.
    ProgressiveEpochs(initial_epochs=initial_epochs, extension=extension)
    if role is None:
        role = distributed.role_from_environment()
        if role is not None:
            oracle_ip = os.environ["KERASTUNER_ORACLE_IP"]
            oracle_port = int(os.environ.get("KERASTUNER_ORACLE_PORT", "0"))
            tuner_id = os.environ.get("KERASTUNER_TUNER_ID")
    if role is not None:
        checks.check_choice(owner, "role", role, distributed.ROLES)
        distributed.quiet_keras_tuner()
    if isinstance(verbose, bool) or verbose not in (0, 1):
        raise ValueError(
            f"{owner}: `verbose` must be 0 (silent) or 1 (a line per trial start and end). "
            f"Received: verbose={verbose!r}."
        )
    if role != "chief":
        if train is None or validation is None:
            raise ValueError(
                f"{owner}: `train` and `validation` must be given to run trials. Received: "
                f"train={train!r}, validation={validation!r}. Pass datasets of "
                "(images, labels) or (x, y) array pairs."
            )
        train = _as_dataset(owner, "train", train, batch_size, shuffle_seed=seed)
        validation = _as_dataset(owner, "validation", validation, batch_size)
    directory = checks.ensure_writable_directory(owner, "directory", directory)
    project_dir = os.path.join(directory, project_name)

    if role == "worker":
        tuner_id = tuner_id or f"worker-{socket.gethostname()}-{os.getpid()}"
        if "chief" in tuner_id:
            raise ValueError(
                f"{owner}: `tuner_id` of a worker must not contain 'chief'. Received: "
                f"tuner_id={tuner_id!r}. keras-tuner treats such ids as the chief."
            )
        if not oracle_port:
            oracle_ip, oracle_port = distributed.read_address(project_dir, timeout)
        distributed.wait_for_chief(oracle_ip, oracle_port, timeout)
        overwrite = False
    elif role == "chief":
        tuner_id = "chief"

    history_dir = os.path.join(project_dir, "history")
    if role == "worker":
        # Each worker gets its own history: CheckpointOnChange's crash clean-up assumes
        # it is the only writer of its directory.
        history_dir = os.path.join(history_dir, tuner_id)
    fit_callbacks = list(callbacks or [])
    if logdir is not None and not any(
        isinstance(c, keras.callbacks.TensorBoard) for c in fit_callbacks
    ):
        fit_callbacks.append(
            keras.callbacks.TensorBoard(os.fspath(logdir), write_graph=False, profile_batch=0)
        )

    if role is None:
        tuner = _make_tuner(
            hypermodel, strategy, objective, max_trials, epochs, seed, directory,
            project_name, overwrite,
        )  # fmt: skip
    else:
        with distributed.tuner_environment(tuner_id, oracle_ip, oracle_port or 0):
            tuner = _make_tuner(
                hypermodel, strategy, objective, max_trials, epochs, seed, directory,
                project_name, overwrite,
            )  # fmt: skip
    total = max_trials if strategy != "hyperband" else None
    tuner.configure_kit(
        keep_best, seed, history_dir, initial_epochs, extension, total, verbose=verbose
    )

    with _frozen_garbage_collector():
        return _run(tuner, role, tuner_id, oracle_ip, oracle_port, project_dir, timeout,
                    train, validation, epochs, fit_callbacks)  # fmt: skip


@contextlib.contextmanager
def _frozen_garbage_collector():
    """Spares keras-tuner's per-trial `gc.collect()` a rescan of every pre-existing object.

    keras-tuner collects garbage before building each trial's model; with TensorFlow
    loaded that scans some 300,000 objects (about 0.3-0.5 s, twice a trial). Objects that
    exist before the search are moved to the permanent generation meanwhile (as
    `gc.freeze()` is meant for) and released to normal collection afterwards.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run(tuner, role, tuner_id, oracle_ip, oracle_port, project_dir, timeout, train,
         validation, epochs, fit_callbacks):  # fmt: skip
    if role == "chief":
        with distributed.tuner_environment(tuner_id, oracle_ip, oracle_port or 0):
            tuner.save()
            distributed.serve_oracle(tuner.oracle, oracle_ip, oracle_port, project_dir, timeout)
        tuner.prune_checkpoints(final=True)
        return _result(tuner, project_dir)

    # Datasets bring their own shuffling (arrays are shuffled in `_as_dataset`).
    search_kwargs = dict(validation_data=validation, epochs=epochs, verbose=0, shuffle=False)
    search_kwargs["callbacks"] = fit_callbacks
    if role == "worker":
        with distributed.tuner_environment(tuner_id, oracle_ip, oracle_port):
            tuner.search(train, **search_kwargs)
        return SearchResult(
            best_model=None,
            best_values=None,
            trials=list(tuner.trials_run),
            objective=tuner.oracle.objective.name,
            directory=project_dir,
            tuner=tuner,
        )
    tuner.search(train, **search_kwargs)
    tuner.prune_checkpoints(final=True)
    return _result(tuner, project_dir)


def _make_tuner(hypermodel, strategy, objective, max_trials, epochs, seed, directory,
                project_name, overwrite):  # fmt: skip
    common = dict(
        hypermodel=hypermodel,
        objective=objective,
        seed=seed,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
    )
    if strategy == "hyperband":
        return _TUNERS[strategy](max_epochs=epochs, **common)
    return _TUNERS[strategy](max_trials=max_trials, **common)


def _result(tuner, project_dir):
    trials = [trial_record(t) for t in tuner.oracle.trials.values()]
    best = tuner.oracle.get_best_trials(1)
    best_model = None
    if best:
        with warnings.catch_warnings():
            # keras-tuner's checkpoints hold the optimizer's state; the fresh model's
            # optimizer has not been built yet. Only the weights matter here.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            best_model = tuner.load_model(best[0])
    return SearchResult(
        best_model=best_model,
        best_values=active_values(best[0].hyperparameters) if best else None,
        trials=sorted(trials, key=lambda row: row["trial_id"]),
        objective=tuner.oracle.objective.name,
        directory=project_dir,
        tuner=tuner,
    )


def _as_dataset(owner, arg, data, batch_size, shuffle_seed=None):
    if isinstance(data, tf.data.Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        batch_size = checks.check_int(owner, "batch_size", batch_size, example=32)
        dataset = tf.data.Dataset.from_tensor_slices(tuple(data))
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(data[0]), seed=shuffle_seed)
        return dataset.batch(batch_size)
    raise TypeError(
        f"{owner}: `{arg}` must be a tf.data.Dataset of (images, labels) or a pair of "
        f"arrays (x, y). Received: {arg} of type {type(data).__name__}."
    )
