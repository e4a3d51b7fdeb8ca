"""Mode and monitor checks shared by the callbacks."""

import warnings

import numpy as np
import pytest

from keras_accuracy_kit._core import checks, monitor


@pytest.mark.parametrize(
    "name, mode, warns",
    [
        ("val_loss", "max", True),  # D13: the worst epoch would count as the best
        ("loss", "max", True),
        ("val_mean_squared_error", "max", True),
        ("val_accuracy", "min", True),
        ("val_sparse_categorical_accuracy", "min", True),
        ("val_loss", "min", False),
        ("val_accuracy", "max", False),
        ("val_loss", "auto", False),
        ("learning_rate", "max", False),  # the name says nothing: no opinion
    ],
)
def test_a_mode_that_contradicts_the_monitor_name_warns(name, mode, warns):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.warn_if_mode_contradicts("Demo", name, mode)
    messages = [str(w.message) for w in caught]
    if warns:
        assert len(messages) == 1 and f"mode={mode!r} with monitor={name!r}" in messages[0]
        assert f"Pass mode={'min' if mode == 'max' else 'max'!r}" in messages[0]
    else:
        assert messages == []


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_accepts_booleans(value):
    assert checks.check_bool("Demo", "flag", value) is bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.array([True, False]), 1.0])
def test_check_bool_names_the_argument(value):
    with pytest.raises(TypeError, match=r"Demo: `flag` must be True or False\. Received: flag="):
        checks.check_bool("Demo", "flag", value)
