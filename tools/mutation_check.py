"""Mutation check: one small deliberate bug at a time, then the tests that should catch it.

A reviewer's habit, made a script (issue 22). For each module below, every mutant (one
operator, comparison, constant or call changed, see `MUTATIONS`) is written into a
*copy* of the repository (the working tree is never touched, so it is safe while others
work in it) and the module's tests, with its own doctests, run against it with `pytest -x`.
A mutant the tests fail on is *killed*; one they pass is a *survivor*: either a missing
test, or an equivalent mutant (no behaviour changes), which docs/development.md explains.

A small equivalent of `mutmut` (whose 3.x runs only inside its own `mutants/` tree and
forks after running the code under test, which TensorFlow does not survive): standard
library only, mutants from the AST, the same idea and report. Not run in CI (minutes per
module). On POSIX the runner imports TensorFlow, Keras and the test libraries once and
forks one child per mutant *before* any TensorFlow op has run (safe, and it saves the
5-15 s import per mutant); `--no-fork` starts a fresh interpreter per mutant instead.

Usage:

    .venv/bin/python tools/mutation_check.py ladder_evidence          # one target
    .venv/bin/python tools/mutation_check.py --list                   # the targets
    .venv/bin/python tools/mutation_check.py history_fingerprint --max-mutants 20
    .venv/bin/python tools/mutation_check.py functional_projective --sample 30 --commit HEAD

`--sample N` checks N mutants drawn at random (`--seed`) from a large module, and says so
(`--skip-sample N:SEED`, once per earlier draw and in order, leaves out what an earlier
sample drew, so that a new one adds mutants not yet checked);
`--commit REV` copies the repository as of a commit (`git archive`) instead of the working
tree, so that others' uncommitted edits do not change the result.

Prints one line per mutant (`killed` / `SURVIVED` / `timeout`, the line and the change) and
a summary; exits 1 when a mutant survived.
"""

import argparse
import ast
import importlib
import io
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: target -> (module path, the tests that should catch its bugs)
TARGETS = {
    "ladder_evidence": (
        "keras_accuracy_kit/ladder/evidence.py",
        ["tests/ladder/test_evidence.py", "tests/ladder/test_evidence_threshold.py"],
    ),
    "history_fingerprint": (
        "keras_accuracy_kit/history/fingerprint.py",
        ["tests/history/test_fingerprint.py"],
    ),
    "history_index": (
        "keras_accuracy_kit/history/index.py",
        [
            "tests/history/test_index_schema.py",
            "tests/history/test_index_read_only.py",
            "tests/history/test_index_quick_check.py",
            "tests/history/test_index_writes.py",
            "tests/history/test_index_retry.py",
            "tests/history/test_locked_index.py",
            "tests/history/test_history.py",
            "tests/history/test_version_repr.py",
            "tests/history/test_damage.py",
        ],
    ),
    "history_checkpoint_on_change": (
        "keras_accuracy_kit/history/checkpoint_on_change.py",
        [
            "tests/history/test_committed_files_kept.py",
            "tests/history/test_locked_index.py",
            "tests/history/test_history.py",
            "tests/history/test_atomic_model_writes.py",
            "tests/history/test_version_files_and_time.py",
        ],
    ),
    "core_atomic": (
        "keras_accuracy_kit/_core/atomic.py",
        ["tests/_core/test_atomic.py", "tests/history/test_atomic_model_writes.py"],
    ),
    "core_monitor": (
        "keras_accuracy_kit/_core/monitor.py",
        [  # fast scripted decisions first: -x stops at the first failing test
            "tests/_core/test_monitor.py",
            "tests/callbacks/test_progressive_epochs.py",
            "tests/callbacks/test_reduce_lr_on_plateau_parity.py",
        ],
    ),
    "callbacks_reduce_lr_on_plateau": (
        "keras_accuracy_kit/callbacks/reduce_lr_on_plateau.py",
        [
            "tests/callbacks/test_reduce_lr_on_plateau.py",
            "tests/callbacks/test_reduce_lr_on_plateau_parity.py",
            "tests/callbacks/test_documented_defaults.py",
        ],
    ),
    "callbacks_progressive_epochs": (
        "keras_accuracy_kit/callbacks/progressive_epochs.py",
        [
            "tests/callbacks/test_progressive_epochs.py",
            "tests/callbacks/test_documented_defaults.py",
        ],
    ),
    "functional_photometric": (
        "keras_accuracy_kit/transforms/functional/photometric.py",
        ["tests/transforms/functional/test_photometric.py"],
    ),
    "functional_color": (
        "keras_accuracy_kit/transforms/functional/color.py",
        [
            "tests/transforms/functional/test_color.py",
            "tests/transforms/functional/test_color_references.py",
        ],
    ),
    "functional_projective": (
        "keras_accuracy_kit/transforms/functional/projective.py",
        [
            "tests/transforms/functional/test_projective_references.py",
            "tests/transforms/functional/test_projective.py",
        ],
    ),
}

