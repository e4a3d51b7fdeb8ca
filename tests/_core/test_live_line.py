"""`LiveLine`: a status line on terminals while a step trains, erased before other output."""

import io
import sys
import time

from keras_accuracy_kit._core.live_line import EpochStatus, LiveLine


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


def test_the_epoch_status_shows_on_the_line_until_the_next_output_line():
    line = LiveLine(stream=_Terminal())
    line.start = line.step_start = 100.0
    status = EpochStatus(line)
    status.on_epoch_end(11, {"val_accuracy": 0.8, "val_loss": 0.51234, "loss": 0.3})
    assert line.text(142.0) == (
        "  ... epoch 12, val_accuracy 0.8000, val_loss 0.5123 - 42s in this step, 42s in all"
    )
    line.before_write("    accuracy 0.8000 in 12 epochs\n")
    assert line.status == "" and "epoch" not in line.text(150.0)


def test_improve_at_verbose_1_shows_epochs_on_a_terminal(tmp_path, monkeypatch):
    import keras

    import keras_accuracy_kit as kit
    from keras_accuracy_kit._core import live_line
    from keras_accuracy_kit.ladder import few_shot_digits

    terminal = _Terminal()
    real = live_line.LiveLine
    monkeypatch.setattr(
        "keras_accuracy_kit.ladder.accuracy_ladder.LiveLine",
        lambda: real(stream=terminal, interval=0.01),
    )
    slow = []

    class SlowEpochs(keras.callbacks.Callback):  # gives the line time to be drawn
        def on_epoch_end(self, epoch, logs=None):
            time.sleep(0.03)
            slow.append(epoch)

    def build(input_shape, num_classes):
        model = keras.Sequential(
            [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(num_classes)]
        )
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    original_fit = keras.Model.fit
    monkeypatch.setattr(
        keras.Model,
        "fit",
        lambda self, *a, **k: original_fit(
            self, *a, **{**k, "callbacks": [*k.get("callbacks", []), SlowEpochs()]}
        ),
    )
    train, validation = few_shot_digits(per_class=3, seed=0)[:2]
    kit.improve(
        build, train, validation, tricks=[], epochs=5, folds=1, ensemble=False, tta=False,
        refit=False, logdir=str(tmp_path), verbose=1,
    )  # fmt: skip
    drawn = terminal.getvalue()
    assert slow and "  ... epoch " in drawn and "val_accuracy" in drawn, drawn[-500:]
