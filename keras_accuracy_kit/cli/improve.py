"""`kak improve PATH | --dataset digits`: the accuracy ladder from the command line.

Imports nothing heavy at module level: `kak improve --help` answers without TensorFlow.
"""

import importlib.util
import os
import sys
import tempfile
import warnings

from keras_accuracy_kit.cli.distributed_flags import TIMEOUT_EXIT_STATUS, add_distributed_flags

#: Extensions `keras.Model.save` writes.
MODEL_EXTENSIONS = (".keras", ".h5")
#: The TensorBoard plugin's module (its own distribution, `plugins/`).
PLUGIN_MODULE = "tensorboard_plugin_accuracy_kit"


def add_parser(commands):
    parser = commands.add_parser(
        "improve",
        help="try the accuracy tricks in order on an image directory and keep what pays",
        description=(
            "Trains the tutorial CNN (Conv32-Pool-Conv64-Pool-Dense64) on PATH (one folder "
            "per class) or on --dataset digits, then tries the tricks one at a time and "
            "keeps each one that raises validation accuracy. Prints the ladder, saves the "
            "best model and writes TensorBoard logs and a kit history. Photos are trained "
            "at the median image's size with the shorter side capped at 64 px (aspect ratio "
            "kept by padding) unless --image-size is given."
        ),
    )
    _add_data_arguments(parser)
    _add_ladder_arguments(parser)
    _add_distributed_arguments(parser)
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0: the final table only; 1: a line per step (default); 2: also Keras' "
        "per-epoch lines of each step",
    )
    parser.set_defaults(run=improve_command)
    return parser


def _add_data_arguments(parser):
    """PATH or --dataset, --logdir, the baseline (--budget ... --backbone) and the data's shape."""
    parser.add_argument("path", nargs="?", help="image directory, one sub-folder per class")
    parser.add_argument("--dataset", choices=["digits"], help="use embedded data instead of PATH")
    parser.add_argument("--logdir", default="runs/improve", help="TensorBoard log directory")
    parser.add_argument("--budget", default=None, help="bound: epochs (e.g. 200) or '5min'")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the baseline")
    parser.add_argument(
        "--tricks",
        default="auto",
        help="comma-separated subset of the ladder's tricks (kit.ladder.TRICKS, e.g. "
        "epochs,augment; an unknown name lists them); 'auto' is every trick but the "
        "opt-in generative",
    )
    parser.add_argument("--backbone", default=None, help="transfer backbone name or path")
    parser.add_argument(
        "--validation-split",
        type=float,
        default=0.2,
        help="share of each class set apart for validation, in (0, 1) (default 0.2)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        default=None,
        metavar=("H", "W"),
        help="train at H x W pixels (aspect ratio kept by padding); default: the median "
        "image's size, shorter side capped at 64 px",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)


def _add_ladder_arguments(parser):
    """--refit, --folds, --no-ensemble, --no-tta and the outputs (--output, --json)."""
    parser.add_argument(
        "--refit",
        choices=["auto", "yes", "no"],
        default="auto",
        help="finally train members on train+validation (auto: when judged by cross-validation)",
    )
    parser.add_argument(
        "--folds",
        default="auto",
        help="judge on k-fold cross-validation (auto: 3 folds under 1000 validation images)",
    )
    parser.add_argument("--no-ensemble", action="store_true", help="do not try an ensemble")
    parser.add_argument("--no-tta", action="store_true", help="do not try test-time augmentation")
    parser.add_argument(
        "--output", default=None, help="best model path, .keras or .h5 (default LOGDIR/best.keras)"
    )
    parser.add_argument("--json", default=None, help="also write the steps as JSON to this file")


def _add_distributed_arguments(parser):
    """The chief/worker group (as `kak tune`'s) plus --heartbeat-timeout."""
    distributed = add_distributed_flags(
        parser,
        chief_help="run the ladder, its steps trained by the workers",
        worker_help="train the steps that the chief hands out",
        directory_help="directory shared by the chief and workers",
        description="keras-tuner's chief/worker mode, as `kak tune`: start one --chief and any "
        "number of --worker processes with the same data, arguments and --directory; the "
        "chief runs the ladder and writes the results, the workers train its steps (or set "
        "KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT, KERASTUNER_TUNER_ID yourself). Exit "
        f"status {TIMEOUT_EXIT_STATUS}: no chief (or no worker) answered within --timeout.",
        timeout_default=120.0,
    )
    distributed.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=30.0,
        help="seconds without a worker's heartbeat before its step goes to another worker",
    )


