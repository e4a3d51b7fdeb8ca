"""Imports flow one way: `_core <- transforms <- {callbacks, history, transfer, generative} <-
reporting <- {ladder, search} <- cli`, lazy (function-level) imports included, and no module imports
itself back through others.

Modelled on the plugin's "imports neither TensorFlow nor the kit" test: the source is parsed,
never imported, so a lazy import inside a function counts as much as one at the top.
`importlib.import_module("keras_accuracy_kit...")` with a literal name counts too. The root
`keras_accuracy_kit/__init__.py` is the facade above every layer: it may import anything, and
no module below may import it (`import keras_accuracy_kit`, `from keras_accuracy_kit import
<a name that is not a subpackage>`).
"""

import ast
import pathlib
import textwrap

import pytest

PACKAGE = "keras_accuracy_kit"
SOURCE = pathlib.Path(__file__).resolve().parents[1] / PACKAGE

#: Lowest first. A package may import its own modules and those of lower tiers; packages of
#: one tier do not import each other.
TIERS = (
    ("_core",),
    ("transforms",),
    ("callbacks", "history", "transfer", "generative"),
    ("reporting",),
    ("ladder", "search"),
    ("cli",),
)

#: `(importing module, imported module) -> reason` for imports against the arrow that cannot
#: go without an algorithm change. Keep it short; every entry must still be needed.
ALLOWED = {}


def module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_modules(root):
    """`{module name: (is package, syntax tree)}` for every `.py` file under `root`."""
    return {
        module_name(path, root): (path.name == "__init__.py", ast.parse(path.read_text()))
        for path in sorted(root.rglob("*.py"))
    }


def imported_modules(module, is_package, tree, known):
    """Yields `(line, imported kit module)` for every import in the tree, lazy ones included.

    `from a.b import c` names the module `a.b.c` when that is a module of the kit, else `a.b`.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if candidate in known else source
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def import_graph(modules):
    """`{module: {imported kit module: first line}}` over the kit's own modules."""
    graph = {}
    for module, (is_package, tree) in modules.items():
        edges = graph.setdefault(module, {})
        for line, target in imported_modules(module, is_package, tree, modules):
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                edges.setdefault(target, line)
    return graph


def tier_of(package):
    for rank, tier in enumerate(TIERS):
        if package in tier:
            return rank
    return None


def arrow_problems(graph, allowed):
    problems = []
    for module, edges in sorted(graph.items()):
        source = module.split(".")[1] if "." in module else None
        if source is None:
            continue  # the facade
        for target, line in sorted(edges.items()):
            if (module, target) in allowed:
                continue
            destination = target.split(".")[1] if "." in target else None
            if destination == source:
                continue
            if destination is None:
                problems.append(f"{module}:{line} imports the facade `{target}`")
                continue
            rank, target_rank = tier_of(source), tier_of(destination)
            if rank is None or target_rank is None:
                problems.append(f"{module}:{line} imports {target}: a package not in TIERS")
            elif target_rank >= rank:
                problems.append(f"{module}:{line} imports {target} against the arrow")
    return problems


def cycles(graph, allowed):
    """The strongly connected components of more than one module (Tarjan), sorted."""
    edges = {
        module: [t for t in targets if t in graph and (module, t) not in allowed]
        for module, targets in graph.items()
    }
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in edges[module]:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def layering_problems(root, allowed=ALLOWED):
    graph = import_graph(read_modules(root))
    problems = arrow_problems(graph, allowed)
    problems += [f"import cycle: {' <-> '.join(component)}" for component in cycles(graph, allowed)]
    return problems


def test_imports_flow_one_way_without_cycles():
    problems = layering_problems(SOURCE)
    assert problems == [], "\n".join(problems)


def test_every_allowed_import_still_exists():
    graph = import_graph(read_modules(SOURCE))
    for importer, imported in ALLOWED:
        assert imported in graph.get(importer, {}), (importer, imported)


def test_every_package_is_in_a_tier():
    packages = {path.parent.name for path in SOURCE.glob("*/__init__.py")}
    assert packages == {package for tier in TIERS for package in tier}


def write_tree(root, files):
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / PACKAGE


@pytest.fixture
def fake_kit(tmp_path):
    packages = [package for tier in TIERS for package in tier]
    files = {"__init__.py": "from keras_accuracy_kit import cli\n"}
    files.update({f"{package}/__init__.py": "" for package in packages})
    return tmp_path, files


def test_a_clean_tree_has_no_problems(fake_kit):
    tmp_path, files = fake_kit
    files["reporting/grid.py"] = "from keras_accuracy_kit.transforms import functional\n"
    files["transforms/functional/__init__.py"] = "from ..._core import checks\n"
    files["_core/checks.py"] = "import numpy\n"
    assert layering_problems(write_tree(tmp_path, files), allowed={}) == []


@pytest.mark.parametrize(
    "name, text, expected",
    [
        (
            "transforms/augment.py",
            """
            def preview():
                from keras_accuracy_kit.reporting import image_grid
            """,
            "keras_accuracy_kit.transforms.augment:3 imports keras_accuracy_kit.reporting "
            "against the arrow",
        ),
        (
            "callbacks/__init__.py",
            "from ..history import checkpoint\n",
            "keras_accuracy_kit.callbacks:1 imports keras_accuracy_kit.history.checkpoint "
            "against the arrow",
        ),
        (
            "_core/checks.py",
            "import keras_accuracy_kit as kit\n",
            "keras_accuracy_kit._core.checks:1 imports the facade `keras_accuracy_kit`",
        ),
        (
            "history/index.py",
            "import importlib\nimportlib.import_module('keras_accuracy_kit.cli.main')\n",
            "keras_accuracy_kit.history.index:2 imports keras_accuracy_kit.cli.main "
            "against the arrow",
        ),
    ],
)
def test_an_import_against_the_arrow_is_found(fake_kit, name, text, expected):
    tmp_path, files = fake_kit
    files[name] = text
    files["history/checkpoint.py"] = ""
    files["cli/main.py"] = ""
    assert layering_problems(write_tree(tmp_path, files), allowed={}) == [expected]


def test_an_import_cycle_is_found_even_when_lazy_and_allowed_when_listed(fake_kit):
    tmp_path, files = fake_kit
    files["transforms/augment.py"] = (
        "def checked():\n    from keras_accuracy_kit.transforms.guard import check\n"
    )
    files["transforms/guard.py"] = "from keras_accuracy_kit.transforms import augment\n"
    root = write_tree(tmp_path, files)
    assert layering_problems(root, allowed={}) == [
        "import cycle: keras_accuracy_kit.transforms.augment <-> "
        "keras_accuracy_kit.transforms.guard"
    ]
    edge = ("keras_accuracy_kit.transforms.augment", "keras_accuracy_kit.transforms.guard")
    assert layering_problems(root, allowed={edge: "a reason"}) == []
