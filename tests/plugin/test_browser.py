"""The "Accuracy Kit" tab in a real browser: TensorBoard in a subprocess, headless Chromium.

Skipped (with the reason, shown by `-ra`) only when no Chromium is installed and not on
CI. On CI (`CI` set to a true value, as `.ci/run` and the usual CI services do) a missing
Chromium fails the test: the tab's only frontend test must not pass by being skipped.
`.ci/run` installs the Debian package `chromium` when it is missing.
"""

import contextlib
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


@contextlib.contextmanager
def tensorboard(logdir, num_runs, log_directory):
    """TensorBoard on `logdir` in a subprocess; yields its URL once the ladder lists
    `num_runs` runs with their latest summaries (decisions included)."""
    port = free_port()
    log = open(log_directory / "tensorboard.log", "wb")
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
                if len(runs) == num_runs and all(row["kept"] is not None for row in runs):
                    break
            except (urllib.error.URLError, ConnectionError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"TensorBoard did not list the {num_runs} runs in 90 s")
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
    """Collects, per `tr.ladder-row` in page order: its attributes, the text and classes of
    its cells (by `col-<key>`, the folded diff's text left out), and its folded diff
    (`details.config-diff`: its `open` state, summary text and lines)."""

    def __init__(self):
        super().__init__()
        self.rows = []
        self._in_row = False
        self._cell = None
        self._in_details = False
        self._in_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "tr":
            self._in_row = "ladder-row" in classes
            if self._in_row:
                self.rows.append({"attrs": attrs, "cells": {}, "classes": {}, "diff": None})
        elif tag == "td" and self._in_row:
            self._cell = next((c[4:] for c in classes if c.startswith("col-")), None)
            self.rows[-1]["cells"][self._cell] = ""
            self.rows[-1]["classes"][self._cell] = classes
        elif tag == "details" and self._in_row and "config-diff" in classes:
            self._in_details = True
            self.rows[-1]["diff"] = {"open": "open" in attrs, "summary": "", "lines": []}
        elif tag == "summary" and self._in_details:
            self._in_summary = True
        elif tag == "li" and self._in_details:
            self.rows[-1]["diff"]["lines"].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._in_row = False
        elif tag == "details":
            self._in_details = False
        elif tag == "summary":
            self._in_summary = False

    def handle_data(self, data):
        if self._in_details:
            diff = self.rows[-1]["diff"]
            if self._in_summary:
                diff["summary"] += data
            elif diff["lines"]:
                diff["lines"][-1] += data
        elif self._cell is not None:
            self.rows[-1]["cells"][self._cell] += data


class Captions(html.parser.HTMLParser):
    """The classes of the worst predictions' `figcaption`s, in page order."""

    def __init__(self):
        super().__init__()
        self.classes = []

    def handle_starttag(self, tag, attrs):
        if tag == "figcaption":
            self.classes.append(dict(attrs).get("class"))


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


