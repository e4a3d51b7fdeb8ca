"""ScaledSchedule: a learning-rate schedule multiplied by a factor that callbacks can change."""

import keras


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class ScaledSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Multiplies a learning-rate schedule by a scale held in a variable.

    Keras' `ReduceLROnPlateau` cannot lower a learning rate that is a schedule (warm-up,
    cosine decay): the optimizer refuses a new float. Wrapping the schedule keeps its shape
    and lets the kit's `ReduceLROnPlateau` lower it by changing `scale`, without retracing
    the training step. The scale is saved with the optimizer's config.

    Args:
        schedule: A `keras.optimizers.schedules.LearningRateSchedule` (or its serialized
            config).
        scale: Float. The current factor. Defaults to `1.0`.

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
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError(
                "ScaledSchedule: `schedule` must be a keras LearningRateSchedule. Received: "
                f"schedule={schedule!r}. For a float learning rate no wrapper is needed."
            )
        self.schedule = schedule
        self.scale = keras.Variable(
            float(scale), dtype="float32", trainable=False, name="learning_rate_scale"
        )

    def __call__(self, step):
        value = self.schedule(step)
        return value * keras.ops.cast(self.scale, keras.backend.standardize_dtype(value.dtype))

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "scale": float(keras.ops.convert_to_numpy(self.scale)),
        }
