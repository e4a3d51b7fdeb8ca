"""The guard against label-changing augmentations: `kit.check_invariance(dataset, augment)`.

Some augmentations change the class: a 3 flipped left-right is not a 3, a 6 turned by 180
degrees is a 9. Training on them teaches the model wrong labels. The guard measures, for
each step of an augmentation alone, how often a reference classifier changes its mind
between an image and its augmented copy, and compares that with the rate of mild
transforms (a few degrees, a few per cent of shift and zoom), which never change a class.
"""

import dataclasses
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, elements, late_bound
from keras_accuracy_kit.transforms import image_data_generator
from keras_accuracy_kit.transforms.augment import DEFAULTS, Augment, _shift_is_on

#: The mild transforms whose change rate is the baseline: they never change a class.
MILD_TRANSFORMS = {
    "rotation_range": 5,
    "width_shift_range": 0.05,
    "height_shift_range": 0.05,
    "zoom_range": 0.05,
}


@dataclasses.dataclass(frozen=True)
class InvarianceRow:
    """One step of an augmentation and how often it changed the predicted class."""

    name: str
    argument: str
    change_rate: float
    flagged: bool


@dataclasses.dataclass(frozen=True)
class InvarianceReport:
    """What `check_invariance` found: one row per step, the baseline and the threshold.

    A step is flagged when its change rate exceeds `threshold = baseline_rate + margin`.
    """

    rows: tuple
    baseline_rate: float
    margin: float
    num_images: int
    examples: dict = dataclasses.field(default=None, repr=False, compare=False)
    #: The classifier that was used (the fitted reference one when no model was given):
    #: pass it as `model=` to check another augmentation of the same data without refitting.
    model: object = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def threshold(self):
        return self.baseline_rate + self.margin

    @property
    def flagged(self):
        """Names of the steps that change classes."""
        return [row.name for row in self.rows if row.flagged]

    def to_markdown(self):
        """The report as a markdown table (what TensorBoard's text tab shows)."""
        lines = [
            f"Class changes on {self.num_images} images; mild transforms "
            f"{self.baseline_rate:.1%}, threshold {self.threshold:.1%}.",
            "",
            "| step | class changed | verdict |",
            "| --- | --- | --- |",
        ]
        for row in self.rows:
            verdict = "**changes classes: remove**" if row.flagged else "keeps classes"
            lines.append(f"| `{row.name}` | {row.change_rate:.1%} | {verdict} |")
        return "\n".join(lines)

    def __str__(self):
        return self.to_markdown()

    def write(self, logdir, step=0, tag="augment/invariance"):
        """Logs the report to TensorBoard: the table, one scalar per step, an example grid.

        The grid's first row holds originals, each further row one step (in table order).

        Returns:
            The path of the PNG of the example grid.
        """
        # Writing TensorBoard images is `reporting/`'s job (`reporting/previews.py`), which
        # registers the function when it is imported: no import against the arrow.
        return late_bound.call(
            "keras_accuracy_kit.reporting.previews.write_invariance_report",
            "InvarianceReport.write",
            self,
            logdir,
            step=step,
            tag=tag,
        )


def check_invariance(
    dataset,
    augmentation,
    model=None,
    num_images=1000,
    margin=0.1,
    seed=0,
    logdir=None,
):
    """Measures which steps of an augmentation change the class an image shows.

    For each step of `augmentation` alone (e.g. `rotation_range=180`, `horizontal_flip`,
    always applied), the guard counts how often the reference classifier's predicted class
    differs between an image and its augmented copy. Mild transforms (`MILD_TRANSFORMS`:
    up to 5 degrees, 5 % shift, 5 % zoom) give the baseline: the classifier's own
    jitter. A step is flagged when its rate exceeds `baseline + margin`.

    Without a `model`, a small CNN is fitted on the un-augmented data itself (with the mild
    transforms, so that it tolerates jitter), for a few seconds on a CPU. With a `model`,
    it is called on the augmented images as `Augment` outputs them (float in [0, 1]).

    Args:
        dataset: `tf.data.Dataset` (batched or not) of `(image, label)` pairs or
            `{"images", "labels"}` dicts, or a pair of arrays `(images, labels)`. Labels
            are class ids or one-hot. With a `model`, bare images suffice.
        augmentation: A `kit.augment(...)`.
        model: Optional Keras classifier (logits or probabilities). Defaults to a reference
            CNN fitted on `dataset`.
        num_images: Int. Images used (the first ones). Defaults to `1000`.
        margin: Float. How far above the baseline a rate must be to be flagged. Defaults to
            `0.1` (10 percentage points).
        seed: Int. Seeds the reference classifier and the augmentations. Defaults to `0`.
        logdir: Optional path. Also write the report to TensorBoard there.

    Returns:
        An `InvarianceReport`; `report.flagged` lists the steps that change classes.

    Example:

    ```python
    report = kit.check_invariance(train, kit.augment(rotation_range=180, zoom_range=0.1))
    table = report.to_markdown()  # one row per step: its rate, the baseline, flagged or not
    report.flagged           # ['rotation_range=180']
    ```
    """
    owner = "check_invariance"
    _check_arguments(owner, augmentation, margin)
    num_images = checks.check_positive_int(owner, "num_images", num_images, example=1000)
    images, labels = _collect(dataset, num_images, owner, need_labels=model is None)
    source_dtype = images.dtype  # `cval` is in the units of the original images
    images = augmentation._scale_only(images)
    if model is None:
        model = fit_reference_classifier(images, labels, seed=seed)

    def predict(batch):
        outputs = model.predict(batch, batch_size=256, verbose=0)
        return np.argmax(outputs, axis=-1)

    rows, baseline_rate, examples = _measure(
        augmentation, images, source_dtype, predict, seed, margin
    )
    report = InvarianceReport(
        tuple(rows), baseline_rate, float(margin), int(images.shape[0]), examples, model
    )
    if logdir is not None:
        report.write(logdir)
    return report


