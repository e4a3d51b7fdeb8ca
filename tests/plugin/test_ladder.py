"""The ladder's order and deltas, from scripted summaries (no TensorBoard, no training)."""

import doctest

import pytest
from tensorboard import errors
from tensorboard_plugin_accuracy_kit import plugin as plugin_lib
from tensorboard_plugin_accuracy_kit.plugin import ladder_rows


def summary(order=None, start=None, best=None, change=None):
    return {"order": order, "start_time": start, "best": best, "change": change}


@pytest.mark.parametrize(
    "summaries, runs",
    [
        # `order` wins over start time and name.
        ({"z": summary(0, 30.0), "a": summary(2, 10.0), "m": summary(1, 20.0)}, ["z", "m", "a"]),
        # Without `order`: start time, then name.
        (
            {"b": summary(None, 2.0), "a": summary(None, 2.0), "c": summary(None, 1.0)},
            ["c", "a", "b"],
        ),
        # Runs with an order come before runs without one.
        ({"late": summary(None, 0.0), "rung": summary(5, 9.0)}, ["rung", "late"]),
        ({}, []),
    ],
)
def test_ladder_order(summaries, runs):
    assert [row["run"] for row in ladder_rows(summaries)] == runs


def test_deltas_to_previous_and_baseline_skip_nothing():
    rows = ladder_rows(
        {
            "base": summary(0, best=0.5),
            "up": summary(1, best=0.75),
            "unknown": summary(2, best=None),
            "down": summary(3, best=0.625),
        }
    )
    assert [(r["delta_previous"], r["delta_baseline"]) for r in rows] == [
        (None, None),
        (0.25, 0.25),
        (None, None),
        (None, 0.125),  # the previous run has no value; the baseline has one
    ]
    assert [r["rank"] for r in rows] == [0, 1, 2, 3]


def test_change_falls_back_to_the_run_name():
    rows = ladder_rows({"02-dropout": summary(0, change=""), "x": summary(1, change="lr")})
    assert [r["change"] for r in rows] == ["02-dropout", "lr"]


def test_summaries_from_a_newer_writer_or_unreadable_say_why():
    with pytest.raises(ValueError, match=r"newer keras-accuracy-kit \(summary schema 99"):
        plugin_lib._decode_summary(b'{"schema_version": 99}')
    with pytest.raises(ValueError, match=r"the summary is not JSON"):
        plugin_lib._decode_summary(b"not json")
    assert plugin_lib._decode_summary(b'{"schema_version": 1, "best": 0.5}')["best"] == 0.5
    # D30: a NaN the kit wrote is read as a missing value.
    assert plugin_lib._decode_summary(b'{"schema_version": 1, "best": NaN}')["best"] is None


@pytest.mark.parametrize("value", [None, "", "1.5", "-2", "abc"])
def test_parse_index_rejects_non_indices(value):
    with pytest.raises(errors.InvalidArgumentError):
        plugin_lib.parse_index(value)


def test_plugin_docstring_examples():
    result = doctest.testmod(plugin_lib)
    assert result.attempted >= 2 and result.failed == 0
