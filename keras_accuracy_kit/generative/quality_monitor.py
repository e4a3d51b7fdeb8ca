"""QualityMonitor: puts a GAN's class consistency and Fréchet distance into the epoch logs."""

import keras
import numpy as np

from keras_accuracy_kit._core import checks, periodic

_OWNER = "QualityMonitor"


class QualityMonitor(keras.callbacks.Callback):
    """Measures the GAN being trained every `every` epochs and adds the figures to `logs`.

    Adds `logs["class_consistency"]` and `logs["frechet_distance"]` (see
    `QualityJudge.measure`); a `keras.callbacks.TensorBoard` placed after it in the
    callback list writes them each epoch, as it writes the losses.

    Args:
        judge: `QualityJudge`, trained on real data.
        images: Array. Real images the generated ones are compared with.
        num_images: Int. Generated images per measurement (classes balanced). Defaults to
            `1000`.
        every: Int. Measure every this many epochs (and after the last). Defaults to `1`.
        seed: Int. Seeds the generated images (the same every time, so the figures follow
            the generator alone). Defaults to `0`.

    Example:

    ```python
    gan.fit(train, epochs=300, callbacks=[
        kit.generative.QualityMonitor(judge, images, every=10),
        keras.callbacks.TensorBoard("logs/gan"),
    ])
    ```
    """

    def __init__(self, judge, images, num_images=1000, every=1, seed=0):
        super().__init__()
        self.judge = judge
        self.images = images
        self.num_images = checks.check_positive_int(_OWNER, "num_images", num_images, 1000)
        self.every = checks.check_positive_int(_OWNER, "every", every, 1)
        self.seed = checks.check_seed(_OWNER, seed)
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if not periodic.due(epoch, self.every, self.params):
            return
        labels = np.arange(self.num_images) % self.model.num_classes
        generated = self.model.generate(labels, seed=self.seed)
        figures = self.judge.measure(generated, labels, self.images)
        self.history.append((epoch, figures["class_consistency"], figures["frechet_distance"]))
        if logs is not None:
            logs["class_consistency"] = figures["class_consistency"]
            logs["frechet_distance"] = figures["frechet_distance"]