def _measure(augmentation, images, source_dtype, predict, seed, margin):
    """The rows (one per single step), the mild transforms' rate and the example images."""
    base_seed = tf.constant([seed, 1], tf.int64)
    original = predict(images)
    mild = Augment(
        **MILD_TRANSFORMS,
        fill_mode=augmentation.fill_mode,
        cval=augmentation.cval,
        value_range=augmentation.value_range,
        seed=seed,
    )
    mild_images = mild.augment_images(images, base_seed, source_dtype)
    baseline_rate = float(np.mean(predict(mild_images) != original))
    rows = []
    examples = {"originals": images[:8]}
    for index, (name, step) in enumerate(single_steps(augmentation).items()):
        augmented = step.augment_images(images, base_seed + [0, index + 1], source_dtype)
        rate = float(np.mean(predict(augmented) != original))
        argument = name.split("=")[0]
        rows.append(InvarianceRow(name, argument, rate, rate > baseline_rate + margin))
        examples[name] = augmented[:8]
    return rows, baseline_rate, examples


def _check_arguments(owner, augmentation, margin):
    if not isinstance(augmentation, Augment):
        raise ValueError(
            f"{owner}: `augmentation` must be a `kit.augment(...)`. Received: "
            f"augmentation={augmentation!r}. Build it with `kit.augment(...)` or "
            "`kit.augment.from_config(image_data_generator_kwargs)`."
        )
    checks.check_number(
        owner, "margin", margin, low=0, high=1, open_high=True, expectation="a rate in [0, 1)",
        fix="E.g. margin=0.1 flags steps 10 points above the mild-transform baseline.",
    )  # fmt: skip


