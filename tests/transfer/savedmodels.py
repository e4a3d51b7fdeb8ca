"""Builders of tiny SavedModels in the three common shapes, for the transfer tests.

Each takes inputs `(batch, 4)` float32 and returns features `(batch, 3)`.
"""

import keras
import numpy as np
import tensorflow as tf

INPUT_DIM = 4
FEATURE_DIM = 3


def _initial_kernel():
    return np.arange(INPUT_DIM * FEATURE_DIM, dtype="float32").reshape(INPUT_DIM, FEATURE_DIM) / 10


class HubStyleModule(tf.__internal__.tracking.AutoTrackable):
    """A TF2 "reusable SavedModel": `__call__(inputs, training)` plus variable lists.

    With `training=True` the features are doubled, so a test can see that `training`
    reached the SavedModel. `moving_scale` is a non-trainable variable.
    """

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(_initial_kernel(), name="kernel")
        self.bias = tf.Variable(tf.zeros([FEATURE_DIM]), name="bias")
        self.moving_scale = tf.Variable(1.0, trainable=False, name="moving_scale")
        self.variables = [self.kernel, self.bias, self.moving_scale]
        self.trainable_variables = [self.kernel, self.bias]
        self.regularization_losses = [
            tf.function(lambda: 0.0 * tf.reduce_sum(self.kernel), input_signature=[])
        ]

    @tf.function(
        input_signature=[tf.TensorSpec([None, INPUT_DIM], tf.float32), tf.TensorSpec([], tf.bool)]
    )
    def __call__(self, inputs, training):
        features = (tf.matmul(inputs, self.kernel) + self.bias) * self.moving_scale
        return tf.cond(training, lambda: 2.0 * features, lambda: features)


class PlainModule(tf.Module):
    """A plain `tf.Module` with a `__call__` tf.function (no `training`)."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(_initial_kernel(), name="kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, INPUT_DIM], tf.float32)])
    def __call__(self, inputs):
        return tf.nn.relu(tf.matmul(inputs, self.kernel))


def save_hub_style(path):
    tf.saved_model.save(HubStyleModule(), str(path))
    return str(path)


def save_plain_module(path, with_call=True):
    """`with_call=False` keeps only a `serving_default` signature returning a dict."""
    module = PlainModule()
    if with_call:
        tf.saved_model.save(module, str(path))
    else:
        serve = tf.function(
            lambda inputs: {"features": module(inputs), "logits": module(inputs)[:, :1]},
            input_signature=[tf.TensorSpec([None, INPUT_DIM], tf.float32, name="inputs")],
        )
        holder = tf.Module()
        holder.module = module
        tf.saved_model.save(holder, str(path), signatures={"serving_default": serve})
    return str(path)


def save_keras_export(path):
    inputs = keras.Input((INPUT_DIM,))
    outputs = keras.layers.Dense(FEATURE_DIM, activation="relu")(inputs)
    model = keras.Model(inputs, outputs)
    model.export(str(path), verbose=False)
    return str(path)
