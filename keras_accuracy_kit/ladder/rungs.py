"""The ladder's rungs: one small object per trick, in the order they are tried.

A rung says whether it applies to the data (`skip_reason`) and which configurations to
try on top of the best one so far (`candidates`): the first candidate that beats the
best beyond noise is kept. A new trick is one more entry in `RUNGS`.
"""

import dataclasses
import inspect

from keras_accuracy_kit.ladder.generated_data import GENERATED_FRACTION as GENERATED_SHARE

#: The augmentation the ladder tries (ImageDataGenerator names), before the guard.
DEFAULT_AUGMENT = {
    "rotation_range": 10,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
    "horizontal_flip": True,
}
#: Largest side the image-size rung tries.
MAX_IMAGE_SIZE = 224


@dataclasses.dataclass(frozen=True)
class Config:
    """The configuration a step trains: the best so far plus one trick.

    Args:
        epochs: Int. Epochs of the first stage (all of them without `progressive`).
        normalize: Bool. Standardize the inputs per channel (Keras' `Normalization` layer
            with the labelled images' mean and variance).
        progressive: Bool. `ProgressiveEpochs`: more epochs while validation improves,
            best weights kept.
        reduce_lr: Bool. `ReduceLROnPlateau` on `val_loss`.
        augment: Dict of `kit.augment` arguments, or None.
        color: None, `"lab"` or `"hsv"`.
        image_size: Int (square side, aspect kept by padding) or None.
        depth: Int (the build function's `depth=`) or None.
        network: None (your model) or `"reference"` (`kit.ladder.reference_cnn`).
        transfer: Bool. A classifier on the `backbone` instead of your model.
        generative: Bool. Generated images mixed into each member's training data
            (`kit.generative.ConditionalGAN`s; `kit.ladder.generated_data`).
    """

    epochs: int
    normalize: bool = False
    progressive: bool = False
    reduce_lr: bool = False
    augment: dict = None
    color: str = None
    image_size: int = None
    depth: int = None
    network: str = None
    transfer: bool = False
    generative: bool = False

    @property
    def regularised(self):
        """Tricks that need longer training to pay get their own progressive epochs."""
        return bool(self.augment) or self.transfer or self.generative

    def hparams(self):
        return {
            "epochs": self.epochs,
            "normalize": self.normalize,
            "progressive_epochs": self.progressive,
            "reduce_lr_on_plateau": self.reduce_lr,
            "augment": "none" if not self.augment else describe_augment(self.augment),
            "color": self.color or "none",
            "image_size": self.image_size or 0,
            "depth": self.depth or 0,
            "network": self.network or "yours",
            "transfer": self.transfer,
            "generative": self.generative,
        }


def describe_augment(augment):
    return ", ".join(f"{key}={value}" for key, value in augment.items())


class Rung:
    """One trick. Subclasses set `name` and `label` and implement `candidates`.

    Args of the methods: `context` is the ladder (its `facts`, `build`, `backbone`, the
    guarded augmentation); `base` is the best `Config` so far.
    """

    name = ""
    label = ""

    def skip_reason(self, context, base):
        """Why the trick does not apply to this data or model (or to `base`), or None.
        Cheap: asked before the budget is."""
        return None

    def late_skip_reason(self, context, base):
        """Like `skip_reason`, for checks that cost work (the augmentation guard trains a
        classifier): asked only once the budget leaves room for a step."""
        return None

    def candidates(self, context, base):
        """`(change in words, Config[, note])` to try, best first (a list or a generator:
        the ladder stops asking once one is kept)."""
        raise NotImplementedError


class InputScale(Rung):
    name, label = "input_scale", "input scale"

    def skip_reason(self, context, base):
        if base.network == "reference":
            return "the modern network normalizes after its first convolution"
        return None

    def candidates(self, context, base):
        return [
            (
                "standardize the inputs (per-channel mean and variance of the images)",
                dataclasses.replace(base, normalize=True),
            )
        ]


class MoreEpochs(Rung):
    name, label = "epochs", "more epochs"

    def skip_reason(self, context, base):
        return "the best configuration already trains while it improves" if base.progressive else None

    def candidates(self, context, base):
        return [("more epochs while it improves", dataclasses.replace(base, progressive=True))]


class Network(Rung):
    """A modern small CNN (`kit.ladder.reference_cnn`) in place of your model.

    Batch normalization and global pooling are what most separates a tutorial CNN from
    one that trains well on few images. The ladder tries that network with its own
    progressive epochs, then (when that does not beat your model beyond noise) trained
    with the guarded augmentation too, which regularises it further.
    """

    name, label = "network", "a modern network"
    change = "a modern CNN (Conv-BatchNorm-ReLU blocks, global pooling: kit.ladder.reference_cnn)"

    def skip_reason(self, context, base):
        return "transfer learning replaces the network" if base.transfer else None

    def candidates(self, context, base):
        # A generator: the guard (a small classifier to fit) runs only when the network
        # alone did not pay and the augmented candidate is next.
        network = dataclasses.replace(base, network="reference", depth=None, progressive=True)
        yield (f"{self.change} in place of yours", network)
        if not base.augment and context.guarded_augment()[0]:
            kept, removed = context.guarded_augment()
            note = f"guard removed {', '.join(removed)}" if removed else ""
            yield (
                f"{self.change} with augmentation {describe_augment(kept)}",
                dataclasses.replace(network, augment=kept),
                note,
            )


