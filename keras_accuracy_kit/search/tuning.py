"""kit.search.tune: a keras-tuner search with the kit's callbacks, HParams and bounded disk."""

import contextlib
import gc
import os
import warnings

import keras
import tensorflow as tf

from keras_accuracy_kit._core import checks, elements
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.search import distributed as distributed_lib
from keras_accuracy_kit.search.result import SearchResult, active_values, trial_record
from keras_accuracy_kit.search.tuners import STRATEGIES, make_tuner

# Re-exported: `kit.search.tuning.active_values` and `.SearchResult` were defined here.
__all__ = ["STRATEGIES", "SearchResult", "active_values", "trial_record", "tune"]


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
    distributed=None,
    verbose=1,
    **legacy_distributed,
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

    Distributed (keras-tuner's chief/worker mode): pass `distributed=kit.search.Distributed(
    "chief")` in one process and `Distributed("worker")` in any number of others, sharing
    `directory` (see `Distributed`; keras-tuner's `KERASTUNER_*` variables select it too).
    The old keyword arguments `role`, `oracle_ip`, `oracle_port`, `tuner_id` and `timeout`
    are still accepted and build the same settings.

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
        distributed: Optional `kit.search.Distributed`: this process's role in a
            distributed search. Defaults to `None` (one process, or keras-tuner's
            variables if they are set).
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
    settings = distributed_lib.from_legacy_arguments(owner, distributed, legacy_distributed)
    role = None if settings is None else settings.role
    if role is not None:
        distributed_lib.quiet_keras_tuner()
    if isinstance(verbose, bool) or verbose not in (0, 1):
        raise ValueError(
            f"{owner}: `verbose` must be 0 (silent) or 1 (a line per trial start and end). "
            f"Received: verbose={verbose!r}."
        )
    if role != "chief":
        train, validation = _training_data(owner, train, validation, batch_size, seed)
    directory = checks.ensure_writable_directory(owner, "directory", directory)
    project_dir = os.path.join(directory, project_name)
    if role == "worker":
        settings = _reach_chief(settings, project_dir)
        overwrite = False
    tuner = _environment(settings, lambda: make_tuner(
        strategy, hypermodel, objective, max_trials, epochs, seed, directory, project_name,
        overwrite,
    ))  # fmt: skip
    total = max_trials if strategy != "hyperband" else None
    tuner.configure_kit(
        keep_best, seed, _history_dir(project_dir, settings), initial_epochs, extension,
        total, verbose=verbose,
    )  # fmt: skip
    search_kwargs = dict(validation_data=validation, epochs=epochs, verbose=0, shuffle=False)
    search_kwargs["callbacks"] = _fit_callbacks(callbacks, logdir)
    with _frozen_garbage_collector():
        return _run(tuner, settings, project_dir, train, search_kwargs)


def _training_data(owner, train, validation, batch_size, seed):
    if train is None or validation is None:
        raise ValueError(
            f"{owner}: `train` and `validation` must be given to run trials. Received: "
            f"train={train!r}, validation={validation!r}. Pass datasets of "
            "(images, labels) or (x, y) array pairs."
        )
    train = _as_dataset(owner, "train", train, batch_size, shuffle_seed=seed)
    return train, _as_dataset(owner, "validation", validation, batch_size)


def _reach_chief(settings, project_dir):
    """A worker's settings with the chief's address (read from the directory when the
    port is 0), once the chief answers."""
    ip, port = settings.oracle_ip, settings.oracle_port
    if not port:
        ip, port = distributed_lib.read_address(project_dir, settings.timeout)
        settings = distributed_lib.Distributed(
            "worker", ip, port, settings.tuner_id, settings.timeout
        )
    distributed_lib.wait_for_chief(ip, port, settings.timeout)
    return settings


def _environment(settings, function):
    """`function()`, inside keras-tuner's variables of `settings` when distributed."""
    if settings is None:
        return function()
    with settings.environment():
        return function()


def _history_dir(project_dir, settings):
    history_dir = os.path.join(project_dir, "history")
    if settings is not None and settings.role == "worker":
        # Each worker gets its own history: CheckpointOnChange's crash clean-up assumes
        # it is the only writer of its directory.
        history_dir = os.path.join(history_dir, settings.tuner_id)
    return history_dir


def _fit_callbacks(callbacks, logdir):
    fit_callbacks = list(callbacks or [])
    if logdir is not None and not any(
        isinstance(c, keras.callbacks.TensorBoard) for c in fit_callbacks
    ):
        fit_callbacks.append(
            keras.callbacks.TensorBoard(os.fspath(logdir), write_graph=False, profile_batch=0)
        )
    return fit_callbacks


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


def _run(tuner, settings, project_dir, train, search_kwargs):
    role = None if settings is None else settings.role
    if role == "chief":
        with settings.environment():
            tuner.save()
            distributed_lib.serve_oracle(
                tuner.oracle, settings.oracle_ip, settings.oracle_port, project_dir,
                settings.timeout,
            )  # fmt: skip
        tuner.prune_checkpoints(final=True)
        return _result(tuner, project_dir)
    # Datasets bring their own shuffling (arrays are shuffled in `_as_dataset`).
    if role == "worker":
        with settings.environment():
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
        dataset = elements.arrays_to_dataset(owner, arg, data, shuffle_seed=shuffle_seed)
        return dataset.batch(batch_size)
    raise TypeError(
        f"{owner}: `{arg}` must be a tf.data.Dataset of (images, labels) or a pair of "
        f"arrays (x, y). Received: {arg} of type {type(data).__name__}."
    )
