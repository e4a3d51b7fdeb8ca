"""`LiveLine`: a status line on the terminal while the ladder works inside a step."""

import sys
import threading
import time

import keras

_ERASE = "\r\033[K"


class LiveLine:
    """Redraws `  ... epoch 12, val_accuracy 0.8000 - 42s in this step, 3min 05s in all`
    every second on a terminal.

    The ladder prints a line when a step starts and its result when it ends (`verbose=1`);
    this line shows the work in between: the last epoch's `status` (set by
    `EpochStatus`) and the time. It is erased before anything else is written to
    `sys.stdout` or `sys.stderr` (both are wrapped while it runs), and each new line of
    output restarts the step's clock and clears the status. Off when `stream` is not a
    terminal or a notebook (pipes, files, CI logs get no carriage returns).

    Args:
        stream: The terminal to draw on. Defaults to `sys.stderr`.
        interval: Float. Seconds between redraws. Defaults to `1.0`.

    Example:

    ```python
    with LiveLine() as line:
        model.fit(x, y, epochs=50, verbose=0, callbacks=[EpochStatus(line)])
    ```
    """

    def __init__(self, stream=None, interval=1.0):
        self.stream = stream or sys.stderr
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._shown = False
        self._thread = None
        self._saved = None
        self.start = self.step_start = None
        self.status = ""

    @property
    def active(self):
        return self._thread is not None

    def __enter__(self):
        isatty = getattr(self.stream, "isatty", None)
        # Notebooks redraw a line on a carriage return too (as Keras' `Progbar` assumes).
        if not ((isatty and isatty()) or "ipykernel" in sys.modules):
            return self
        self.start = self.step_start = time.monotonic()
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = _Erasing(sys.stdout, self), _Erasing(sys.stderr, self)
        self._thread = threading.Thread(target=self._run, name="kak-live-line", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self._thread is None:
            return False
        self._stop.set()
        self._thread.join()
        self._thread = None
        with self._lock:
            self._erase()
            sys.stdout, sys.stderr = self._saved
        return False

    def text(self, now):
        """The status line at monotonic time `now`."""
        status = f"{self.status} - " if self.status else ""
        return f"  ... {status}{_duration(now - self.step_start)} in this step, " \
            f"{_duration(now - self.start)} in all"  # fmt: skip

    def _run(self):
        while not self._stop.wait(self.interval):
            with self._lock:
                self._erase()
                self.stream.write(self.text(time.monotonic()))
                self.stream.flush()
                self._shown = True

    def _erase(self):
        if self._shown:
            self.stream.write(_ERASE)
            self.stream.flush()
            self._shown = False

    def before_write(self, text):
        """Called (under the lock) before other output: erase the line, maybe restart the clock."""
        self._erase()
        if "\n" in text:
            self.step_start = time.monotonic()
            self.status = ""


class EpochStatus(keras.callbacks.Callback):
    """Puts the epoch and its validation metrics into a `LiveLine`'s status.

    Args:
        line: The `LiveLine` (nothing happens while it is not active).
        metrics: Names of the epoch logs to show, when present. Defaults to
            `("val_accuracy", "val_loss")`.
    """

    def __init__(self, line, metrics=("val_accuracy", "val_loss")):
        super().__init__()
        self.line = line
        self.metrics = tuple(metrics)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = [f"{name} {float(logs[name]):.4f}" for name in self.metrics if name in logs]
        self.line.status = ", ".join([f"epoch {epoch + 1}"] + shown)


class _Erasing:
    """A text stream that erases the live line before each write."""

    def __init__(self, wrapped, live_line):
        self._wrapped = wrapped
        self._live_line = live_line

    def write(self, text):
        with self._live_line._lock:
            self._live_line.before_write(text)
            return self._wrapped.write(text)

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


def _duration(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}min {seconds % 60:02d}s"
