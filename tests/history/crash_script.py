"""Trains with CheckpointOnChange until it is killed (run by test_crash_safety.py).

Before CheckpointOnChange sees an epoch, a recorder appends the model's predictions on a
fixed probe to `--probe-log` (fsynced), keyed by run and epoch, so that the test can check
that whatever the history committed predicts exactly as the model did at that epoch.

`--wait-for-go`: import and build first, print "ready", then wait for a line on stdin
(the test starts the next run while it checks the previous one). `--kill-at PHASE`: the
process kills itself (SIGKILL) at one phase of its `--kill-at-write`-th best-model write:

- `save`: `model.save` has written half of the temporary file;
- `fsync`: the complete temporary file is fsynced, not yet renamed;
- `rename`: the model file has its final name, the index does not name it yet;
- `transaction`: inside the epoch's index transaction, before its COMMIT;
- `commit`: the transaction is committed, the previous best file not yet removed.
"""

import argparse
import json
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PHASES = ("save", "fsync", "rename", "transaction", "commit")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def inject_kill(phase, write, keras, index):
    """Patches the writers so that the process dies at `phase` of best-model write `write`."""
    count = {"saves": 0, "set_best": 0}
    real_save, real_fsync, real_replace = keras.Model.save, os.fsync, os.replace
    real_remove, real_set_best = os.remove, index.set_best

    def save(model, path, *args, **kwargs):
        real_save(model, path, *args, **kwargs)
        count["saves"] += 1
        if phase == "save" and count["saves"] == write:
            with open(path, "r+b") as stream:  # a torn temporary file: half of it
                stream.truncate(os.path.getsize(path) // 2)
                stream.flush()
                real_fsync(stream.fileno())
            die()

    def fsync(descriptor):
        real_fsync(descriptor)
        if phase == "fsync" and count["saves"] == write:
            die()  # the first fsync after the save is its temporary file's

    def replace(source, destination, *args, **kwargs):
        real_replace(source, destination, *args, **kwargs)
        if phase == "rename" and count["saves"] == write and destination.endswith(".keras"):
            die()

    def set_best(*args, **kwargs):
        real_set_best(*args, **kwargs)
        count["set_best"] += 1
        if phase == "transaction" and count["set_best"] == write:
            die()

    def remove(path, *args, **kwargs):
        if phase == "commit" and count["set_best"] == write and str(path).endswith(".keras"):
            die()  # the old best's removal comes right after the commit
        real_remove(path, *args, **kwargs)

    keras.Model.save = save
    os.fsync, os.replace, os.remove = fsync, replace, remove
    index.set_best = set_best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--probe-log", required=True)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--wait-for-go", action="store_true")
    parser.add_argument("--kill-at", choices=PHASES, default=None)
    parser.add_argument("--kill-at-write", type=int, default=3)
    args = parser.parse_args()

    import keras

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    import keras_accuracy_kit as kit
    from tests.history.helpers import digits_data, digits_model, probe

    keras.utils.set_random_seed(args.run)
    x, y, _, _ = digits_data()
    probe_images = probe()

    class ProbeRecorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            predictions = self.model.predict_on_batch(probe_images)
            line = {"run": args.run, "epoch": epoch, "predictions": predictions.tolist()}
            with open(args.probe_log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    class CommitAnnouncer(keras.callbacks.Callback):
        """Says when the first epoch is in the index (the callback before it wrote it)."""

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                print("committed", flush=True)

    model = digits_model(learning_rate=3e-3)
    if args.wait_for_go:
        print("ready", flush=True)
        sys.stdin.readline()
    if args.kill_at:
        from keras_accuracy_kit.history import index

        inject_kill(args.kill_at, args.kill_at_write, keras, index)
    callbacks = [
        ProbeRecorder(),
        kit.callbacks.CheckpointOnChange(
            args.directory, monitor="loss", mode="min", hparams={"run": args.run}
        ),
        CommitAnnouncer(),
    ]
    print("training", flush=True)
    model.fit(x[:256], y[:256], batch_size=128, epochs=args.epochs, callbacks=callbacks, verbose=0)


if __name__ == "__main__":
    main()