def improve_command(args, out):
    """Runs `kak improve`; every argument and path is checked before any training."""
    _check_source(args)
    _check_arguments(args)
    folds = _folds(args.folds)
    role = getattr(args, "role", None)
    _check_role(role, args)
    output = args.output or os.path.join(args.logdir, "best.keras")
    if role != "worker":
        _check_writable(args.logdir, "--logdir", directory=True)
        _check_writable(output, "--output")

    from keras_accuracy_kit.ladder import improve, tutorial_cnn

    train, validation, class_names = _load_data(args, out)
    # At --verbose 1, kit.improve shows a status line while a step trains (terminals only;
    # --verbose 2 has Keras' own lines).
    distributed = _distributed(role, args)
    try:
        result = _improve(
            improve, tutorial_cnn, train, validation, class_names, folds, args, distributed
        )
    except TimeoutError as error:
        out(f"kak improve: {error}", sys.stderr)
        return TIMEOUT_EXIT_STATUS
    if role == "worker":
        out(f"kak improve: worker done (the chief has finished the ladder in {args.directory})")
        if args.json:
            _write_json(args.json, {"role": "worker"})
        return 0
    _report(result, args, role, class_names, output, out)
    return 0


def _check_source(args):
    """Raises unless exactly one of PATH and --dataset is given."""
    if (args.path is None) == (args.dataset is None):
        raise ValueError(
            "give exactly one of PATH and --dataset. Received: "
            f"PATH={args.path!r}, --dataset={args.dataset!r}. E.g. `kak improve photos/` or "
            "`kak improve --dataset digits`."
        )


def _check_role(role, args):
    """Raises unless --chief/--worker and --directory come together."""
    if role is not None and not args.directory:
        raise ValueError(
            f"`--{role}` needs `--directory`, the directory shared by the chief and the "
            f"workers. Received: --{role} without --directory. E.g. --{role} --directory "
            "/shared/ladder."
        )
    if role is None and args.directory:
        raise ValueError(
            "`--directory` is the chief's and workers' shared directory. Received: "
            f"--directory {args.directory} without --chief or --worker. Add one of them."
        )


