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


def test_without_a_decision_the_tab_keeps_what_beats_the_best_kept_run_before_it():
    rows = ladder_rows(
        {
            "base": summary(0, best=0.5),
            "up": summary(1, best=0.75),
            "unknown": summary(2, best=None),
            "down": summary(3, best=0.625),  # better than the baseline, worse than "up"
            "top": summary(4, best=0.875),
        }
    )
    assert [(r["kept"], r["gain"], r["delta_baseline"], r["better"]) for r in rows] == [
        (True, None, None, None),
        (True, 0.25, 0.25, True),
        (False, None, None, None),
        (False, -0.125, 0.125, False),  # against the best so far (0.75), not the previous run
        (True, 0.125, 0.375, True),  # against 0.75: the rejected 0.625 is not a step up
    ]
    assert [r["rank"] for r in rows] == [0, 1, 2, 3, 4]
    assert {r["decided_by"] for r in rows} == {"tab"}
    assert "delta_previous" not in rows[0]  # one delta for one fact
    assert plugin_lib.best_run(rows) == "top"


def loss_summary(order, best):
    return {"order": order, "best": best, "monitor": "val_loss", "mode": "min"}


def test_a_loss_is_better_when_it_falls_and_the_best_run_is_the_lowest():
    rows = ladder_rows(
        {
            "a": loss_summary(0, 0.5),
            "b": loss_summary(1, 0.75),  # a rising loss: rejected, not green
            "c": loss_summary(2, 0.25),
            "d": loss_summary(3, 0.375),
        }
    )
    assert [(r["kept"], r["gain"], r["better"]) for r in rows] == [
        (True, None, None),
        (False, 0.25, False),
        (True, -0.25, True),
        (False, 0.125, False),
    ]
    assert [r["mode"] for r in rows] == ["min"] * 4
    assert plugin_lib.best_run(rows) == "c"


@pytest.mark.parametrize(
    "summary_, mode",
    [
        ({"monitor": "val_loss"}, "min"),
        ({"monitor": "val_sparse_categorical_crossentropy_loss"}, "min"),
        ({"monitor": "val_error_rate"}, "min"),
        ({"monitor": "val_accuracy"}, "max"),
        ({"monitor": "val_auc"}, "max"),
        ({"monitor": "val_loss", "mode": "max"}, "max"),  # the writer's resolved mode wins
        ({}, "max"),
    ],
)
def test_monitor_mode(summary_, mode):
    assert plugin_lib.monitor_mode(summary_) == mode


def decided(order, best, kept, value=None, gain=None, low=None, high=None, rule="", note=""):
    return {
        "order": order,
        "best": best,
        "monitor": "val_accuracy",
        "mode": "max",
        "decision": {"kept": kept, "value": value, "gain": gain, "low": low, "high": high,
                     "rule": rule, "note": note},
    }  # fmt: skip


def test_a_recorded_decision_is_shown_as_it_is():
    """kit.improve's steps: a gain beyond noise decides, not the sign (numbers by hand)."""
    rows = ladder_rows(
        {
            "00-baseline": decided(0, 0.9, True, value=0.8),
            "01-augment": decided(1, 0.95, False, value=0.82, gain=0.02, low=-0.01, high=0.05,
                                  rule="McNemar p=0.250 (keep at <= 0.10)"),  # fmt: skip
            "02-image_size": decided(2, 0.97, True, value=0.9, gain=0.1, low=0.05, high=0.15,
                                     rule="McNemar p=0.001 (keep at <= 0.10)"),  # fmt: skip
            "03-depth": decided(3, 0.99, None, value=None),  # judged later: pending
        }
    )
    assert [(r["kept"], r["value"], r["gain"], r["low"], r["high"]) for r in rows] == [
        (True, 0.8, None, None, None),
        (False, 0.82, 0.02, -0.01, 0.05),  # a positive gain, rejected: below the threshold
        (True, 0.9, 0.1, 0.05, 0.15),
        (None, 0.99, None, None, None),  # no judged value yet: the best epoch's
    ]
    assert rows[1]["better"] is True and rows[1]["rule"].startswith("McNemar p=0.250")
    assert [r["delta_baseline"] for r in rows[1:3]] == pytest.approx([0.02, 0.1])
    assert {r["decided_by"] for r in rows} == {"writer"}
    assert plugin_lib.best_run(rows) == "02-image_size"  # the last kept, not the highest


def test_best_run_without_kept_rows_follows_the_mode():
    rows = [
        {"run": "a", "kept": None, "value": 0.5, "mode": "min"},
        {"run": "b", "kept": None, "value": 0.25, "mode": "min"},
    ]
    assert plugin_lib.best_run(rows) == "b"
    assert plugin_lib.best_run([]) is None


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
    assert result.attempted >= 8 and result.failed == 0


def test_a_zero_gain_is_neither_better_nor_kept():
    rows = ladder_rows({"a": summary(0, best=0.5), "b": summary(1, best=0.5)})
    assert (rows[1]["gain"], rows[1]["better"], rows[1]["kept"]) == (0.0, None, False)