def fit_reference_classifier(images, labels, seed=0, epochs=10):
    """Fits a small CNN on float images in [0, 1] (with mild jitter); a few seconds on a CPU.

    Args:
        images: Float tensor `(N, H, W, C)` in [0, 1]. Larger images are resized to 32x32
            inside the model.
        labels: Int array `(N,)` of class ids.
        seed: Int. Seeds the weights, the shuffling and the jitter. Defaults to `0`.
        epochs: Int. Training epochs. Defaults to `10`.

    Returns:
        The fitted `keras.Model`.
    """
    # Seeded initializers and a pre-shuffled order instead of global seeds: the guard must
    # not reset the random state of the caller's program.
    def init(index):
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seed + index)}

    num_classes = int(np.max(labels)) + 1
    height, width, channels = images.shape[1:]
    inputs = keras.Input((height, width, channels))
    x = inputs
    if height * width > 32 * 32:
        x = keras.layers.Resizing(32, 32)(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", **init(0))(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", **init(1))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu", **init(2))(x)
    outputs = keras.layers.Dense(num_classes, **init(3))(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    mild = Augment(**MILD_TRANSFORMS, seed=seed)
    jittered = mild.augment_images(images, tf.constant([seed, 2], tf.int64))
    train_images = tf.concat([images, jittered], axis=0)
    train_labels = np.concatenate([labels, labels])
    order = np.random.default_rng(seed).permutation(len(train_labels))
    model.fit(
        tf.gather(train_images, order),
        train_labels[order],
        batch_size=64,
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return model


def _collect(dataset, num_images, owner, need_labels):
    """The first `num_images` images and (if present) labels, as a tensor and an int array."""
    if isinstance(dataset, (tuple, list)) and len(dataset) == 2:
        source = [(tf.convert_to_tensor(dataset[0]), tf.convert_to_tensor(dataset[1]))]
    elif isinstance(dataset, tf.data.Dataset):
        source = dataset
    else:
        raise ValueError(
            f"{owner}: `dataset` must be a tf.data.Dataset or a pair (images, labels). "
            f"Received: dataset={type(dataset).__name__}. Pass the un-augmented training data."
        )
    images, labels, num_labelled, num_batches = elements.take_images_and_labels(
        source, num_images, owner
    )
    if need_labels and num_labelled != num_batches:
        raise ValueError(
            f"{owner}: `dataset` must hold labels when no `model` is given. Received: "
            "elements without labels. Pass `(image, label)` pairs so that a reference "
            "classifier can be fitted, or pass your trained classifier as `model=`."
        )
    return images, labels


# The arguments that are augmentation steps of their own (what the guard checks one by one):
# Keras 2's, but for the fill settings and the seed, then the kit's own.
STEP_ARGUMENTS = tuple(
    arg for arg in image_data_generator.HONOURED if arg not in ("fill_mode", "cval", "seed")
) + (
    "contrast_range",
    "hue_range",
    "saturation_range",
    "erasing_probability",
    "policy",
)


class _AlwaysFlip(Augment):
    """A flip applied to every image (what the guard measures for `*_flip`)."""

    def __init__(self, which, **kwargs):
        super().__init__(**{which: True}, **kwargs)
        self.argument = which

    def sample_geometry(self, uniforms, height, width):
        always = tf.ones_like(uniforms["horizontal_flip"], tf.bool)
        never = tf.zeros_like(always)
        if self.argument == "horizontal_flip":
            return {"flip": (always, never)}
        return {"flip": (never, always)}


def _is_on(augment, arg, value):
    if value == DEFAULTS[arg]:
        return False
    if arg in ("width_shift_range", "height_shift_range"):
        return _shift_is_on(value)
    if arg == "zoom_range":
        return augment._zoom != [1.0, 1.0]
    return True


def single_steps(augment):
    """Each active step of `augment` alone, as `{name: Augment}` (flips always applied).

    The name is the argument and its value, e.g. `"rotation_range=180"`. Flips are
    returned as always-on (`"horizontal_flip"` mirrors every image), so a guard measures
    the flip itself, not a coin toss.
    """
    config = augment.get_config()
    common = {
        "fill_mode": augment.fill_mode,
        "cval": augment.cval,
        "interpolation": augment.interpolation,
        "value_range": list(augment.value_range),
        "seed": augment.seed,
        "jit_compile": augment.jit_compile,
    }
    steps = {}
    for arg in STEP_ARGUMENTS:
        value = config[arg]
        if not _is_on(augment, arg, value):
            continue
        if arg == "erasing_probability":
            extra = {k: config[k] for k in ("erasing_scale", "erasing_ratio", "erasing_value")}
            steps[f"{arg}={value}"] = Augment(**common, **extra, erasing_probability=value)
        elif arg in ("horizontal_flip", "vertical_flip"):
            steps[arg] = _AlwaysFlip(arg, **common)
        else:
            steps[f"{arg}={value}"] = Augment(**common, **{arg: value})
    return steps


def without(augment, arguments):
    """A copy of `augment` with the given arguments reset to their defaults."""
    config = augment.get_config()
    for arg in arguments:
        config[arg] = DEFAULTS[arg]
    return type(augment).from_config(config)


def without_flagged_steps(augment, dataset, model=None, **kwargs):
    """`augment` without the steps that change classes, warning per step: `augment.checked`.

    Runs `check_invariance(dataset, augment, model=model, **kwargs)` and removes each
    flagged step (e.g. `horizontal_flip` for digits).

    Returns:
        A new `Augment`.
    """
    report = check_invariance(dataset, augment, model=model, **kwargs)
    removed = []
    for row in report.rows:
        if row.flagged:
            removed.append(row.argument)
            warnings.warn(
                f"Augment.checked: removed `{row.name}`: it changed the predicted class "
                f"of {row.change_rate:.0%} of the images (mild transforms: "
                f"{report.baseline_rate:.0%}, threshold {report.threshold:.0%}).",
                stacklevel=4,
            )
    return without(augment, removed)


# `Augment.checked` runs the guard through these registrations: the guard imports `augment`,
# never the reverse.
late_bound.register(f"{__name__}.check_invariance", check_invariance)
late_bound.register(f"{__name__}.without_flagged_steps", without_flagged_steps)
