"""`kak improve --chief | --worker`: the early errors and the time-outs (exit status 3)."""

import time

import pytest

from keras_accuracy_kit.cli.main import main

DIGITS = ["improve", "--dataset", "digits", "--epochs", "1", "--tricks", "input_scale"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--chief"], "`--chief` needs `--directory`"),
        (["--worker"], "`--worker` needs `--directory`"),
        (["--directory", "shared"], "without --chief or --worker"),
    ],
)
def test_a_role_and_the_shared_directory_go_together(arguments, message, capsys):
    assert main(DIGITS + arguments) == 2
    assert message in capsys.readouterr().err


def test_a_worker_without_a_chief_exits_with_status_3_and_says_what_to_start(tmp_path, capsys):
    started = time.monotonic()
    code = main(DIGITS + ["--worker", "--directory", str(tmp_path), "--timeout", "1"])
    assert code == 3
    error = capsys.readouterr().err
    assert "no chief published its address within 1 s" in error
    assert "--chief --directory SHARED" in error
    assert time.monotonic() - started < 60


def test_a_chief_without_workers_exits_with_status_3(tmp_path, capsys):
    code = main(
        DIGITS + ["--chief", "--directory", str(tmp_path / "shared"), "--timeout", "2",
                  "--logdir", str(tmp_path / "runs")]
    )  # fmt: skip
    assert code == 3
    error = capsys.readouterr().err
    assert "no worker asked the chief for a step within 2 s" in error
    # It stopped serving: workers started later find no address.
    assert not (tmp_path / "shared" / "oracle_address.json").exists()
