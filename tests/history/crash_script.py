"""Trains with CheckpointOnChange until it is killed (run by test_crash_safety.py).

Before CheckpointOnChange sees an epoch, a recorder appends the model's predictions on a
fixed probe to `--probe-log` (fsynced), keyed by run and epoch, so that the test can check
that whatever the history committed predicts exactly as the model did at that epoch.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--probe-log", required=True)
    parser.add_argument("--epochs", type=int, default=400)
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
