"""The writer (`kit.reporting.summary_schema`) and the plugin (`metadata`) agree.

The plugin must not import the kit, so it keeps its own copy of the constants.
"""

import ast
import pathlib

from tensorboard_plugin_accuracy_kit import metadata

from keras_accuracy_kit.reporting import summary_schema

PLUGIN_SOURCE = pathlib.Path(metadata.__file__).parent


def public_constants(module):
    return {name: getattr(module, name) for name in dir(module) if name.isupper()}


def test_plugin_constants_equal_the_writer_constants():
    assert public_constants(metadata) == public_constants(summary_schema)
    assert len(public_constants(metadata)) >= 25


def test_every_summary_key_is_written(tmp_path):
    from keras_accuracy_kit.reporting.accuracy_report import AccuracyReport

    report = AccuracyReport(tmp_path)
    assert tuple(sorted(report.summary())) == tuple(sorted(summary_schema.SUMMARY_KEYS))


def test_plugin_imports_neither_tensorflow_nor_the_kit():
    for path in PLUGIN_SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root not in ("tensorflow", "keras", "keras_accuracy_kit"), (path, name)
