"""`kak tune SPEC [--chief | --worker]`: `kit.search.tune` from the shell."""

import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import sys

from keras_accuracy_kit._core import atomic
from keras_accuracy_kit.cli.distributed_flags import TIMEOUT_EXIT_STATUS, add_distributed_flags

SPEC_HELP = (
    "MODULE:FUNCTION or FILE.py:FUNCTION; the function takes no arguments and returns a dict "
    "of kit.search.tune arguments, at least `hypermodel` (and `train`, `validation` on "
    "workers and single-process runs)"
)


def add_parser(commands):
    """Registers `kak tune` on the `kak` subparsers."""
    tune = commands.add_parser(
        "tune",
        help="search depth/size with kit.search.tune, alone or as keras-tuner chief/worker",
        description=(
            "Runs kit.search.tune on what SPEC returns. Distributed: start one `--chief` "
            "and any number of `--worker` processes with the same --directory and "
            "--project-name; the chief picks a free port and publishes it there (or set "
            "KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT yourself)."
        ),
    )
    tune.add_argument("spec", help=SPEC_HELP)
    tune.add_argument("--project-name", help="sub-directory of this search")
    tune.add_argument("--strategy", choices=("hyperband", "bayesian", "random"))
    tune.add_argument("--max-trials", type=int)
    tune.add_argument("--epochs", type=int, help="most epochs per trial")
    tune.add_argument("--keep-best", type=int, help="trials whose models stay on disk")
    tune.add_argument("--seed", type=int)
    tune.add_argument("--logdir", help="TensorBoard log directory")
    tune.add_argument("--json", help="also write the trials as JSON to this file")
    tune.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_distributed_flags(
        tune,
        chief_help="serve the oracle (keras-tuner's chief); runs no trials",
        worker_help="run trials that the chief hands out",
        directory_help="search directory, shared by chief and workers",
        description="keras-tuner's chief/worker mode: start one --chief and any number of "
        "--worker processes with the same --directory and --project-name. Exit status "
        f"{TIMEOUT_EXIT_STATUS}: no chief (or no worker) answered within --timeout.",
    )
    tune.set_defaults(run=tune_command)
    return tune


def load_spec(spec):
    """Calls the function `spec` names (`module:function` or `file.py:function`)."""
    module_name, _, function_name = spec.rpartition(":")
    if not module_name or not function_name:
        raise ValueError(
            f"kak tune: `spec` must be MODULE:FUNCTION or FILE.py:FUNCTION. Received: "
            f"spec={spec!r}. E.g. `kak tune my_search.py:digits_search`."
        )
    if module_name.endswith(".py"):
        path = os.path.abspath(module_name)
        if not os.path.exists(path):
            raise ValueError(f"kak tune: `spec` file not found. Received: spec={spec!r}.")
        module_spec = importlib.util.spec_from_file_location(
            os.path.splitext(os.path.basename(path))[0], path
        )
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ValueError(
            f"kak tune: `spec` must name a function of {module_name}. Received: "
            f"spec={spec!r}. Define `def {function_name}(): return dict(hypermodel=...)`."
        )
    arguments = function()
    if not isinstance(arguments, dict) or "hypermodel" not in arguments:
        raise ValueError(
            f"kak tune: `{spec}` must return a dict with at least `hypermodel`. Received: "
            f"{type(arguments).__name__}. Return dict(hypermodel=..., train=..., "
            "validation=...)."
        )
    return arguments


OVERRIDES = (
    "directory", "project_name", "strategy", "max_trials", "epochs", "keep_best", "seed",
    "logdir",
)  # fmt: skip
#: The flags that make the `kit.search.Distributed` settings (`--chief`/`--worker`, ...).
DISTRIBUTED = ("role", "oracle_ip", "oracle_port", "tuner_id", "timeout")


def _distributed(arguments, args):
    """The spec's settings (a `Distributed`, or the old loose keywords), the flags win."""
    from keras_accuracy_kit.search import distributed as distributed_lib

    given = {name: arguments.pop(name) for name in DISTRIBUTED if name in arguments}
    flags = {name: getattr(args, name) for name in DISTRIBUTED}
    given.update({name: value for name, value in flags.items() if value is not None})
    settings = arguments.pop("distributed", None)
    if settings is not None and given:
        given = {**dataclasses.asdict(settings), **given}
    elif settings is not None:
        return settings
    return distributed_lib.from_legacy_arguments("kak tune", None, given)


def tune_command(args, out):
    """Runs `kak tune`; `out(text, stream=None)` writes the command's output."""
    try:
        from keras_accuracy_kit import search
    except ImportError as error:
        out(f"kak tune: {error}", sys.stderr)
        return 2
    if not args.quiet:
        _log_progress()
    arguments = load_spec(args.spec)
    # Progress goes through the logger handler above (or nowhere with --quiet): the
    # library's own progress printing would double it.
    arguments.setdefault("verbose", 0)
    for name in OVERRIDES:
        value = getattr(args, name)
        if value is not None:
            arguments[name] = value
    settings = _distributed(arguments, args)
    try:
        result = search.tune(**arguments, distributed=settings)
    except TimeoutError as error:
        out(f"kak tune: {error}", sys.stderr)
        return TIMEOUT_EXIT_STATUS
    role = "single" if settings is None else settings.role
    if role == "worker":
        out(f"worker {result.tuner.tuner_id} ran {len(result.trials)} trial(s)")
    out(result.table())
    if result.best_values is not None:
        best = result.tuner.oracle.get_best_trials(1)[0]
        out(f"\nbest: trial {best.trial_id} ({result.objective}={best.score:.4f})")
    if args.json:
        payload = {
            "role": role,
            "tuner_id": result.tuner.tuner_id,
            "objective": result.objective,
            "best_values": result.best_values,
            "trials": result.trials,
        }
        data = json.dumps(payload, indent=2, sort_keys=True).encode()
        atomic.atomic_write_bytes(args.json, data)
    return 0


def _log_progress():
    search_logger = logging.getLogger("keras_accuracy_kit.search")
    if not search_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("kak tune: %(message)s"))
        search_logger.addHandler(handler)
    search_logger.setLevel(logging.INFO)
