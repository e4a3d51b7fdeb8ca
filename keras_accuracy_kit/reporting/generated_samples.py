"""GeneratedSamples: a grid of a class-conditional GAN's samples, one row per class, in
TensorBoard each epoch."""

import keras
import numpy as np

from keras_accuracy_kit._core import checks, distribution, periodic
from keras_accuracy_kit.reporting.image_grid import image_grid, write_image_grid

_OWNER = "GeneratedSamples"
TAG = "generated/per_class"


class GeneratedSamples(keras.callbacks.Callback):
    """Writes `per_class` generated images of every class (a row each) every `every` epochs.

    The noise is the same at every epoch (`seed`), so the rows show how the generator's
    images of each class change with training. Only the chief writes (under a
    `tf.distribute` strategy, or a multi-worker cluster).

    Args:
        logdir: Path. The TensorBoard run the grids go to (e.g. the `log_dir` of your
            `keras.callbacks.TensorBoard`); created if missing.
        per_class: Positive int. Images per class (the row's length). Defaults to `8`.
        every: Positive int. Write every this many epochs (and after the last). Defaults
            to `1`.
        seed: Int. Seeds the noise (`gan.generate(labels, seed=seed)`). Defaults to `0`.
        class_names: Optional list of strings, one per class, named in the description.
            Defaults to `None`.
        png: Bool. Also write the last grid as `<logdir>/generated_per_class.png`.
            Defaults to `False`.

    Example:

    ```python
    gan.fit(train, epochs=300, callbacks=[
        kit.reporting.GeneratedSamples("logs/gan", per_class=8, every=10),
    ])
    ```
    """

    def __init__(self, logdir, per_class=8, every=1, seed=0, class_names=None, png=False):
        super().__init__()
        self.logdir = checks.check_path(_OWNER, "logdir", logdir, fix="E.g. logdir='logs/gan'.")
        self.per_class = checks.check_int(_OWNER, "per_class", per_class, example=8)
        self.every = checks.check_int(_OWNER, "every", every, example=10)
        self.seed = checks.check_seed(_OWNER, seed, allow_none=False)
        if class_names is not None:
            class_names = checks.check_list(
                _OWNER, "class_names", class_names, lambda name: isinstance(name, str),
                "strings, one per class", "['cat', 'dog']",
            )  # fmt: skip
        self.class_names = class_names
        self.png = checks.check_bool(_OWNER, "png", png)
        self.last_grid = None  # the last grid written, `(1, height, width, 3)` in [0, 1]
        self.steps = []  # the epochs written

    def on_train_begin(self, logs=None):
        missing = [name for name in ("generate", "num_classes", "value_range")
                   if not hasattr(self.model, name)]  # fmt: skip
        if missing:
            raise TypeError(
                f"{_OWNER}: the model must be a class-conditional generator such as "
                f"kit.generative.ConditionalGAN. Received: a {type(self.model).__name__} "
                f"without {missing}."
            )
        if self.class_names is not None and len(self.class_names) != self.model.num_classes:
            raise ValueError(
                f"{_OWNER}: `class_names` must name every class. Received: "
                f"{len(self.class_names)} names for {self.model.num_classes} classes."
            )

    def on_epoch_end(self, epoch, logs=None):
        if not periodic.due(epoch, self.every, self.params):
            return
        grid = self.grid()
        self.last_grid, self.steps = grid, self.steps + [epoch]
        if distribution.is_chief():
            write_image_grid(
                self.logdir, TAG, grid, step=epoch, description=self._description(),
                png=self.png,
            )  # fmt: skip

    def grid(self):
        """The grid of the model as it is: row `c` holds `per_class` images of class `c`."""
        num_classes = self.model.num_classes
        labels = np.repeat(np.arange(num_classes), self.per_class)
        images = self.model.generate(labels, seed=self.seed)
        units = checks.to_unit_float(images, self.model.value_range)
        rows = [units[c * self.per_class : (c + 1) * self.per_class] for c in range(num_classes)]
        return image_grid(rows, cell_size=(48, 48))

    def _description(self):
        names = self.class_names or [str(c) for c in range(self.model.num_classes)]
        return (
            f"{self.per_class} generated images per class (rows, top to bottom: "
            f"{', '.join(names)}), the same noise every epoch (seed {self.seed})."
        )

    def get_config(self):
        return {
            "logdir": self.logdir,
            "per_class": self.per_class,
            "every": self.every,
            "seed": self.seed,
            "class_names": self.class_names,
            "png": self.png,
        }
