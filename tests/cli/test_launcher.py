"""The `kak` entry point: help without TensorFlow, commands without its start-up noise."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code, *args):
    # Without the test suite's TF_CPP_MIN_LOG_LEVEL: the command must quiet TF itself.
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=300,
    )


_HELP = (
    "import sys, keras_accuracy_kit_launcher as launcher\n"
    "try:\n"
    "    launcher.main(sys.argv[1:])\n"
    "except SystemExit as stop:\n"
    "    print('exit', stop.code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["improve", "--help"], ["tune", "--help"], ["history", "--help"], ["nope"]],
)
def test_help_and_usage_errors_do_not_import_tensorflow(argv):
    result = _run(_HELP, *argv)
    assert result.stdout.strip().splitlines()[-1] in ("exit 0 False False", "exit 2 False False")
    assert "cudart" not in result.stderr and "absl" not in result.stderr


def test_a_command_prints_its_message_and_no_tensorflow_lines(tmp_path):
    code = "import sys, keras_accuracy_kit_launcher as l; sys.exit(l.main(sys.argv[1:]))"
    result = _run(code, "history", str(tmp_path / "no_history"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no C++ start-up lines, no CUDA error
    assert lines[0].startswith("kak history: History: `directory` must hold a history")


def test_the_package_is_complete_after_the_launcher_ran(tmp_path):
    # The package's __init__ ran: its layers are registered for keras.saving.load_model.
    code = (
        "import sys, keras, keras_accuracy_kit_launcher as l\n"
        "l.main(['history', sys.argv[1]])\n"
        "import keras_accuracy_kit as kit\n"
        "print(kit.__version__, keras.saving.get_registered_object('keras_accuracy_kit>Resize'))\n"
    )
    result = _run(code, str(tmp_path))
    assert "keras_accuracy_kit.transforms.resize.Resize" in result.stdout, result.stderr
