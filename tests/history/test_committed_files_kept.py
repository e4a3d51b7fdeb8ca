"""A committed model file is never a leftover, however old; epoch times are real durations.

Two mutants of `CheckpointOnChange` survived the history's tests (issue 22): the clean-up
at train begin judging a committed model's record on its own (it deleted every committed
model file untouched for an hour), and an epoch's seconds computed with `+` instead of `-`.
"""

import os
import time

import keras_accuracy_kit as kit
from keras_accuracy_kit.history import checkpoint_on_change
from tests.history.helpers import digits_data, digits_model


def fit(directory, run, epochs):
    x, y, _, _ = digits_data()
    callback = kit.callbacks.CheckpointOnChange(directory, "loss", hparams={"run": run})
    started = time.perf_counter()
    digits_model().fit(
        x[:128], y[:128], batch_size=64, epochs=epochs, callbacks=[callback], verbose=0
    )
    return time.perf_counter() - started


def test_committed_files_older_than_the_stale_age_survive_a_new_run(tmp_path):
    seconds = fit(tmp_path, run=1, epochs=2)
    folder = tmp_path / "versions" / "1"
    names = sorted(os.listdir(folder))
    assert len(names) == 4  # best, last and their records
    old = time.time() - 2 * checkpoint_on_change.STALE_AFTER_SECONDS
    for name in names:
        os.utime(folder / name, (old, old))
    fit(tmp_path, run=2, epochs=1)  # a new version; its train begin cleans up
    assert sorted(os.listdir(folder)) == names
    with kit.History(tmp_path) as history:
        first = history.versions()[0]
        assert first.file_status == {"best": "ok", "last": "ok"}
        history.load(1)
        # Each epoch's recorded time is a duration inside the fit that measured it.
        times = [epoch["wall_time"] for epoch in history.epochs(1)]
    assert len(times) == 2 and all(0 < t for t in times) and sum(times) <= seconds