#: Modules imported once before the runner forks a child per mutant (never the kit itself).
PRELOAD = ("numpy", "tensorflow", "keras", "sklearn", "skimage", "hypothesis", "pytest")

_COMPARISONS = {
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip
_OPERATORS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
}  # fmt: skip
_NAMES = {"argmax": "argmin", "argmin": "argmax", "max": "min", "min": "max"}

#: What is mutated, in words (the report's "change" column uses the same words).
MUTATIONS = (
    "comparison flipped at its boundary or negated (> to >=, == to !=, in to not in); "
    "arithmetic operator swapped (+ -, * /); `and`/`or` swapped; "
    "number constant c to c + 1; True/False swapped; argmax/argmin and max/min swapped"
)


class _Sites(ast.NodeVisitor):
    """Collects every mutation site as (node index in walk order, description)."""

    def __init__(self):
        self.sites = []

    def generic_visit(self, node):
        for description in _describe(node):
            self.sites.append((node, description))
        super().generic_visit(node)


def _describe(node):
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in _COMPARISONS:
                yield ("compare", index)
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        yield ("binop",)
    elif isinstance(node, ast.BoolOp):
        yield ("boolop",)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        yield ("constant",)
    elif isinstance(node, ast.Attribute) and node.attr in _NAMES:
        yield ("attribute",)
    elif isinstance(node, ast.Name) and node.id in ("max", "min"):
        yield ("name",)


def _docstring_nodes(tree):
    """Constants that are docstrings (never mutated: doctests would only test themselves)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def mutants(source):
    """Yields `(line, change, mutated_source)` for every site of `source`."""
    tree = ast.parse(source)
    count = len(_collect(tree))
    for number in range(count):
        tree = ast.parse(source)  # a fresh tree per mutant
        node, kind = _collect(tree)[number]
        change = _apply(node, kind)
        if change is None:
            continue
        yield node.lineno, change, ast.unparse(ast.fix_missing_locations(tree))


def _collect(tree):
    docstrings = _docstring_nodes(tree)
    visitor = _Sites()
    visitor.visit(tree)
    return [(node, kind) for node, kind in visitor.sites if id(node) not in docstrings]


def _apply(node, kind):
    """Mutates `node` in place; returns the change in words (None: nothing to change)."""
    name = kind[0]
    if name == "compare":
        index = kind[1]
        old = node.ops[index]
        node.ops[index] = _COMPARISONS[type(old)]()
        return f"{_symbol(old)} -> {_symbol(node.ops[index])}"
    if name == "binop":
        old = node.op
        node.op = _OPERATORS[type(old)]()
        return f"{_symbol(old)} -> {_symbol(node.op)}"
    if name == "boolop":
        old = node.op
        node.op = ast.Or() if isinstance(old, ast.And) else ast.And()
        return f"{_symbol(old)} -> {_symbol(node.op)}"
    if name == "constant":
        old = node.value
        if isinstance(old, bool):
            node.value = not old
        else:
            node.value = old + 1
        return f"{old!r} -> {node.value!r}"
    if name == "attribute":
        old = node.attr
        node.attr = _NAMES[old]
        return f".{old} -> .{node.attr}"
    if name == "name":
        old = node.id
        node.id = _NAMES[old]
        return f"{old}() -> {node.id}()"
    return None


def _symbol(op):
    return {
        ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==",
        ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
        ast.NotIn: "not in", ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
        ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.And: "and", ast.Or: "or",
    }[type(op)]  # fmt: skip


def copy_repository(destination, commit=None):
    """The package, tests, benchmarks and examples, without .git, .venv or run outputs.

    With `commit`, the files as of that commit (`git archive`), not the working tree.
    """
    if commit is not None:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
            capture_output=True,
            check=True,
        ).stdout
        pathlib.Path(destination).mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(destination, filter="data")
        return
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "runs", "*.egg-info"
    )
    shutil.copytree(ROOT, destination, ignore=ignore, dirs_exist_ok=True)


def _pytest_arguments(tests, module=None):
    """The target's tests, and the mutated module's own doctests (`make test` runs them)."""
    doctests = ["--doctest-modules", module] if module is not None else []
    return ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *doctests, *tests]


def run_tests(copy, tests, timeout, fork=False, module=None):
    """pytest -x on `tests` inside `copy` (its package first on the path); the outcome."""
    if fork:
        return _run_tests_forked(copy, tests, timeout, module)
    environment = dict(
        os.environ, PYTHONPATH=str(copy), TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1"
    )
    command = [sys.executable, "-m", "pytest", *_pytest_arguments(tests, module)]
    try:
        completed = subprocess.run(
            command, cwd=copy, env=environment, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "SURVIVED" if completed.returncode == 0 else "killed"


def preload():
    """Imports the heavy libraries (not the kit) so that forked children start warm."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _run_tests_forked(copy, tests, timeout, module=None):
    """Like `run_tests`, in a forked child of this (preloaded, TF-op-free) process."""
    pid = os.fork()
    if pid == 0:  # the child: its own process group, so a timeout ends its subprocesses too
        code = 3
        try:
            os.setsid()
            silent = os.open(os.devnull, os.O_WRONLY)
            os.dup2(silent, 1)
            os.dup2(silent, 2)
            os.chdir(copy)
            os.environ.update(PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
            sys.dont_write_bytecode = True  # a stale .pyc of an equal-size mutant never runs
            sys.path.insert(0, str(copy))
            import pytest

            code = int(pytest.main(_pytest_arguments(tests, module)))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            break
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.2)
    return "SURVIVED" if os.waitstatus_to_exitcode(status) == 0 else "killed"