def _load_data(args, out):
    """(train, validation, class_names) of --dataset or PATH; PATH's warnings go to `out`."""
    from keras_accuracy_kit.ladder import datasets, digits_datasets, image_directory_datasets

    if args.dataset == "digits":
        return digits_datasets(
            validation_fraction=args.validation_split, seed=args.seed, batch_size=args.batch_size
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train, validation, class_names = image_directory_datasets(
            args.path,
            validation_split=args.validation_split,
            seed=args.seed,
            image_size=None if args.image_size is None else tuple(args.image_size),
            batch_size=args.batch_size,
        )
    for warning in caught:
        message = str(warning.message)
        if message.startswith("kak improve: "):  # the data's own warnings, e.g. bad files
            out(f"kak improve: warning: {message.removeprefix('kak improve: ')}", sys.stderr)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    height, width = train.element_spec[0].shape[1:3]
    how = (
        "as given by --image-size"
        if args.image_size is not None
        else "the median image's size, shorter side capped at "
        f"{datasets.DEFAULT_MAX_SHORTER_SIDE} px; set --image-size H W"
    )
    if args.verbose:
        out(
            f"Images of {len(class_names)} classes at {height}x{width} px ({how}; "
            "aspect ratio kept by padding)."
        )
    return train, validation, class_names


def _distributed(role, args):
    """The ladder's `Distributed` settings for --chief/--worker, else None."""
    if role is None:
        return None
    from keras_accuracy_kit.ladder import Distributed

    return Distributed(
        role,
        args.directory,
        oracle_ip=args.oracle_ip,
        oracle_port=args.oracle_port,
        tuner_id=args.tuner_id,
        timeout=args.timeout,
        heartbeat_timeout=args.heartbeat_timeout,
    )


def _report(result, args, role, class_names, output, out):
    """The chief's (or single run's) ending: table, saved best model, --json, TensorBoard hint."""
    out("")
    out(result.table())
    out("")
    out(f"Classes: {', '.join(class_names)}")
    try:
        result.best_model.save(output)
    except OSError as error:
        raise ValueError(
            f"could not save the best model to {output!r} ({error}). The ladder's table is "
            f"above and every step is in the history: `kak rollback {result.directory} "
            "--export PATH` saves the best version elsewhere."
        ) from error
    refitted = any(step.name == "refit" and step.kept for step in result.steps)
    refit = " (then refit on train + validation)" if refitted else ""
    out(f"Best model (accuracy {result.best_accuracy:.4f}{refit}) saved to {output}")
    if result.best_transforms:
        names = ", ".join(type(t).__name__ for t in result.best_transforms)
        out(f"The model takes raw images: its first layers are {names}")
    out(f"History: kak history {result.directory}")
    if args.json:
        _write_json(args.json, _result_json(result, role))
    out(f"TensorBoard: tensorboard --logdir {result.logdir}")
    if importlib.util.find_spec(PLUGIN_MODULE) is None:
        out(
            '  (its "Accuracy Kit" tab needs the plugin: pip install '
            '"keras-accuracy-kit[all]", or from a clone: pip install '
            "./plugins/tensorboard_plugin_accuracy_kit)"
        )


def _result_json(result, role):
    """The --json payload of a chief's or single run's result."""
    return {
        "role": role or "single",
        "best_accuracy": result.best_accuracy,
        "seconds": result.seconds,
        "steps": [
            {
                "name": step.name,
                "change": step.change,
                "kept": step.kept,
                "val_accuracy": step.val_accuracy,
                "epochs": step.epochs,
                "note": step.note,
            }
            for step in result.steps
        ],
    }


def _write_json(path, payload):
    import json

    from keras_accuracy_kit._core import atomic

    atomic.atomic_write_bytes(path, json.dumps(payload, indent=2, sort_keys=True).encode())


def _improve(improve, tutorial_cnn, train, validation, class_names, folds, args, distributed):
    """`kit.improve` with the command's arguments (by name, as the library names them)."""
    budget = args.budget
    if budget is not None and budget.isdigit():
        budget = int(budget)
    tricks = "auto" if args.tricks == "auto" else [t.strip() for t in args.tricks.split(",")]
    return improve(
        tutorial_cnn,
        train,
        validation,
        tricks=tricks,
        budget=budget,
        logdir=args.logdir,
        epochs=args.epochs,
        backbone=args.backbone,
        class_names=class_names,
        refit={"auto": "auto", "yes": True, "no": False}[args.refit],
        folds=folds,
        ensemble=not args.no_ensemble,
        tta=not args.no_tta,
        seed=args.seed,
        verbose=args.verbose,
        distributed=distributed,
    )


def _check_arguments(args):
    if args.batch_size < 1:
        raise ValueError(
            "`--batch-size` must be a positive int. Received: "
            f"--batch-size={args.batch_size}. E.g. --batch-size 32."
        )
    if args.epochs < 1:
        raise ValueError(
            f"`--epochs` must be a positive int. Received: --epochs={args.epochs}. "
            "E.g. --epochs 10."
        )
    if not 0 < args.validation_split < 1:
        raise ValueError(
            "`--validation-split` must be a fraction in (0, 1): the ladder judges each "
            "trick on images it did not train on. Received: "
            f"--validation-split={args.validation_split}. E.g. --validation-split 0.2."
        )
    if args.image_size is not None:
        if args.dataset is not None:
            raise ValueError(
                "`--image-size` applies to an image directory (PATH). Received: "
                f"--image-size {args.image_size[0]} {args.image_size[1]} with "
                f"--dataset {args.dataset}. Drop --image-size (the ladder's image-size "
                "step tries larger inputs itself)."
            )
        if not all(1 <= size <= 65536 for size in args.image_size):
            raise ValueError(
                "`--image-size` must be two ints H W in [1, 65536]. Received: "
                f"--image-size {args.image_size[0]} {args.image_size[1]}. "
                "E.g. --image-size 96 128."
            )


def _check_writable(path, flag, directory=False):
    """Raises unless `path` can be created (a file, or a directory if `directory`).

    Probes the nearest existing ancestor with a temporary file, so that a path the whole
    ladder would train for and then fail to write is refused before any training.
    """
    path = os.path.abspath(os.fspath(path))
    if not directory:
        if os.path.isdir(path):
            raise ValueError(
                f"`{flag}` must be a file path, not a directory. Received: {flag}={path!r}. "
                f"E.g. {flag} {os.path.join(path, 'best.keras')}."
            )
        if not path.endswith(MODEL_EXTENSIONS):
            raise ValueError(
                f"`{flag}` must end in .keras or .h5 (what keras.Model.save writes). "
                f"Received: {flag}={path!r}. E.g. {flag} best.keras."
            )
    elif os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(
            f"`{flag}` must be a directory. Received: {flag}={path!r}, which is a file. "
            "Choose another directory."
        )
    existing = path if directory and os.path.isdir(path) else os.path.dirname(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(
            f"`{flag}` must be writable. Received: {flag}={path!r}, but {existing!r} is a "
            "file, not a directory. Choose another path."
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ValueError(
            f"`{flag}` must be writable. Received: {flag}={path!r}, but {existing!r} "
            f"cannot be written ({error.strerror or error}). Choose a writable path."
        ) from error


def _folds(value):
    if value == "auto":
        return "auto"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"`--folds` must be 'auto' or a positive int. Received: --folds={value!r}."
        )
    return int(value)
