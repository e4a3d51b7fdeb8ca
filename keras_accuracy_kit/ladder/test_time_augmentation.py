"""Test-time augmentation: average a classifier's predictions over augmented copies."""

import keras
import tensorflow as tf

from keras_accuracy_kit.ladder.members import renamed
from keras_accuracy_kit.transforms.augment import Augment

_OWNER = "TestTimeAugmentation"


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class TestTimeAugmentation(keras.layers.Layer):
    """Returns the images and `num_augmentations` fixed augmented copies of them.

    The layer behind `kit.tta`: at inference it makes the same copies every time (copy
    `i` is augmented with the stateless seed `(seed, i)`), so predictions are
    deterministic and a saved model predicts the same after loading. Copies are mapped
    back to the input's value range, so the classifier after it sees what it was trained
    on. Use only label-preserving augmentations (check them with `augment.checked`).

    Input shape: `(N, H, W, C)`, in `augment.value_range` (or uint8).
    Output: a list of `num_augmentations + 1` float32 tensors of that shape, the original
    first.

    Args:
        augment: A `kit.augment(...)` (`Augment`) or its config dict.
        num_augmentations: Positive int. Augmented copies. Defaults to `8`.
        seed: Int. Seeds the copies. Defaults to `0`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np, keras_accuracy_kit as kit
    >>> layer = TestTimeAugmentation(kit.augment(rotation_range=10, seed=0), 2)
    >>> [view.shape for view in layer(np.zeros((4, 8, 8, 1), "float32"))]
    [TensorShape([4, 8, 8, 1]), TensorShape([4, 8, 8, 1]), TensorShape([4, 8, 8, 1])]
    """

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, augment, num_augmentations=8, seed=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(augment, dict):
            augment = keras.saving.deserialize_keras_object(augment)
        if not isinstance(augment, Augment):
            raise TypeError(
                f"{_OWNER}: `augment` must be a `kit.augment(...)`. Received: "
                f"augment={augment!r}. E.g. kit.augment(rotation_range=10)."
            )
        if (
            isinstance(num_augmentations, bool)
            or not isinstance(num_augmentations, int)
            or num_augmentations < 1
        ):
            raise ValueError(
                f"{_OWNER}: `num_augmentations` must be a positive int. Received: "
                f"num_augmentations={num_augmentations!r}. E.g. 8."
            )
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise ValueError(
                f"{_OWNER}: `seed` must be an int in [0, 2**31). Received: seed={seed!r}."
            )
        self.augment = augment
        self.num_augmentations = num_augmentations
        self.seed = seed
        self.trainable = False
        self._convert_input_args = False  # uint8 images stay uint8
        self._allow_non_tensor_positional_args = True

    def call(self, images):
        images = tf.convert_to_tensor(images)
        low, high = self.augment.value_range
        if images.dtype.is_integer:
            low, high = 0.0, float(images.dtype.max)
        views = [tf.cast(images, tf.float32)]
        for index in range(self.num_augmentations):
            seed = tf.constant([self.seed, index], tf.int32)
            augmented = self.augment.apply_with_seed(images, seed)
            views.append(tf.cast(augmented, tf.float32) * (high - low) + low)
        return views

    def compute_output_spec(self, images):
        return [
            keras.KerasTensor(images.shape, dtype="float32")  # one distinct tensor per view
            for _ in range(self.num_augmentations + 1)
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "augment": keras.saving.serialize_keras_object(self.augment),
                "num_augmentations": self.num_augmentations,
                "seed": self.seed,
            }
        )
        return config


def tta(model, augment, num_augmentations=8, seed=0):
    """Wraps a classifier so that it averages its predictions over augmented copies.

    Test-time augmentation (TTA): predicting on the image and a few label-preserving
    variants of it and averaging the class probabilities usually gains a little accuracy
    for free at training time (and costs `num_augmentations + 1` predictions per image).
    `kit.improve` adds it only when it pays on your validation data.

    Args:
        model: A `keras.Model` classifier taking images of one fixed shape.
        augment: A `kit.augment(...)` with label-preserving steps only, whose
            `value_range` is the range of the model's inputs.
        num_augmentations: Positive int. Augmented copies per image. Defaults to `8`.
        seed: Int. Seeds the copies: the same seed gives the same predictions. Defaults
            to `0`.

    Returns:
        A `keras.Model` with the same inputs and output shape as `model`, saved and
        loaded as `.keras` (with `safe_mode=True`).

    Example:

    ```python
    augment = kit.augment(rotation_range=10, width_shift_range=0.1, value_range=(0, 255))
    robust = kit.tta(model, augment.checked(train), num_augmentations=8)
    robust.predict(test_images)
    ```
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"kit.tta: `model` must be a keras.Model. Received: model={type(model).__name__}."
        )
    inputs = keras.Input(model.input_shape[1:], name="images")
    views = TestTimeAugmentation(augment, num_augmentations, seed, name="test_time_views")(inputs)
    predictions = [model(view) for view in views]
    outputs = keras.layers.Average(name="tta_average")(predictions)
    return keras.Model(inputs, outputs, name=f"{model.name}_tta")


def ensemble(models, name="ensemble"):
    """One `keras.Model` that averages the predictions of `models` (same inputs and outputs).

    Args:
        models: List of `keras.Model` classifiers taking the same input shape.
        name: String. The model's name. Defaults to `"ensemble"`.

    Returns:
        A `keras.Model`; a single model is returned as it is.

    Example:

    ```python
    both = kit.ladder.ensemble([model_a, model_b])
    both.predict(images)   # the mean of the two models' probabilities
    ```
    """
    models = list(models)
    if not models or not all(isinstance(model, keras.Model) for model in models):
        raise TypeError(
            f"kit.ladder.ensemble: `models` must be a non-empty list of keras.Model. "
            f"Received: {models!r}."
        )
    if len(models) == 1:
        return models[0]
    inputs = keras.Input(models[0].input_shape[1:], name="images")
    outputs = [
        # Each member gets a unique name inside the ensemble (they may share one).
        renamed(model, f"member_{index}")(inputs)
        for index, model in enumerate(models)
    ]
    return keras.Model(inputs, keras.layers.Average(name="ensemble_average")(outputs), name=name)
