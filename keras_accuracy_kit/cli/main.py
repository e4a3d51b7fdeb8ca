"""`kak` command line: `kak improve`, `kak history DIR [--rebuild]`,
`kak rollback DIR [--to ID] [--export PATH [--no-safe-mode]]`,
`kak tune SPEC [--chief | --worker]`."""

import argparse
import contextlib
import os
import sys
import warnings

from keras_accuracy_kit._core import text_table
from keras_accuracy_kit.cli import improve as improve_cli
from keras_accuracy_kit.cli import tune as tune_cli

# Module level imports stay light (argparse and the CLI's own modules): the library, and
# TensorFlow with it, is imported once the arguments are parsed, so `kak --help` and a
# usage error answer at once (see `keras_accuracy_kit_launcher`).


def _out(text, stream=None):
    """Writes one line of the command's output (the CLI's job, unlike library code)."""
    (stream or sys.stdout).write(f"{text}\n")


def _format_table(versions):
    header = [
        "id",
        "parent",
        "created",
        "monitor",
        "best",
        "best@",
        "epochs",
        "time",
        "files",
        "changes",
    ]
    rows = [header]
    for v in versions:
        changes = v.changes[0] if v.changes else "-"
        if len(v.changes) > 1:
            changes += f" (+{len(v.changes) - 1} more)"
        rows.append(
            [
                str(v.id),
                "-" if v.parent is None else str(v.parent),
                v.created,
                v.monitor,
                "-" if v.best is None else f"{v.best:.4f}",
                "-" if v.best_epoch is None else str(v.best_epoch),
                str(v.epochs),
                f"{v.wall_time:.1f}s",
                _files_cell(v),
                changes,
            ]
        )
    return text_table.format_table(rows)


def _files_cell(version):
    """`best,last`; a file that is not intact says so: `best(missing)`, `last(corrupt)`."""
    if version.files:
        return ",".join(
            kind if version.file_status.get(kind, "ok") == "ok"
            else f"{kind}({version.file_status[kind]})"
            for kind in sorted(version.files)
        )  # fmt: skip
    return "deleted(keep_best)" if version.files_deleted else "none saved"


def history_command(args):
    from keras_accuracy_kit.history import History

    if args.rebuild:
        report = History.rebuild(args.directory)
        _out(
            f"Rebuilt {report['index']}: versions {report['versions']} "
            f"({len(report['recovered'])} recovered from the model files' records)."
        )
        if report["previous_index"]:
            _out(f"The previous index is kept as {report['previous_index']}.")
        if report["without_record"]:
            _out(
                f"{len(report['without_record'])} model file(s) have no record and were left "
                f"in place: {', '.join(report['without_record'])}"
            )
    with History(args.directory) as history:
        versions = history.versions()
        if not versions:
            _out(f"No versions in {history.directory} yet.")
            return 0
        _out(_format_table(versions))
        for version in versions:
            for kind, status in sorted(version.file_status.items()):
                if status != "ok":
                    _out(f"version {version.id}: {kind} file {status}: {version.files[kind]}")
        best = history.best()
        if best is not None:
            _out(f"\nbest: version {best.id} ({best.monitor}={best.best:.4f})")
    return 0


def rollback_command(args):
    from keras_accuracy_kit.history import History

    with History(args.directory) as history:
        to = "best" if args.to is None else args.to
        # One operation: the export path is checked and written before the rollback commits.
        restored = history.rollback(
            to, load=False, export=args.export, safe_mode=args.safe_mode
        )
    _out(
        f"Rolled back to version {restored.version.id} "
        f"({restored.version.monitor}={restored.version.best}); the next new "
        "configuration will derive from it."
    )
    if restored.exported:
        _out(f"Exported its best model to {restored.exported}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kak", description="keras-accuracy-kit: the accuracy tricks for Keras 3."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    history = commands.add_parser("history", help="print the versions of a history directory")
    history.add_argument("directory", help="the directory given to CheckpointOnChange")
    history.add_argument(
        "--rebuild",
        action="store_true",
        help="recreate a lost or damaged index from the model files' records first "
        "(the old index is kept beside it)",
    )
    history.set_defaults(run=history_command)
    rollback = commands.add_parser(
        "rollback", help="make a version (default: the best) the base of the next run"
    )
    rollback.add_argument("directory", help="the directory given to CheckpointOnChange")
    rollback.add_argument("--to", type=int, default=None, help="version id (default: best)")
    rollback.add_argument(
        "--export",
        default=None,
        help="save its model here (.keras or .h5); the model loads with Keras safe mode on: "
        "a file that would run code of its own (e.g. a SavedModel with file ops) is refused",
    )
    rollback.add_argument(
        "--no-safe-mode",
        dest="safe_mode",
        action="store_false",
        help="load the model for --export without Keras safe mode (only for a history you trust)",
    )
    rollback.set_defaults(run=rollback_command)
    improve_cli.add_parser(commands)
    tune_cli.add_parser(commands)
    return parser


def main(argv=None):
    """Runs `kak` with `argv` (default: `sys.argv[1:]`); returns the exit status."""
    return run(build_parser().parse_args(argv))


def run(args):
    """Runs the parsed command: TensorFlow is imported quietly first, then the library."""
    verbose = getattr(args, "verbose", 1)
    quiet_tensorflow(verbose=verbose)
    from keras_accuracy_kit.history import HistoryWriteError

    try:
        with _framework_chatter_hidden(verbose < 2):
            if args.run in (improve_cli.improve_command, tune_cli.tune_command):
                return args.run(args, _out)
            return args.run(args)
    except (ValueError, HistoryWriteError) as error:
        # The library's errors already say what to do (a full disk included).
        message, prefix = str(error), f"kak {args.command}: "
        _out(message if message.startswith(prefix) else prefix + message, sys.stderr)
        return 2


def quiet_tensorflow(verbose=1):
    """Imports TensorFlow without its C++ start-up lines (unless `verbose` is 2).

    `TF_CPP_MIN_LOG_LEVEL=3` (kept if you set it) silences TensorFlow's C++ logging, but
    a few lines (no CUDA driver, CPU features) are written to the process's stderr before
    that logging starts, so the import itself runs with file descriptor 2 on /dev/null.
    Python errors are not affected: an import that fails still raises. The command line
    only; the library never changes the environment.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1" if verbose >= 2 else "3")
    with _stderr_descriptor_silenced(verbose < 2):
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


#: Keras' warnings about how the ladder calls it (regexes matched at the message's start).
_KERAS_NOTES = (r"`shuffle=True` was passed, but will be ignored",)


@contextlib.contextmanager
def _framework_chatter_hidden(enabled):
    """Hides TensorFlow's Python WARNING log lines and Keras' notes on the kit's own calls.

    E.g. "triggered tf.function retracing" or Keras' "`shuffle=True` was passed, but will
    be ignored" (the ladder's fit on datasets): nothing a `kak` user can act on. Other
    warnings stay, the kit's among them (skipped image files, a backbone outside the
    safe-mode allowlist). `--verbose 2` shows everything. Restored afterwards (`main()`
    may run in-process).
    """
    if not enabled:
        yield
        return
    import tensorflow as tf

    tf_logger = tf.get_logger()
    level = tf_logger.level
    with warnings.catch_warnings():
        for message in _KERAS_NOTES:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        tf_logger.setLevel("ERROR")
        try:
            yield
        finally:
            tf_logger.setLevel(level)


@contextlib.contextmanager
def _stderr_descriptor_silenced(enabled):
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no real descriptor 2 (e.g. an embedding host)
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
