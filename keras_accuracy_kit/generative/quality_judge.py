"""QualityJudge: a small classifier of the real data that grades generated images."""

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.generative.quality import class_consistency, frechet_distance

_OWNER = "QualityJudge"
#: The layer whose output the Fréchet distance compares.
FEATURE_LAYER = "features"


class QualityJudge:
    """A small CNN trained on the real data, to grade a GAN's images in the data's terms.

    Two measures: class consistency (does the judge see the class the image was generated
    for?) and the Fréchet distance between real and generated images on the judge's
    penultimate features (a 64-unit ReLU `Dense` layer after two convolutions and global
    average pooling). Both are relative to this judge: compare GANs with one judge.

    Args:
        image_shape: Tuple `(height, width, channels)`.
        num_classes: Int. The number of classes.
        value_range: Pair of floats. The range of float images. Defaults to `(0.0, 1.0)`.
        seed: Optional int. Seeds the weights and the shuffling. Defaults to `0`.

    Example:

    ```python
    judge = kit.generative.QualityJudge((8, 8, 1), 10, seed=0)
    judge.fit(train_images, train_labels)
    print(judge.measure(gan.generate(labels), labels, test_images))
    ```
    """

    def __init__(self, image_shape, num_classes, value_range=(0.0, 1.0), seed=0):
        self.image_shape = tuple(int(v) for v in image_shape)
        self.num_classes = checks.check_int(_OWNER, "num_classes", num_classes, 2, 10)
        self.value_range = checks.check_value_range(_OWNER, value_range)
        self.seed = checks.check_seed(_OWNER, seed)
        seeds = iter(range(1 if seed is None else seed * 100 + 1, 10**9))

        def init():
            return keras.initializers.GlorotUniform(seed=None if seed is None else next(seeds))

        inputs = keras.Input(self.image_shape)
        x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init())(inputs)
        x = keras.layers.Conv2D(
            64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init()
        )(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        features = keras.layers.Dense(64, activation="relu", kernel_initializer=init(), name=FEATURE_LAYER)(x)
        logits = keras.layers.Dense(self.num_classes, kernel_initializer=init())(features)
        self.model = keras.Model(inputs, logits, name="quality_judge")
        self.feature_model = keras.Model(inputs, features)
        self.model.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )

    def _unit(self, images):
        return checks.to_unit_float(tf.convert_to_tensor(images), self.value_range)

    def fit(self, images, labels, epochs=40, batch_size=64):
        """Trains the judge on real `(images, labels)`; returns the Keras `History`."""
        epochs = checks.check_positive_int(_OWNER, "epochs", epochs, 40)
        return self.model.fit(
            self._unit(images), np.asarray(labels).reshape(-1), epochs=epochs,
            batch_size=batch_size, shuffle=True, verbose=0,
        )  # fmt: skip

    def predict(self, images):
        """Predicted class ids."""
        return self.model.predict(self._unit(images), verbose=0).argmax(axis=-1)

    def features(self, images):
        """The penultimate features `(N, 64)` the Fréchet distance compares."""
        return self.feature_model.predict(self._unit(images), verbose=0)

    def measure(self, generated, generated_labels, real):
        """Grades generated images against real ones.

        Args:
            generated: Array `(N, *image_shape)` of generated images (data units).
            generated_labels: Array `(N,)`: the labels they were generated for.
            real: Array `(M, *image_shape)` of real images.

        Returns:
            A dict with `class_consistency`, `frechet_distance`, `num_images` and
            `feature` (what the distance compares).
        """
        return {
            "class_consistency": class_consistency(self.predict(generated), generated_labels),
            "frechet_distance": frechet_distance(self.features(real), self.features(generated)),
            "num_images": int(len(generated_labels)),
            "feature": f"QualityJudge penultimate Dense(64, relu) '{FEATURE_LAYER}'",
        }
