"""The "Accuracy Kit" tab in a real browser: TensorBoard in a subprocess, headless Chromium.

Skipped (with the reason, shown by `-ra`) only when no Chromium is installed and not on
CI. On CI (`CI` set to a true value, as `.ci/run` and the usual CI services do) a missing
Chromium fails the test: the tab's only frontend test must not pass by being skipped.
`.ci/run` installs the Debian package `chromium` when it is missing.
"""

import html.parser
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from PIL import Image

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def on_ci(environ=None):
    """Whether `CI` is set to a true value (`true`, `1`, `yes`; GitHub, GitLab and `.ci/run`)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def require_browser(environ=None):
    """The browser's path; a skip off CI, a failure on CI, when there is none."""
    browser = find_browser()
    if browser is not None:
        return browser
    reason = (
        "Chromium is not installed (looked for "
        f"{', '.join(BROWSERS)} on PATH): install the Debian package with "
        "`apt-get install -y chromium` (`.ci/run` does when it can)."
    )
    if on_ci(environ):
        pytest.fail(f"on CI the browser test must run, not skip. {reason}", pytrace=False)
    pytest.skip(reason)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_fast_flag():
    """`true` where TensorBoard's Rust data server is installed, else the Python loader."""
    try:
        import tensorboard_data_server

        if tensorboard_data_server.server_binary():
            return "true"
    except ImportError:
        pass
    return "false"


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def tensorboard_url(ladder_logdir, tmp_path_factory):
    logdir, ladder = ladder_logdir
    port = free_port()
    log = open(tmp_path_factory.mktemp("tensorboard") / "tensorboard.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(logdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            f"--load_fast={load_fast_flag()}",
            "--reload_interval",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                log.flush()
                pytest.fail(f"TensorBoard exited with {process.returncode}; see {log.name}")
            try:
                runs = get_json(f"{url}/data/plugin/accuracy_kit/ladder")["runs"]
                if len(runs) == len(ladder):
                    break
            except (urllib.error.URLError, ConnectionError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"TensorBoard did not list the {len(ladder)} runs in 90 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class LadderRows(html.parser.HTMLParser):
    """Collects the attributes and cell texts of `tr.ladder-row` elements, in page order."""

    def __init__(self):
        super().__init__()
        self.rows = []
        self._in_row = False
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "tr":
            self._in_row = "ladder-row" in classes
            if self._in_row:
                self.rows.append({"attrs": attrs, "cells": {}})
        elif tag == "td" and self._in_row:
            self._cell = next((c[4:] for c in classes if c.startswith("col-")), None)
            self.rows[-1]["cells"][self._cell] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._in_row = False

    def handle_data(self, data):
        if self._cell is not None:
            self.rows[-1]["cells"][self._cell] += data


def run_browser(browser, profile, *arguments):
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        *arguments,
    ]
    return subprocess.run(
        command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL, check=False
    )


def test_tab_shows_the_three_runs_in_order_with_deltas(ladder_logdir, tensorboard_url, tmp_path):
    browser = require_browser()
    _, ladder = ladder_logdir
    page = f"{tensorboard_url}/data/plugin_entry.html?name=accuracy_kit"

    dom = run_browser(browser, tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    parser = LadderRows()
    parser.feed(dom.stdout.decode())
    rows = parser.rows
    assert [row["attrs"]["data-run"] for row in rows] == [name for name, _, _ in ladder]
    assert [row["cells"]["change"] for row in rows] == [change for _, change, _ in ladder]
    bests = [best for _, _, best in ladder]
    for i, row in enumerate(rows):
        assert float(row["attrs"]["data-best"]) == pytest.approx(bests[i], abs=1e-7)
        assert row["cells"]["best"] == f"{100 * bests[i]:.2f} %"
        if i == 0:
            assert "data-delta-previous" not in row["attrs"]
            assert row["cells"]["delta_previous"] == "–"
            continue
        for key, reference in (("previous", bests[i - 1]), ("baseline", bests[0])):
            delta = bests[i] - reference
            assert float(row["attrs"][f"data-delta-{key}"]) == pytest.approx(delta, abs=1e-7)
            sign = "+" if delta > 0 else "−" if delta < 0 else "±"
            assert row["cells"][f"delta_{key}"] == f"{sign}{100 * abs(delta):.2f} pp"
    # The best run's details are open: its confusion matrix and worst predictions.
    text = dom.stdout.decode()
    assert 'id="confusion-matrix"' in text and 'id="worst-predictions"' in text
    assert text.count('class="worst-item"') == 16

    # Sorted by best value, highest first (what a click on the "best" header does twice).
    dom = run_browser(
        browser, tmp_path / "profile-sort", "--dump-dom", page + "&sort=best&direction=desc"
    )
    parser = LadderRows()
    parser.feed(dom.stdout.decode())
    by_best = sorted(ladder, key=lambda rung: -rung[2])
    assert [row["attrs"]["data-run"] for row in parser.rows] == [name for name, _, _ in by_best]
    assert 'data-key="best" class="numeric">best ▼' in dom.stdout.decode()

    screenshot = tmp_path / "accuracy_kit_tab.png"
    shot = run_browser(
        browser,
        tmp_path / "profile-shot",
        f"--screenshot={screenshot}",
        "--window-size=1280,1600",
        "--hide-scrollbars",
        page,
    )
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr.decode(errors="replace")
    image = Image.open(io.BytesIO(screenshot.read_bytes()))
    assert image.size == (1280, 1600)
    # Not a blank page: the bars and the table draw many distinct colours.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "yes"])
def test_a_missing_browser_fails_on_ci_instead_of_skipping(monkeypatch, value):
    monkeypatch.setenv("PATH", "")  # no browser can be found
    with pytest.raises(pytest.fail.Exception, match="on CI the browser test must run"):
        require_browser({"CI": value})


@pytest.mark.parametrize("environ", [{}, {"CI": ""}, {"CI": "false"}, {"CI": "0"}])
def test_a_missing_browser_skips_off_ci(monkeypatch, environ):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        require_browser(environ)


def test_ci_run_declares_ci_so_a_skipped_browser_test_fails_there():
    import pathlib

    script = (pathlib.Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert 'export CI="${CI:-true}"' in script
