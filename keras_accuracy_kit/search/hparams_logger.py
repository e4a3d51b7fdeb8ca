"""HParamsLogger: one TensorBoard HParams record per trial."""

import keras
import tensorflow as tf


class HParamsLogger(keras.callbacks.Callback):
    """Writes a trial's hyper-parameter values to TensorBoard's HParams dashboard, once.

    `kit.search.tune` adds it for each TensorBoard log directory of a trial, in place of
    keras-tuner's own HParams callback (which would record values of inactive
    hyper-parameters too, and a second time when there are two TensorBoard callbacks).
    The metrics come from the TensorBoard callback's scalars in the same directory.

    Args:
        logdir: Path. The trial's TensorBoard directory.
        hparams: Dict of name to bool, int, float or string.
        trial_id: String. The trial's id (the HParams session name).

    Example:

    ```python
    model.fit(train, validation_data=val, callbacks=[
        keras.callbacks.TensorBoard("runs/tb/trial_0"),
        HParamsLogger("runs/tb/trial_0", {"num_blocks": 2}, trial_id="0")])
    ```
    """

    def __init__(self, logdir, hparams, trial_id):
        super().__init__()
        self.logdir = str(logdir)
        self.hparams = dict(hparams)
        self.trial_id = str(trial_id)

    def on_train_begin(self, logs=None):
        from tensorboard.plugins.hparams import api as hparams_api

        writer = tf.summary.create_file_writer(self.logdir)
        with writer.as_default():
            hparams_api.hparams(self.hparams, trial_id=self.trial_id)
        writer.close()
