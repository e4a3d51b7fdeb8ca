"""D30/D31: strict JSON from every route, and one malformed run never breaks the others.

The log directory holds two healthy runs, one the kit itself wrote with NaN in it (NaN
hparams, a NaN per-class accuracy, a monitor that was always NaN), and malformed summaries
of every kind the probes found (non-UTF-8 bytes, a string `schema_version`, a string
`order` or `best`, a newer schema), served through TensorBoard's own WSGI app.
"""

import json
import math
import re

import pytest
import tensorflow as tf
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard_plugin_accuracy_kit import metadata
from tensorboard_plugin_accuracy_kit import plugin as plugin_lib
from werkzeug import test as werkzeug_test
from werkzeug import wrappers

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting.accuracy_report import _plugin_metadata
from tests.callbacks.scripted import tiny_model

PREFIX = "/data/plugin/accuracy_kit"

HEALTHY = {
    "good-a": {"schema_version": 1, "order": 0, "best": 0.5, "monitor": "val_accuracy"},
    "good-b": {
        "schema_version": 1,
        "order": 1,
        "best": 0.75,
        "monitor": "val_accuracy",
        "per_class_accuracy": [float("nan"), 0.5],
        "confusion_matrix": [[0, 0], [1, 1]],
        "delta_vs_parent": float("inf"),
    },
}
MALFORMED = {
    "bad-utf8": (b'{"schema_version": 1, "change": "\xff\xfe"}', r"not UTF-8"),
    "bad-json": (b"{not json", r"not JSON"),
    "bad-schema": (b'{"schema_version": "1"}', r"`schema_version` must be an integer"),
    "bad-order": (b'{"schema_version": 1, "order": "first"}', r"`order` must be a number"),
    "bad-best": (b'{"schema_version": 1, "best": "high"}', r"`best` must be a number"),
    "bad-changes": (b'{"schema_version": 1, "changes": "lr"}', r"`changes` must be a list"),
    "bad-worst": (b'{"schema_version": 1, "worst": [3]}', r"`worst` must be a list of objects"),
    "newer": (b'{"schema_version": 99}', r"newer keras-accuracy-kit"),
    "bad-decision": (b'{"schema_version": 1, "decision": [true]}', r"`decision` must be an"),
    "bad-kept": (
        b'{"schema_version": 1, "decision": {"kept": "yes"}}',
        r"`decision.kept` must be true, false or null; received 'yes'",
    ),
    "bad-gain": (
        b'{"schema_version": 1, "decision": {"kept": true, "gain": "+1"}}',
        r"`decision.gain` must be a number",
    ),
    "bad-rule": (
        b'{"schema_version": 1, "decision": {"kept": true, "rule": 3}}',
        r"`decision.rule` must be a string",
    ),
}


def write_summary(logdir, run, payload):
    writer = tf.summary.create_file_writer(str(logdir / run))
    with writer.as_default():
        tf.summary.write(
            metadata.SUMMARY_TAG,
            tf.constant(payload),
            step=0,
            metadata=_plugin_metadata(summary_pb2.DATA_CLASS_TENSOR),
        )
    writer.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("malformed")
    for run, summary in HEALTHY.items():
        write_summary(logdir, run, json.dumps(summary).encode("utf-8"))
    for run, (payload, _) in MALFORMED.items():
        write_summary(logdir, run, payload)
    # The kit's own writer, with NaN where training gave NaN.
    report = kit.callbacks.AccuracyReport(
        str(logdir / "kit-nan"), hparams={"x": float("nan")}, order=2, change="nan weights"
    )
    report.set_model(tiny_model())
    report.on_train_begin()
    for epoch in range(2):
        report.on_epoch_end(epoch, {"val_accuracy": float("nan"), "loss": float("nan")})
    report.on_train_end()

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = plugin_lib.AccuracyKitPlugin(
        base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
    )
    app = application.TensorBoardWSGI([plugin], data_provider=provider)
    return werkzeug_test.Client(app, wrappers.Response)


def strict_json(response):
    """Parses like a browser: bare NaN/Infinity are errors."""

    def refuse(constant):
        raise AssertionError(f"invalid JSON constant {constant} in {response.get_data()[:200]}")

    assert response.content_type == "application/json"
    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def test_ladder_lists_the_healthy_runs_and_names_the_bad_ones(served):
    # D31: one malformed summary made every route answer 500.
    response = served.get(f"{PREFIX}/ladder")
    assert response.status_code == 200
    ladder = strict_json(response)
    assert [row["run"] for row in ladder["runs"]] == ["good-a", "good-b", "kit-nan"]
    assert ladder["runs"][1]["gain"] == pytest.approx(0.25)  # over the best so far (good-a)
    assert ladder["runs"][1]["delta_vs_parent"] is None  # D30: inf is sent as null
    nan_run = ladder["runs"][2]
    assert nan_run["best"] is None and nan_run["gain"] is None and nan_run["kept"] is False
    assert ladder["best_run"] == "good-b" 
    bad = {entry["run"]: entry["error"] for entry in ladder["bad_runs"]}
    assert sorted(bad) == sorted(MALFORMED)
    for run, (_, reason) in MALFORMED.items():
        assert re.search(reason, bad[run]), (run, bad[run])


def test_runs_with_nan_are_strict_json(served):
    # D30: `/run` answered bare NaN for summaries the kit itself wrote.
    detail = strict_json(served.get(f"{PREFIX}/run?run=good-b"))
    assert detail["per_class_accuracy"] == [None, 0.5]
    detail = strict_json(served.get(f"{PREFIX}/run?run=kit-nan"))
    assert detail["hparams"]["x"] is None and detail["best"] is None
    assert detail["change"] == "nan weights"


@pytest.mark.parametrize("run", sorted(MALFORMED))
def test_a_malformed_run_is_a_422_that_says_why(served, run):
    response = served.get(f"{PREFIX}/run?run={run}")
    assert response.status_code == 422
    error = strict_json(response)["error"]
    assert f"summary of run {run!r} cannot be read" in error
    assert "The other runs are fine: ['good-a', 'good-b', 'kit-nan']" in error


def test_healthy_runs_and_images_still_answer(served):
    assert served.get(f"{PREFIX}/run?run=good-a").status_code == 200
    assert served.get(f"{PREFIX}/static/index.js").status_code == 200
    response = served.get(f"{PREFIX}/worst_image?run=good-a&index=0")
    assert response.status_code == 404 and "no worst-prediction images" in strict_json(response)[
        "error"
    ]


def test_json_safe_replaces_every_non_finite_number():
    value = {"a": [math.nan, {"b": -math.inf}], "c": (1.0, math.inf), "d": "NaN"}
    assert plugin_lib.json_safe(value) == {"a": [None, {"b": None}], "c": [1.0, None], "d": "NaN"}
