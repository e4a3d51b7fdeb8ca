"""The public names exist, and importing the kit changes nothing global."""

import logging
import os
import subprocess
import sys

import keras_accuracy_kit as kit


def test_every_name_in_all_resolves():
    for name in kit.__all__:
        assert getattr(kit, name) is not None, name
    for module in (kit.transforms, kit.callbacks, kit.history, kit.transfer, kit.search):
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_import_has_no_side_effects():
    code = (
        "import logging, os, json\n"
        "before = (dict(os.environ), logging.getLogger().level, logging.getLogger().handlers)\n"
        "import keras_accuracy_kit\n"
        "after = (dict(os.environ), logging.getLogger().level, logging.getLogger().handlers)\n"
        "print(before[0] == after[0], before[1] == after[1], len(after[2]))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    ).stdout.split()
    assert output[:2] == ["True", "True"]
    assert logging.getLogger("keras_accuracy_kit").handlers == []
