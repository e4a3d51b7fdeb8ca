"""BackboneSpec: what a named `keras.applications` backbone expects, and the registry of them."""

import dataclasses
import importlib

import keras

from keras_accuracy_kit._core import checks

_OWNER = "kit.transfer"


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What a named backbone expects as input and gives as features.

    Data code reads these fields (by duck typing) to bring images to the backbone's input
    size, channel count and value range; `preprocess` applies the backbone's own
    `preprocess_input` (images in `value_range`, e.g. uint8 pixels or floats in [0, 255]).

    Args:
        name: String. The registry name, e.g. `"mobilenet_v2"`.
        application: String. The `keras.applications` constructor, e.g. `"MobileNetV2"`.
        module: String. The `keras.applications` module holding `preprocess_input`.
        input_size: Pair of ints. The (height, width) the ImageNet weights were trained at.
        channels: Int. Number of input channels (3, RGB).
        value_range: Pair of floats. The pixel range the backbone's input expects.
        preprocessing: String. What `preprocess_input` does, in words.
        num_features: Int. Length of the pooled feature vector.
        source: String. Where the weights come from.

    Example:

    >>> from keras_accuracy_kit.transfer import get_backbone_spec
    >>> spec = get_backbone_spec("mobilenet_v2")
    >>> spec.input_size, spec.value_range, spec.num_features
    ((224, 224), (0.0, 255.0), 1280)
    >>> import numpy as np
    >>> spec.preprocess(np.array([0.0, 127.5, 255.0], "float32")).tolist()
    [-1.0, 0.0, 1.0]
    """

    name: str
    application: str
    module: str
    input_size: tuple
    channels: int
    value_range: tuple
    preprocessing: str
    num_features: int
    source: str = "keras.applications (ImageNet)"

    def preprocess(self, images):
        """Applies the backbone's `preprocess_input` to images in `value_range`."""
        module = importlib.import_module(f"keras.applications.{self.module}")
        return module.preprocess_input(images)

    def build(self, weights="imagenet", input_shape=None, pooling="avg", trainable=False):
        """Builds the backbone without its classification top (see `kit.transfer.backbone`)."""
        if input_shape is None:
            input_shape = tuple(self.input_size) + (self.channels,)
        constructor = getattr(keras.applications, self.application)
        model = constructor(
            include_top=False, weights=weights, input_shape=tuple(input_shape), pooling=pooling
        )
        model.trainable = trainable
        return model


_SPECS = (
    BackboneSpec(
        name="efficientnet_b0",
        application="EfficientNetB0",
        module="efficientnet",
        input_size=(224, 224),
        channels=3,
        value_range=(0.0, 255.0),
        preprocessing="none: the model rescales and normalises [0, 255] inputs itself",
        num_features=1280,
    ),
    BackboneSpec(
        name="mobilenet_v2",
        application="MobileNetV2",
        module="mobilenet_v2",
        input_size=(224, 224),
        channels=3,
        value_range=(0.0, 255.0),
        preprocessing="'tf' mode: scales [0, 255] to [-1, 1]",
        num_features=1280,
    ),
    BackboneSpec(
        name="resnet50",
        application="ResNet50",
        module="resnet50",
        input_size=(224, 224),
        channels=3,
        value_range=(0.0, 255.0),
        preprocessing="'caffe' mode: RGB to BGR, minus the ImageNet channel means",
        num_features=2048,
    ),
)

#: Registry of the named backbones, by name.
BACKBONES = {spec.name: spec for spec in _SPECS}


def list_backbones():
    """Returns the names of the backbones `kit.transfer.backbone` knows, sorted.

    Example:

    >>> import keras_accuracy_kit as kit
    >>> kit.transfer.list_backbones()
    ['efficientnet_b0', 'mobilenet_v2', 'resnet50']
    """
    return sorted(BACKBONES)


def get_backbone_spec(name):
    """Returns the `BackboneSpec` of a named backbone; an unknown name lists the known ones."""
    if name not in BACKBONES:
        raise ValueError(
            f"{_OWNER}: `name` must be one of the known backbones {list_backbones()}. "
            f"Received: name={name!r}. Pick a listed name, or pass a SavedModel directory "
            "to `kit.transfer.FeatureExtractor`."
        )
    return BACKBONES[name]


def backbone(name, weights="imagenet", input_shape=None, pooling="avg", trainable=False):
    """Builds a named `keras.applications` backbone without its top, frozen by default.

    The backbone's input is images in its `spec.value_range` after `spec.preprocess`
    (see `get_backbone_spec(name)`); the output is the pooled feature vector.

    Args:
        name: String. One of `list_backbones()`.
        weights: `"imagenet"` (downloaded once by Keras into `~/.keras/models`), `None`
            (random initialisation) or a weights file path. Defaults to `"imagenet"`.
        input_shape: Optional tuple `(height, width, channels)`. Defaults to the spec's
            input size and channels.
        pooling: `"avg"`, `"max"` or `None` (the feature map). Defaults to `"avg"`.
        trainable: Bool. Whether `fit` updates the backbone. Defaults to `False`.

    Returns:
        A `keras.Model`.

    Example:

    >>> import keras_accuracy_kit as kit
    >>> features = kit.transfer.backbone("mobilenet_v2", weights=None, input_shape=(32, 32, 3))
    >>> features.output_shape, features.trainable
    ((None, 1280), False)
    """
    spec = get_backbone_spec(name)
    if pooling not in ("avg", "max", None):
        raise ValueError(
            f"{_OWNER}: `pooling` must be 'avg', 'max' or None. Received: pooling={pooling!r}. "
            "Use 'avg' for a feature vector, None for the feature map."
        )
    trainable = checks.check_bool(_OWNER, "trainable", trainable, error=ValueError)
    return spec.build(
        weights=weights, input_shape=input_shape, pooling=pooling, trainable=trainable
    )
