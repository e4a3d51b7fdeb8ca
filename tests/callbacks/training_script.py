"""A small training run with the kit's callbacks, started as a separate process by the tests.

It exists so that tests can use what needs a fresh process: logical CPU devices,
MultiWorkerMirroredStrategy (TF_CONFIG), and a crash (SIGKILL) followed by a resume.
Every epoch it appends `{"epoch", "epoch_budget", "learning_rate", "loss"}` to
`<outdir>/record_<task>.jsonl`.

Keras 3's `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585: its
symbolic build reduces a PerReplica batch, then its metric reduction breaks), so with
`--strategy multiworker` the script drives the callbacks the way `fit` does -- same hooks,
same order, logs holding values all-reduced across the workers -- on a model built in the
strategy's scope. `--plain-keras-fit` runs bare `fit` instead, to watch that upstream bug.
"""

import argparse
import json
import os
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Monitored by ProgressiveEpochs: improves for 5 epochs, then stays flat, so with
# initial_epochs=3 and extension=2 the budget goes 3 -> 5 -> 7 and training stops after 7.
SCRIPTED = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--strategy", choices=["default", "mirrored", "multiworker"])
    parser.add_argument("--logical-cpus", type=int, default=1)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--backup-and-restore", action="store_true")
    parser.add_argument("--kill-after-epoch", type=int, default=None)
    parser.add_argument("--reduce-min-delta", type=float, default=0.0)
    parser.add_argument("--plain-keras-fit", action="store_true")
    parser.add_argument("--history-dir", default=None)
    return parser.parse_args()


def main():
    args = parse_arguments()
    import tensorflow as tf

    if args.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus
        )
    import keras
    from sklearn.datasets import load_digits

    import keras_accuracy_kit as kit

    keras.utils.set_random_seed(0)
    if args.strategy == "multiworker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    elif args.strategy == "mirrored":
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(args.logical_cpus)])
        task = 0
    else:
        strategy = tf.distribute.get_strategy()
        task = 0
    record_path = os.path.join(args.outdir, f"record_{task}.jsonl")

    class ScriptedMetric(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["scripted"] = SCRIPTED[epoch]

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            line = {
                "epoch": epoch,
                "epoch_budget": logs["epoch_budget"],
                "learning_rate": logs["learning_rate"],
                "loss": float(logs["loss"]),
                "replicas": strategy.num_replicas_in_sync,
            }
            with open(record_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == args.kill_after_epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    digits = load_digits()
    x = (digits.data[:512] / 16.0).astype("float32")
    y = digits.target[:512]
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.05),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    callbacks = [
        ScriptedMetric(),
        kit.callbacks.ProgressiveEpochs(
            monitor="scripted",
            mode="max",
            initial_epochs=3,
            extension=2,
            backup_dir=args.state_dir,
        ),
        kit.callbacks.ReduceLROnPlateau(
            monitor="loss",
            patience=1,
            factor=0.5,
            min_delta=args.reduce_min_delta,
            backup_dir=args.state_dir,
        ),
        Recorder(),
    ]
    if args.history_dir:
        callbacks.append(
            kit.callbacks.CheckpointOnChange(args.history_dir, monitor="loss", mode="min")
        )
    if args.backup_and_restore:
        callbacks.append(keras.callbacks.BackupAndRestore(args.state_dir))
    if args.kill_after_epoch is not None:
        callbacks.append(Crash())
    if args.plain_keras_fit:
        model.fit(dataset, epochs=2, verbose=0)
    elif args.strategy == "multiworker":
        drive_like_fit(model, callbacks, strategy, task)
    else:
        model.fit(dataset, epochs=len(SCRIPTED), callbacks=callbacks, verbose=0)


def drive_like_fit(model, callbacks, strategy, task):
    """Calls the callbacks' hooks as `fit` does, with all-reduced epoch logs."""
    import keras
    import tensorflow as tf

    callback_list = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(len(SCRIPTED)):
        callback_list.on_epoch_begin(epoch)
        # Each worker's own loss differs; Keras logs the mean over the workers.
        local_loss = 2.0 / (1 + min(epoch, 3)) + 0.5 * task
        loss = strategy.reduce(
            "MEAN", strategy.run(lambda value=local_loss: tf.constant(value)), axis=None
        )
        logs = {"loss": float(loss)}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()


if __name__ == "__main__":
    main()
