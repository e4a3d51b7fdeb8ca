"""The plugin's routes through TensorBoard's own WSGI app, over the `--load_fast=false` data
provider (the multiplexer); the browser test covers `--load_fast=true`."""

import io
import json
import re

import pytest
from PIL import Image
from tensorboard import context as tb_context
from tensorboard import errors
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard_plugin_accuracy_kit import plugin as plugin_lib
from werkzeug import test as werkzeug_test
from werkzeug import wrappers

PREFIX = "/data/plugin/accuracy_kit"


@pytest.fixture(scope="module")
def served(ladder_logdir):
    logdir, ladder = ladder_logdir
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = plugin_lib.AccuracyKitPlugin(
        base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
    )
    app = application.TensorBoardWSGI([plugin], data_provider=provider)
    return werkzeug_test.Client(app, wrappers.Response), plugin, ladder


def get_json(client, path, status=200):
    response = client.get(PREFIX + path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_ladder_lists_runs_in_order_with_deltas(served):
    client, _, ladder = served
    rows = get_json(client, "/ladder")["runs"]
    assert [(r["run"], r["change"], r["rank"]) for r in rows] == [
        (name, change, rank) for rank, (name, change, _) in enumerate(ladder)
    ]
    bests = [best for _, _, best in ladder]
    assert [r["best"] for r in rows] == [r["value"] for r in rows]  # no decision recorded
    assert [r["best"] for r in rows] == pytest.approx(bests, abs=1e-7)
    assert rows[0]["gain"] is None and rows[0]["delta_baseline"] is None and rows[0]["kept"]
    # Kept when it beats the best kept run before it; the gain is against that run.
    best_so_far = bests[0]
    for i in (1, 2):
        assert rows[i]["gain"] == pytest.approx(bests[i] - best_so_far, abs=1e-7)
        assert rows[i]["kept"] is (bests[i] > best_so_far)
        assert rows[i]["delta_baseline"] == pytest.approx(bests[i] - bests[0], abs=1e-7)
        best_so_far = max(best_so_far, bests[i])
    assert all(r["wall_time"] > 0 and r["monitor"] == "val_accuracy" for r in rows)
    assert all(r["mode"] == "max" and r["decided_by"] == "tab" for r in rows)


def test_run_details_and_worst_image(served):
    client, _, ladder = served
    name = ladder[2][0]
    detail = get_json(client, f"/run?run={name}")
    assert detail["run"] == name and detail["change"] == "augment: rotation_range=10"
    assert len(detail["confusion_matrix"]) == 10
    assert sum(map(sum, detail["confusion_matrix"])) == 200
    assert detail["num_images"] == len(detail["worst"]) == 16
    response = client.get(f"{PREFIX}/worst_image?run={name}&index=15")
    assert response.status_code == 200 and response.content_type == "image/png"
    assert Image.open(io.BytesIO(response.get_data())).size == (8, 8)


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/run", 400, "missing query parameter `run`"),
        ("/run?run=", 400, "missing query parameter `run`"),
        ("/run?run=nope", 404, "no Accuracy Kit summary for run 'nope'; runs with one: \\['a-"),
        ("/worst_image?run=b-augment", 400, "missing query parameter `index`"),
        ("/worst_image?run=b-augment&index=x", 400, "received index='x'"),
        ("/worst_image?run=b-augment&index=-1", 400, "received index='-1'"),
        ("/worst_image?run=b-augment&index=16", 404, "16 worst-prediction images"),
        ("/worst_image?run=nope&index=0", 404, "no worst-prediction images for run 'nope'"),
    ],
)
def test_bad_parameters_and_unknown_runs_are_4xx_with_a_message(served, path, status, message):
    client, _, _ = served
    error = get_json(client, path, status=status)["error"]
    assert re.search(message, error), error


def test_static_files_are_served(served):
    client, _, _ = served
    response = client.get(PREFIX + "/static/index.js")
    assert response.status_code == 200 and response.content_type.startswith("text/javascript")
    assert b"export async function render()" in response.get_data()
    assert client.get(PREFIX + "/static/style.css").content_type.startswith("text/css")


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2fplugin.py",
        "/static/..%2f..%2fsetup.cfg",
        "/static/%2e%2e%2fmetadata.py",
        "/static/../plugin.py",
        "/static/static/index.js",
        "/static/.%2findex.js",  # only exact names, not equivalent paths
        "/static/%2fetc%2fpasswd",
    ],
)
def test_static_route_refuses_path_traversal(served, path):
    client, _, _ = served
    response = client.get(PREFIX + path)
    assert response.status_code == 404
    assert json.loads(response.get_data())["error"].startswith("Not found: no static file")


def test_entry_page_loads_the_module(served):
    client, plugin, _ = served
    response = client.get("/data/plugin_entry.html?name=accuracy_kit")
    assert response.status_code == 200
    assert b'import("./static/index.js")' in response.get_data()
    assert plugin.frontend_metadata().tab_name == "Accuracy Kit"


def test_impl_raises_public_errors_without_wsgi(served):
    _, plugin, ladder = served
    ctx = tb_context.RequestContext()
    with pytest.raises(errors.NotFoundError, match="runs with one"):
        plugin.run_impl(ctx, "", "nope")
    assert plugin.run_impl(ctx, "", ladder[0][0])["change"] == "baseline"
    assert plugin_lib.static_file_impl({"a.js": (b"x", "text/javascript")}, "a.js")[0] == b"x"