def select(
    count, sample=None, seed=0, max_mutants=None, lines=None, mutant_lines=(), skip=()
):  # fmt: skip
    """Indices of the mutants to check: all, the first `max_mutants`, or a seeded sample.

    With `lines`, only mutants on those source lines (`mutant_lines[i]` is mutant i's).
    `skip` holds earlier `(sample, seed)` draws, in the order they were made (each from
    what the ones before left): their mutants are left out, so a new sample adds new ones.
    """
    numbers = list(range(count))
    for earlier_sample, earlier_seed in skip:
        drawn = set(random.Random(earlier_seed).sample(numbers, earlier_sample))
        numbers = [n for n in numbers if n not in drawn]
    if lines is not None:
        numbers = [n for n in numbers if mutant_lines[n] in lines]
    if max_mutants is not None:
        numbers = numbers[:max_mutants]
    if sample is not None and sample < len(numbers):
        numbers = sorted(random.Random(seed).sample(numbers, sample))
    return numbers


def check(
    target, max_mutants=None, timeout=300, sample=None, seed=0, commit=None, fork=False, lines=None,
    tests=None, skip=(),
):  # fmt: skip
    module, target_tests = TARGETS[target]
    tests = target_tests if tests is None else tests
    results = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        copy = pathlib.Path(scratch) / "repo"
        copy_repository(copy, commit)
        source = (copy / module).read_text()
        if run_tests(copy, tests, timeout, fork, module) != "SURVIVED":
            raise SystemExit(f"mutation_check: the tests of {target} fail without a mutant")
        every = list(mutants(source))
        chosen = select(
            len(every), sample, seed, max_mutants, lines, [line for line, _, _ in every], skip
        )
        if len(chosen) < len(every):
            print(f"{target}: checking {len(chosen)} of {len(every)} mutants", flush=True)
        for number in chosen:
            line, change, mutated = every[number]
            (copy / module).write_text(mutated)
            start = time.monotonic()
            outcome = run_tests(copy, tests, timeout, fork, module)
            (copy / module).write_text(source)
            seconds = time.monotonic() - start
            results.append((line, change, outcome))
            print(f"{outcome:8s} {module}:{line:<4d} {change:24s} {seconds:5.1f}s", flush=True)
    survivors = [r for r in results if r[2] != "killed"]
    print(
        f"{target}: {len(results)} of {len(every)} mutants checked, "
        f"{len(results) - len(survivors)} killed, {len(survivors)} not killed",
        flush=True,
    )
    return survivors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--max-mutants", type=int, default=None, help="the first N only")
    parser.add_argument("--sample", type=int, default=None, help="N mutants drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument(
        "--skip-sample", action="append", default=[], metavar="N:SEED",
        help="leave out what an earlier --sample N --seed SEED drew (repeat, in order)",
    )  # fmt: skip
    parser.add_argument("--commit", default=None, help="check the files of this commit")
    parser.add_argument(
        "--lines", default=None, help="only mutants on these lines, e.g. 50,85 (survivors)"
    )
    parser.add_argument(
        "--tests", nargs="+", default=None, help="other tests than the target's (a survivor's)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds per test run")
    parser.add_argument(
        "--no-fork", action="store_true", help="a fresh interpreter per mutant (slower)"
    )
    args = parser.parse_args(argv)
    if args.list or not args.targets:
        for name, (module, tests) in TARGETS.items():
            print(f"{name:32s} {module}  <- {' '.join(tests)}")
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    lines = None if args.lines is None else {int(n) for n in args.lines.split(",")}
    try:
        skip = [tuple(int(v) for v in item.split(":")) for item in args.skip_sample]
    except ValueError:
        skip = [()]
    if any(len(pair) != 2 for pair in skip):
        parser.error(f"--skip-sample must be N:SEED, e.g. 25:22. Received: {args.skip_sample}")
    fork = hasattr(os, "fork") and not args.no_fork
    if fork:
        preload()
    survivors = []
    for target in args.targets:
        survivors += check(
            target, args.max_mutants, args.timeout, args.sample, args.seed, args.commit, fork,
            lines, args.tests, skip,
        )  # fmt: skip
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
