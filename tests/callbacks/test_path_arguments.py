"""The callbacks' path arguments: refused unless a path, each with its own fix."""

import re

import pytest

from keras_accuracy_kit.callbacks import LRFinder, ProgressiveEpochs, ReduceLROnPlateau

PATH_ARGUMENTS = [
    (LRFinder, "logdir", "E.g. logdir='runs/lr'."),
    (
        ProgressiveEpochs,
        "backup_dir",
        "Pass the `backup_dir` of your `keras.callbacks.BackupAndRestore`.",
    ),
    (
        ReduceLROnPlateau,
        "backup_dir",
        "Pass the `backup_dir` of your `keras.callbacks.BackupAndRestore`.",
    ),
]


@pytest.mark.parametrize("callback, arg, fix", PATH_ARGUMENTS)
@pytest.mark.parametrize("value", ["", 3, b"runs/lr", "runs/\0lr"])
def test_a_value_that_is_not_a_path_is_refused_with_the_argument_s_fix(callback, arg, fix, value):
    message = (
        f"{callback.__name__}: `{arg}` must be None or a path (a non-empty string or "
        f"os.PathLike). Received: {arg}={value!r}. {fix}"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        callback(**{arg: value})


@pytest.mark.parametrize("callback, arg, fix", PATH_ARGUMENTS)
def test_a_path_like_is_kept_as_a_string_and_none_as_none(tmp_path, callback, arg, fix):
    assert getattr(callback(**{arg: tmp_path / "dir"}), arg) == str(tmp_path / "dir")
    assert getattr(callback(**{arg: None}), arg) is None