def dump_rows(browser, profile, page):
    """`(rows, page text)` of the tab as Chromium renders it."""
    dom = run_browser(browser, profile, "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    text = dom.stdout.decode()
    parser = LadderRows()
    parser.feed(text)
    return parser.rows, text


def screenshot(browser, profile, page, path):
    """A 1280x1600 screenshot of `page` at `path`; checks it is not blank."""
    shot = run_browser(
        browser, profile, f"--screenshot={path}", "--window-size=1280,1600",
        "--hide-scrollbars", page,
    )  # fmt: skip
    assert shot.returncode == 0 and path.exists(), shot.stderr.decode(errors="replace")
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert image.size == (1280, 1600)
    # Not a blank page: the bars and the table draw many distinct colours.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
    return image


def pp(value):
    """A gain as the tab writes it for an accuracy: `+1.40 pp`, `−0.28 pp`, `±0.00 pp`."""
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{100 * abs(value):.2f} pp"


def pp_interval(low, high):
    """The interval as the tab writes it: `[−0.2, +3.0]` (pp, one decimal)."""

    def one(value):
        return ("+" if value > 0 else "−" if value < 0 else "±") + f"{100 * abs(value):.1f}"

    return f"[{one(low)}, {one(high)}]"


def entry_page(url):
    return f"{url}/data/plugin_entry.html?name=accuracy_kit"


def test_tab_shows_the_three_runs_in_order_with_kept_marks(ladder_logdir, tmp_path):
    """Runs without a recorded decision: the tab keeps what beats the best kept run."""
    browser = require_browser()
    logdir, ladder = ladder_logdir
    with tensorboard(logdir, len(ladder), tmp_path) as url:
        rows, text = dump_rows(browser, tmp_path / "profile-dom", entry_page(url))
        assert [row["attrs"]["data-run"] for row in rows] == [name for name, _, _ in ladder]
        assert [row["cells"]["change"] for row in rows] == [change for _, change, _ in ladder]
        bests = [best for _, _, best in ladder]
        best_so_far = None
        for i, row in enumerate(rows):
            assert float(row["attrs"]["data-value"]) == pytest.approx(bests[i], abs=1e-7)
            assert row["cells"]["value"] == f"{100 * bests[i]:.2f} %"
            kept = best_so_far is None or bests[i] > best_so_far
            assert row["attrs"]["data-kept"] == str(kept).lower()
            assert row["cells"]["kept"] == ("✓ kept" if kept else "✗ rejected")
            if best_so_far is None:
                assert "data-gain" not in row["attrs"] and row["cells"]["gain"] == "–"
            else:
                gain = bests[i] - best_so_far
                assert float(row["attrs"]["data-gain"]) == pytest.approx(gain, abs=1e-7)
                assert row["cells"]["gain"] == pp(gain)  # no interval: the tab's own rule
                assert ("gain" if gain > 0 else "loss") in row["classes"]["gain"]
            if kept:
                best_so_far = bests[i]
        assert "higher is better" in text
        # The last kept run's details are open: its confusion matrix and worst predictions.
        assert 'id="confusion-matrix"' in text and 'id="worst-predictions"' in text
        assert text.count('class="worst-item"') == 16
        last_kept = [row for row in rows if row["attrs"]["data-kept"] == "true"][-1]
        last_run = last_kept["attrs"]["data-run"]
        detail = get_json(f"{url}/data/plugin/accuracy_kit/run?run={last_run}")
        captions = Captions()
        captions.feed(text)
        # Red (class "wrong") only for wrong predictions, not for right ones with low p.
        assert captions.classes == [
            "right" if item["true"] == item["predicted"] else "wrong" for item in detail["worst"]
        ]

        # Sorted by value (an accuracy: highest first), as the first click on "value" does.
        rows, text = dump_rows(browser, tmp_path / "profile-sort", entry_page(url) + "&sort=value")
        by_value = sorted(ladder, key=lambda rung: -rung[2])
        assert [row["attrs"]["data-run"] for row in rows] == [name for name, _, _ in by_value]
        assert 'data-key="value" class="numeric">value ▼' in text


def test_tab_shows_the_ladders_decisions_with_the_cli_tables_numbers(improve_logdir, tmp_path):
    """A real `kit.improve`: kept marks, gains and intervals as `result.table()` prints them,
    the one-line change with the full config diff folded."""
    browser = require_browser()
    logdir, result = improve_logdir
    steps = [
        (f"{index:02d}-{step.name}", step)
        for index, step in enumerate(result.steps)
        if step.val_accuracy is not None
    ]
    table = {int(line.split()[0]): line for line in result.table().splitlines()[1:]
             if line[:1].isdigit()}  # fmt: skip
    from keras_accuracy_kit import History

    with History(result.directory) as history:
        versions = {version.id: version for version in history.versions()}
    with tensorboard(logdir, len(steps), tmp_path) as url:
        rows, text = dump_rows(browser, tmp_path / "profile-dom", entry_page(url))
        assert [row["attrs"]["data-run"] for row in rows] == [run for run, _ in steps]
        for row, (run, step) in zip(rows, steps):
            cli = table[int(run[:2])].split()
            # The CLI's columns: #, step, accuracy, gain [low, high] (or -), kept, ...
            assert row["cells"]["value"] == f"{100 * float(cli[2]):.2f} %"
            assert float(row["attrs"]["data-value"]) == step.val_accuracy
            kept = cli[4 if step.delta is None else 6] == "yes"
            assert kept is step.kept
            assert row["attrs"]["data-kept"] == str(kept).lower()
            assert row["cells"]["kept"] == ("✓ kept" if kept else "✗ rejected")
            assert ("kept" if kept else "rejected") in row["attrs"]["class"].split()
            if step.delta is None:
                assert cli[3] == "-" and row["cells"]["gain"] == "–"
            else:
                gain, low, high = float(cli[3]), float(cli[4][1:-1]), float(cli[5][:-1])
                assert float(row["attrs"]["data-gain"]) == step.delta  # the same number
                assert row["cells"]["gain"] == f"{pp(gain)} {pp_interval(low, high)}"
                assert (f"{step.delta:+.4f}", f"{step.low:+.3f}", f"{step.high:+.3f}") == (
                    cli[3], cli[4][1:-1], cli[5][:-1]
                )
                assert row["cells"]["rule"] == step.rule  # the noise threshold and p-value
                # Green only for what paid off; a positive gain below the threshold is grey.
                colour = ("gain" if step.kept else "below-noise") if step.delta > 0 else (
                    "loss" if step.delta < 0 else "neutral"
                )
                assert colour in row["classes"]["gain"]
                assert step.rule.startswith("McNemar p=")
            # One line for the change; the version's full diff folded under it.
            assert row["cells"]["change"] == step.change == row["attrs"]["data-change"]
            changes = versions[step.version].changes
            assert row["diff"]["open"] is False
            assert row["diff"]["lines"] == changes
            assert row["diff"]["summary"].startswith(f"config diff ({len(changes)} line")
        assert any(row["attrs"]["data-kept"] == "false" for row in rows)
        assert 'class="bar kept' in text and 'class="bar rejected' in text
        shot = screenshot(browser, tmp_path / "profile-shot", entry_page(url),
                          tmp_path / "improve.png")  # fmt: skip
        destination = os.environ.get("KAK_TAB_SCREENSHOT")
        if destination:  # `KAK_TAB_SCREENSHOT=docs/accuracy_kit_tab.png pytest ...`
            shot.save(destination)


def test_a_val_loss_ladder_is_coloured_and_sorted_by_mode(loss_logdir, tmp_path):
    """`monitor="val_loss"`: a falling loss is kept and green, a rising one rejected and
    red; sorted by value, the lowest comes first; the tab opens on the lowest kept."""
    browser = require_browser()
    logdir, ladder = loss_logdir
    with tensorboard(logdir, len(ladder), tmp_path) as url:
        rows, text = dump_rows(browser, tmp_path / "profile-dom", entry_page(url))
        assert "lower is better" in text
        losses = [loss for _, _, loss in ladder]
        best_so_far, expected = None, []
        for i, row in enumerate(rows):
            assert row["attrs"]["data-mode"] == "min"
            assert row["cells"]["value"] == f"{losses[i]:.4f}"
            kept = best_so_far is None or losses[i] < best_so_far
            assert row["attrs"]["data-kept"] == str(kept).lower()
            if best_so_far is not None:
                gain = losses[i] - best_so_far
                assert float(row["attrs"]["data-gain"]) == pytest.approx(gain, abs=1e-6)
                # Coloured by mode: a negative gain of a loss is good (green), not red.
                assert ("gain" if gain < 0 else "loss") in row["classes"]["gain"]
                expected.append((kept, gain < 0))
            if kept:
                best_so_far = losses[i]
        assert expected == [(True, True), (False, False)]  # 4 epochs lower it, a tiny rate not
        kept_runs = [r["attrs"]["data-run"] for r in rows if r["attrs"]["data-kept"] == "true"]
        assert f"({kept_runs[-1]})" in text  # the details opened on the lowest kept loss

        rows, text = dump_rows(browser, tmp_path / "profile-sort", entry_page(url) + "&sort=value")
        by_value = sorted(ladder, key=lambda rung: rung[2])  # lower is better: lowest first
        assert [row["attrs"]["data-run"] for row in rows] == [name for name, _, _ in by_value]
        assert 'data-key="value" class="numeric">value ▲' in text


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
