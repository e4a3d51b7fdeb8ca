"""Mutation check: one small deliberate bug at a time, then the tests that should catch it.

A reviewer's habit, made a script (issue 22). For each module below, every mutant (one
operator, comparison, constant or call changed, see `MUTATIONS`) is written into a
*copy* of the repository (the working tree is never touched, so it is safe while others
work in it) and the module's tests run against it with `pytest -x`. A mutant the tests
fail on is *killed*; one they pass is a *survivor*: either a missing test, or an
equivalent mutant (no behaviour changes), which the README's development section explains.

A small equivalent of `mutmut` (whose 3.x runs only inside its own `mutants/` tree and
needs `fork`-safe test runs, which TensorFlow is not): standard library only, mutants
from the AST, the same idea and report. Not run in CI (minutes per module).

Usage:

    .venv/bin/python tools/mutation_check.py ladder_evidence          # one target
    .venv/bin/python tools/mutation_check.py --list                   # the targets
    .venv/bin/python tools/mutation_check.py history_fingerprint --max-mutants 20

Prints one line per mutant (`killed` / `SURVIVED` / `timeout`, the line and the change) and
a summary; exits 1 when a mutant survived.
"""

import argparse
import ast
import os
import pathlib
import shutil
import subprocess
import sys
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
    "core_atomic": (
        "keras_accuracy_kit/_core/atomic.py",
        ["tests/_core/test_atomic.py", "tests/history/test_atomic_model_writes.py"],
    ),
    "core_monitor": ("keras_accuracy_kit/_core/monitor.py", ["tests/_core/test_monitor.py"]),
    "callbacks_reduce_lr_on_plateau": (
        "keras_accuracy_kit/callbacks/reduce_lr_on_plateau.py",
        [
            "tests/callbacks/test_reduce_lr_on_plateau.py",
            "tests/callbacks/test_reduce_lr_on_plateau_parity.py",
        ],
    ),
    "callbacks_progressive_epochs": (
        "keras_accuracy_kit/callbacks/progressive_epochs.py",
        ["tests/callbacks/test_progressive_epochs.py"],
    ),
    "functional_photometric": (
        "keras_accuracy_kit/transforms/functional/photometric.py",
        ["tests/transforms/functional", "tests/transforms/test_augment.py"],
    ),
    "functional_color": (
        "keras_accuracy_kit/transforms/functional/color.py",
        ["tests/transforms/functional", "tests/transforms/test_to_lab.py"],
    ),
}

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


def copy_repository(destination):
    """The package, tests, benchmarks and examples, without .git, .venv or run outputs."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "runs", "*.egg-info"
    )
    shutil.copytree(ROOT, destination, ignore=ignore, dirs_exist_ok=True)


def run_tests(copy, tests, timeout):
    """pytest -x on `tests` inside `copy` (its package first on the path); the outcome."""
    environment = dict(os.environ, PYTHONPATH=str(copy), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "addopts=", *tests]
    try:
        completed = subprocess.run(
            command, cwd=copy, env=environment, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "SURVIVED" if completed.returncode == 0 else "killed"


def check(target, max_mutants=None, timeout=300):
    module, tests = TARGETS[target]
    source = (ROOT / module).read_text()
    results = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        copy = pathlib.Path(scratch) / "repo"
        copy_repository(copy)
        if run_tests(copy, tests, timeout) != "SURVIVED":
            raise SystemExit(f"mutation_check: the tests of {target} fail without a mutant")
        for number, (line, change, mutated) in enumerate(mutants(source)):
            if max_mutants is not None and number >= max_mutants:
                break
            (copy / module).write_text(mutated)
            start = time.monotonic()
            outcome = run_tests(copy, tests, timeout)
            (copy / module).write_text(source)
            seconds = time.monotonic() - start
            results.append((line, change, outcome))
            print(f"{outcome:8s} {module}:{line:<4d} {change:24s} {seconds:5.1f}s", flush=True)
    survivors = [r for r in results if r[2] != "killed"]
    print(
        f"{target}: {len(results)} mutants, {len(results) - len(survivors)} killed, "
        f"{len(survivors)} not killed"
    )
    return survivors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--max-mutants", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300, help="seconds per test run")
    args = parser.parse_args(argv)
    if args.list or not args.targets:
        for name, (module, tests) in TARGETS.items():
            print(f"{name:32s} {module}  <- {' '.join(tests)}")
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    survivors = []
    for target in args.targets:
        survivors += check(target, args.max_mutants, args.timeout)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