class LearningRate(Rung):
    name, label = "learning_rate", "learning rate"

    def candidates(self, context, base):
        return [("lower the rate on plateaus", dataclasses.replace(base, reduce_lr=True))]


class Augmentation(Rung):
    name, label = "augment", "augmentation"

    def skip_reason(self, context, base):
        if base.augment:
            return "the best configuration is already augmented"
        return None

    def late_skip_reason(self, context, base):
        if not context.guarded_augment()[0]:
            return "every augmentation step changes classes"
        return None

    def candidates(self, context, base):
        kept, removed = context.guarded_augment()
        note = f"guard removed {', '.join(removed)}" if removed else ""
        alone = dataclasses.replace(base, augment=kept, progressive=True)
        found = [(f"augment {describe_augment(kept)}", alone, note)]
        if not base.reduce_lr:  # augmentation often pays only with a decaying rate
            found.append(
                (
                    f"augment {describe_augment(kept)} + lower the rate on plateaus",
                    dataclasses.replace(alone, reduce_lr=True),
                    note,
                )
            )
        return found


class Generative(Rung):
    """Generated images (a class-conditional GAN per member, trained on that member's
    training images only) mixed into the training data: the seed article's last
    augmentation advice. Opt-in (`tricks=[..., "generative"]`): the GANs cost minutes,
    and on few-shot digits their images did not pay (README)."""

    name, label = "generative", "generated images (GAN)"

    def skip_reason(self, context, base):
        if base.transfer:
            return "transfer learning trains on the backbone's features"
        return context.generated.skip_reason(context.facts)

    def candidates(self, context, base):
        return [
            (
                f"mix {GENERATED_SHARE:.0%} images from class-conditional GANs into training",
                dataclasses.replace(base, generative=True, progressive=True),
            )
        ]


class ColorSpace(Rung):
    name, label = "color", "colour space"

    def skip_reason(self, context, base):
        return "grayscale images" if context.facts.image_shape[-1] != 3 else None

    def candidates(self, context, base):
        return [
            (f"colour space {color}", dataclasses.replace(base, color=color))
            for color in ("lab", "hsv")
        ]


class ImageSize(Rung):
    name, label = "image_size", "image size"

    def skip_reason(self, context, base):
        if context.build is None and not base.network:
            return "needs a build function"
        return None

    def candidates(self, context, base):
        height = base.image_size or max(context.facts.image_shape[:2])
        return [
            (f"resize to {size}x{size} (pad)", dataclasses.replace(base, image_size=size))
            for size in (2 * height, 4 * height)
            if size <= MAX_IMAGE_SIZE
        ]


class Depth(Rung):
    name, label = "depth", "more layers"

    def skip_reason(self, context, base):
        build = context.build_function(base)
        if build is None or "depth" not in inspect.signature(build).parameters:
            return "needs a build function with a `depth` argument"
        return None

    def candidates(self, context, base):
        depth = (base.depth or default_depth(context.build_function(base)) or 1) + 1
        return [(f"depth {depth}", dataclasses.replace(base, depth=depth))]


def default_depth(build):
    """The int default of `build`'s `depth` argument, or None."""
    parameter = None if build is None else inspect.signature(build).parameters.get("depth")
    default = None if parameter is None else parameter.default
    return default if isinstance(default, int) and not isinstance(default, bool) else None


class Transfer(Rung):
    name, label = "transfer", "transfer learning"

    def skip_reason(self, context, base):
        return "no `backbone` given" if context.backbone is None else None

    def candidates(self, context, base):
        return [
            (
                f"transfer from {context.backbone}",
                dataclasses.replace(base, transfer=True, progressive=True),
            )
        ]


#: The rungs. A modern network in place of yours first: it is what most separates a
#: tutorial CNN from one that trains well on few images, and it gets its own progressive
#: epochs. The input scale next: a network fed raw 0-255 values may not train at all, and
#: every later trick would be judged on a model that cannot learn. More epochs next (when
#: the best does not train while it improves yet): every later trick is then judged at a
#: training length that lets it pay. Then augmentation, the seed article's first trick and
#: the one that pays most on small data (tried with and without a decaying rate), then
#: generated images (opt-in, `OPT_IN`), then the article's order.
RUNGS = (
    Network(),
    InputScale(),
    MoreEpochs(),
    Augmentation(),
    Generative(),
    LearningRate(),
    ColorSpace(),
    ImageSize(),
    Depth(),
    Transfer(),
)
#: Their names: what `tricks=` accepts.
TRICKS = tuple(rung.name for rung in RUNGS)
#: Tricks `tricks="auto"` leaves out: ask for them by name.
OPT_IN = ("generative",)
#: After the rungs: averaging models and test-time augmentation.
FINISHING = ("ensemble", "tta")
