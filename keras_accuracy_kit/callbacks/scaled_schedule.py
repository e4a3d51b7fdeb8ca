"""ScaledSchedule: a learning-rate schedule multiplied by a factor that callbacks can change."""

import keras
import numpy as np

from keras_accuracy_kit._core import checks


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class ScaledSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Multiplies a learning-rate schedule by a scale held in a variable.

    Keras' `ReduceLROnPlateau` cannot lower a learning rate that is a schedule (warm-up,
    cosine decay) or a callable (`Adam(learning_rate=lambda: 0.01)`): the optimizer
    refuses a new float. Wrapping the schedule keeps its shape and lets the kit's
    `ReduceLROnPlateau` lower it by changing `scale`, without retracing the training step.
    The scale is saved with the optimizer's config.

    Args:
        schedule: A `keras.optimizers.schedules.LearningRateSchedule` (or its serialized
            config), or a callable taking no arguments that returns the rate (as Keras
            optimizers accept).
        scale: Positive finite float. The current factor. Defaults to `1.0`.

    Example:

    >>> import keras
    >>> cosine = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=100)
    >>> scaled = ScaledSchedule(cosine, scale=0.5)
    >>> round(float(scaled(0)), 6)
    0.05
    """

    def __init__(self, schedule, scale=1.0):
        super().__init__()
        if isinstance(schedule, dict):
            schedule = keras.saving.deserialize_keras_object(schedule)
        if not callable(schedule) or isinstance(schedule, (type, keras.Variable)):
            raise ValueError(
                "ScaledSchedule: `schedule` must be a keras LearningRateSchedule or a "
                f"callable returning the rate. Received: schedule={schedule!r}. For a float "
                "learning rate no wrapper is needed."
            )
        expectation = "a positive number a float32 holds (up to 3.4e38, not rounding to 0)"
        fix = "1.0 leaves the schedule as it is."
        checks.check_number(
            "ScaledSchedule", "scale", scale, low=0, open_low=True,
            high=float(np.finfo(np.float32).max), expectation=expectation, fix=fix,
        )  # fmt: skip
        if np.float32(scale) == 0:  # held in a float32 variable
            raise ValueError(
                f"ScaledSchedule: `scale` must be {expectation}. Received: scale={scale!r}. {fix}"
            )
        self.schedule = schedule
        self.scale = keras.Variable(
            float(scale), dtype="float32", trainable=False, name="learning_rate_scale"
        )

    def __call__(self, step):
        if isinstance(self.schedule, keras.optimizers.schedules.LearningRateSchedule):
            value = self.schedule(step)
        else:
            value = self.schedule()
        value = keras.ops.convert_to_tensor(value)
        if not keras.backend.is_float_dtype(value.dtype):
            value = keras.ops.cast(value, "float32")
        return value * keras.ops.cast(self.scale, keras.backend.standardize_dtype(value.dtype))

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "scale": float(keras.ops.convert_to_numpy(self.scale)),
        }
