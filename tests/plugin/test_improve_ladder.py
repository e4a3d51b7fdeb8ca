"""The `ladder` and `run` routes on a real `kit.improve`: the numbers of `result.table()`.

The ladder records its decision on every step it trains (`AccuracyReport.record_decision`);
the routes must show exactly those (kept, judged accuracy, gain over the best so far, its
interval, the rule), one TensorBoard run per trained step, each metric under one name, and
the HParams values in effect (the build function's depth, the trained image size).
"""

import re

import pytest
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard_plugin_accuracy_kit import plugin as plugin_lib

from keras_accuracy_kit import History


@pytest.fixture(scope="module")
def served(improve_logdir):
    logdir, result = improve_logdir
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = plugin_lib.AccuracyKitPlugin(
        base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
    )
    return multiplexer, plugin, result


def trained(result):
    """`[(run name, step)]` of the steps that trained (skipped ones have no run)."""
    return [
        (f"{index:02d}-{step.name}", step)
        for index, step in enumerate(result.steps)
        if step.val_accuracy is not None
    ]


def cli_rows(result):
    """`{index: (accuracy, gain, low, high, kept)}` parsed from the CLI's table text."""

    def number(text):
        return None if text in (None, "-") else float(text)

    rows = {}
    for line in result.table().splitlines()[1:]:
        match = re.match(
            r"(\d+)\s+\S+\s+([\d.]+|-)\s+(?:([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\]|-)\s+"
            r"(yes|no)\s",
            line,
        )
        if match:
            index, accuracy, gain, low, high, kept = match.groups()
            rows[int(index)] = (number(accuracy), number(gain), number(low), number(high),
                                kept == "yes")  # fmt: skip
    return rows


def test_one_run_per_trained_step_and_nothing_else(served):
    multiplexer, _, result = served
    assert sorted(multiplexer.Runs()) == sorted(run for run, _ in trained(result))


def test_every_metric_has_one_name(served):
    multiplexer, _, result = served
    for run, _ in trained(result):
        tags = multiplexer.Runs()[run]["tensors"]
        assert all(tag.split("/")[0] in ("epoch", "report", "accuracy_kit", "_hparams_")
                   for tag in tags), tags  # fmt: skip
        # Keras' own TensorBoard names (`epoch_accuracy` in train/ and validation/) are not
        # written next to the report's `epoch/accuracy`.
        assert not [tag for tag in tags if tag.startswith("epoch_")]
        names = [tag.split("/", 1)[-1] for tag in tags if tag.startswith("epoch/")]
        assert len(names) == len(set(names)) and {"accuracy", "val_accuracy"} <= set(names)


def test_ladder_rows_are_the_steps_of_the_result(served):
    _, plugin, result = served
    ladder = plugin.ladder_impl(tb_context.RequestContext(), "")
    rows = {row["run"]: row for row in ladder["runs"]}
    assert [row["run"] for row in ladder["runs"]] == [run for run, _ in trained(result)]
    for run, step in trained(result):
        row = rows[run]
        assert row["decided_by"] == "writer"
        assert row["kept"] is step.kept
        assert row["value"] == pytest.approx(step.val_accuracy, abs=1e-12)
        for key, reference in (("gain", step.delta), ("low", step.low), ("high", step.high)):
            assert (row[key] is None) == (reference is None), key
            if reference is not None:
                assert row[key] == pytest.approx(reference, abs=1e-12), key
        assert (row["rule"], row["note"], row["change"]) == (step.rule, step.note, step.change)
    assert any(not row["kept"] for row in ladder["runs"])  # learning_rate changes nothing
    kept = [run for run, step in trained(result) if step.kept]
    assert ladder["best_run"] == kept[-1] and ladder["mode"] == "max"


def test_ladder_numbers_equal_the_cli_table(served):
    _, plugin, result = served
    rows = {row["run"]: row for row in plugin.ladder_impl(tb_context.RequestContext(), "")["runs"]}
    table = cli_rows(result)
    for run, _ in trained(result):
        accuracy, gain, low, high, kept = table[int(run[:2])]
        row = rows[run]
        assert f"{row['value']:.4f}" == f"{accuracy:.4f}"
        assert row["kept"] is kept
        if gain is None:
            assert row["gain"] is None
            continue
        assert f"{row['gain']:+.4f}" == f"{gain:+.4f}"
        assert (f"{row['low']:+.3f}", f"{row['high']:+.3f}") == (f"{low:+.3f}", f"{high:+.3f}")


def test_run_route_has_the_full_config_diff_of_the_version(served):
    _, plugin, result = served
    with History(result.directory) as history:
        versions = {version.id: version for version in history.versions()}
    for run, step in trained(result):
        detail = plugin.run_impl(tb_context.RequestContext(), "", run)
        assert detail["changes"] == versions[step.version].changes
        assert detail["change"] == step.change  # the one line; the diff is the details
        assert detail["decision"]["kept"] is step.kept


def test_hparams_hold_the_values_in_effect(served):
    multiplexer, _, result = served
    for run, step in trained(result):
        content = multiplexer.SummaryMetadata(
            run, hparams_metadata.SESSION_START_INFO_TAG
        ).plugin_data.content
        hparams = hparams_metadata.parse_session_start_info_plugin_data(content).hparams
        assert hparams["depth"].number_value == 2  # tutorial_cnn's default, not 0
        size = re.match(r"resize to (\d+)x", step.change)
        expected = int(size.group(1)) if size else 8  # few-shot digits are 8x8
        assert hparams["image_size"].number_value == expected, run
        assert hparams["ladder_step"].string_value == step.name
