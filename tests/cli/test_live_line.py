"""`LiveLine`: a status line on terminals while a step trains, erased before other output."""

import io
import sys
import time

from keras_accuracy_kit.cli.live_line import LiveLine


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_line_is_drawn_and_erased_before_other_output():
    terminal = _Terminal()
    before = sys.stdout
    with LiveLine(stream=terminal, interval=0.02) as line:
        assert line.active and sys.stdout is not before
        time.sleep(0.2)
        print("[1] epochs: more epochs ...")
        time.sleep(0.2)
    assert sys.stdout is before
    drawn = terminal.getvalue()
    assert "  ... 0s in this step, 0s in all" in drawn
    # Erased (carriage return + clear line) before the print, and at the end.
    assert drawn.endswith("\r\033[K")
    assert drawn.count("\r\033[K") >= 2


def test_a_new_output_line_restarts_the_step_clock():
    line = LiveLine(stream=_Terminal())
    line.start = line.step_start = 100.0
    assert line.text(165.0) == "  ... 1min 05s in this step, 1min 05s in all"
    line.step_start = 160.0
    line.before_write("[2] augment: ...\n")
    assert line.step_start > 160.0


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    before = sys.stdout
    with LiveLine(stream=stream, interval=0.01) as line:
        assert not line.active and sys.stdout is before
        time.sleep(0.05)
    assert stream.getvalue() == ""
