"""Trains tiny models into shared history directories at the same time as other processes
(run by test_concurrency.py).

Each trial has two rounds: every process trains the same configuration into one directory
("same"), then its own configuration into another ("different"). A barrier of files makes
the processes start each round together. A callback placed before CheckpointOnChange puts
`worker` and `trial` into the epoch logs, so the test can tell whose epochs were recorded.
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def barrier(root, name, worker, workers, timeout=300.0):
    pathlib.Path(root, f".ready-{name}-{worker}").touch()
    deadline = time.monotonic() + timeout
    while len(list(pathlib.Path(root).glob(f".ready-{name}-*"))) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"barrier {name}: the other processes did not come")
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()

    import keras

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    import keras_accuracy_kit as kit
    from tests.history.helpers import digits_data, digits_model

    x, y, vx, vy = digits_data()
    x, y, vx, vy = x[:128], y[:128], vx[:100], vy[:100]

    class Tag(keras.callbacks.Callback):
        def __init__(self, trial):
            super().__init__()
            self.trial = trial

        def on_epoch_end(self, epoch, logs=None):
            logs["worker"] = float(args.worker)
            logs["trial"] = float(self.trial)

    # One model, traced once, trains in every round (each fit continues its weights): the
    # rounds differ by `hparams` only, which is what the fingerprint compares.
    keras.utils.set_random_seed(args.worker)
    model = digits_model(units=16)
    for trial in range(args.trials):
        for kind in ("same", "different"):
            hparams = {"round": kind} if kind == "same" else {"worker": args.worker}
            callback = kit.callbacks.CheckpointOnChange(
                os.path.join(args.root, f"{kind}-{trial}"), monitor="val_loss", hparams=hparams
            )
            barrier(args.root, f"{kind}-{trial}", args.worker, args.workers)
            model.fit(
                x,
                y,
                validation_data=(vx, vy),
                epochs=args.epochs,
                batch_size=64,
                callbacks=[Tag(trial), callback],
                verbose=0,
            )
    print("done", flush=True)


if __name__ == "__main__":
    main()
