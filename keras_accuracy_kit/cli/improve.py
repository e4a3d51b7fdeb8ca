"""`kak improve PATH | --dataset digits`: the accuracy ladder from the command line."""

import os

from keras_accuracy_kit.ladder import (
    TRICKS,
    digits_datasets,
    image_directory_datasets,
    improve,
    tutorial_cnn,
)


def add_parser(commands):
    parser = commands.add_parser(
        "improve",
        help="try the accuracy tricks in order on an image directory and keep what pays",
        description=(
            "Trains the tutorial CNN (Conv32-Pool-Conv64-Pool-Dense64) on PATH (one folder "
            "per class) or on --dataset digits, then tries the tricks one at a time and "
            "keeps each one that raises validation accuracy. Prints the ladder, saves the "
            "best model and writes TensorBoard logs and a kit history."
        ),
    )
    parser.add_argument("path", nargs="?", help="image directory, one sub-folder per class")
    parser.add_argument("--dataset", choices=["digits"], help="use embedded data instead of PATH")
    parser.add_argument("--logdir", default="runs/improve", help="TensorBoard log directory")
    parser.add_argument("--budget", default=None, help="bound: epochs (e.g. 200) or '5min'")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the baseline")
    parser.add_argument(
        "--tricks", default="auto", help=f"comma-separated subset of {','.join(TRICKS)}"
    )
    parser.add_argument("--backbone", default=None, help="transfer backbone name or path")
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--image-size", type=int, nargs=2, default=None, metavar=("H", "W"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
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
        "--output", default=None, help="best model path (default LOGDIR/best.keras)"
    )
    parser.set_defaults(run=improve_command)
    return parser


def improve_command(args, out):
    if (args.path is None) == (args.dataset is None):
        raise ValueError(
            "kak improve: give exactly one of PATH and --dataset. Received: "
            f"PATH={args.path!r}, --dataset={args.dataset!r}. E.g. `kak improve photos/` or "
            "`kak improve --dataset digits`."
        )
    if args.dataset == "digits":
        train, validation, class_names = digits_datasets(
            validation_fraction=args.validation_split, seed=args.seed, batch_size=args.batch_size
        )
    else:
        train, validation, class_names = image_directory_datasets(
            args.path,
            validation_split=args.validation_split,
            seed=args.seed,
            image_size=args.image_size,
            batch_size=args.batch_size,
        )
    budget = args.budget
    if budget is not None and budget.isdigit():
        budget = int(budget)
    tricks = "auto" if args.tricks == "auto" else [t.strip() for t in args.tricks.split(",")]
    result = improve(
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
        folds=_folds(args.folds),
        ensemble=not args.no_ensemble,
        tta=not args.no_tta,
        seed=args.seed,
    )
    output = args.output or os.path.join(result.logdir, "best.keras")
    result.best_model.save(output)
    out("")
    out(result.table())
    out("")
    out(f"Classes: {', '.join(class_names)}")
    refitted = any(step.name == "refit" and step.kept for step in result.steps)
    refit = " (then refit on train + validation)" if refitted else ""
    out(f"Best model (accuracy {result.best_accuracy:.4f}{refit}) saved to {output}")
    if result.best_transforms:
        names = ", ".join(type(t).__name__ for t in result.best_transforms)
        out(f"The model takes raw images: its first layers are {names}")
    out(f"History: kak history {result.directory}")
    out(f"TensorBoard: tensorboard --logdir {result.logdir}")
    return 0


def _folds(value):
    if value == "auto":
        return "auto"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"kak improve: `--folds` must be 'auto' or a positive int. Received: --folds={value!r}."
        )
    return int(value)
