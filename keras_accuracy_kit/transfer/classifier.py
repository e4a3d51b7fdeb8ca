"""`kit.transfer.classifier`: a pretrained feature extractor, input adapters and a head."""


import keras

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor
from keras_accuracy_kit.transforms.resize import Resize
from keras_accuracy_kit.transforms.to_grayscale import ToGrayscale

_OWNER = "kit.transfer.classifier"
#: The input range TF-Hub image models expect (their common convention).
HUB_VALUE_RANGE = (0.0, 1.0)


def classifier(
    handle,
    num_classes,
    input_shape,
    dropout=0.0,
    value_range=(0.0, 255.0),
    image_size=None,
    backbone_value_range=None,
    resize_mode="pad",
    trainable=False,
    weights="imagenet",
    name="transfer_classifier",
    **extractor_kwargs,
):
    """Builds an end-to-end classifier on a pretrained backbone, adapting the inputs to it.

    The model takes the user's images as they are (any size, 1 or 3 channels, any value
    range) and brings them to what the backbone was trained on: the value range is
    rescaled, grayscale is repeated to 3 channels (or RGB converted to gray for a
    1-channel backbone), the size is changed keeping the aspect ratio
    (`kit.resize(mode="pad")`), then come the backbone (a `FeatureExtractor`, frozen by
    default), optional dropout and a softmax `Dense` head. Train it with `kit.transfer.fine_tune`,
    or compile and fit it yourself.

    Args:
        handle: A `FeatureExtractor`, or what builds one: a backbone name of
            `kit.transfer.list_backbones()`, a SavedModel directory or a hub URL.
        num_classes: Int >= 2. Number of classes of the softmax head.
        input_shape: Tuple `(height, width, channels)` of the user's images; height and
            width may be `None` when the backbone has a fixed input size.
        dropout: Float in [0, 1). Dropout rate before the head. Defaults to `0.0`:
            `kit.transfer.fine_tune` regularises the head with an L2 penalty instead
            (measured on 15-25 training images: dropout on the features ended 2-5
            points below a linear probe, the penalty within a point of it).
        value_range: Pair. The range of the user's pixel values, e.g. `(0, 255)` for
            uint8-like images or `(0, 16)` for `load_digits`. Defaults to `(0, 255)`.
        image_size: Optional pair `(height, width)` the backbone is fed. Defaults to the
            backbone's own size (registry spec, or the SavedModel's input signature), or
            the input size when neither says.
        backbone_value_range: Optional pair. The range the backbone expects. Defaults to
            the spec's range for named backbones and `(0, 1)` (TF-Hub's convention) for
            SavedModels.
        resize_mode: `"pad"`, `"crop"` or `"stretch"` (see `kit.resize`). Defaults to
            `"pad"`.
        trainable: Bool. Whether the backbone starts trainable. Defaults to `False`.
        weights: For a named backbone: `"imagenet"`, `None` or a weights file path.
            Defaults to `"imagenet"`.
        name: String. The model's name. Defaults to `"transfer_classifier"`.
        **extractor_kwargs: More `FeatureExtractor` arguments (`signature`, `output_key`).

    Returns:
        A `keras.Model`, not compiled; its backbone layer is named `"feature_extractor"`.

    Example:

    ```python
    model = kit.transfer.classifier("mobilenet_v2", num_classes=5, input_shape=(160, 120, 3))
    kit.transfer.fine_tune(model, train, validation, head_epochs=5, epochs=15)
    ```
    """
    _check_arguments(num_classes, input_shape, dropout, value_range)
    if isinstance(handle, FeatureExtractor):
        extractor = handle
    else:
        if weights != "imagenet":
            extractor_kwargs["weights"] = weights
        extractor = FeatureExtractor(
            handle, trainable=trainable, name="feature_extractor", **extractor_kwargs
        )
    expected = extractor.expected_input_shape
    channels = expected[-1] if expected and expected[-1] is not None else 3
    if image_size is None:
        if expected and expected[0] is not None and expected[1] is not None:
            image_size = tuple(expected[:2])
        else:
            image_size = tuple(input_shape[:2])
    if backbone_value_range is None:
        spec = extractor.backbone_spec
        backbone_value_range = tuple(spec.value_range) if spec else HUB_VALUE_RANGE

    inputs = keras.Input(tuple(input_shape), name="images")
    x = inputs
    low, high = (float(v) for v in value_range)
    target_low, target_high = (float(v) for v in backbone_value_range)
    if (low, high) != (target_low, target_high):
        scale = (target_high - target_low) / (high - low)
        x = keras.layers.Rescaling(scale, offset=target_low - low * scale, name="value_range")(x)
    x = _adapt_channels(x, input_shape[-1], channels, (target_low, target_high))
    if tuple(input_shape[:2]) != tuple(image_size):
        x = Resize(
            int(image_size[0]),
            int(image_size[1]),
            mode=resize_mode,
            value_range=(target_low, target_high),
            name="resize",
        )(x)
        if (target_low, target_high) != (0.0, 1.0):  # kit transforms output [0, 1]
            x = keras.layers.Rescaling(
                target_high - target_low, offset=target_low, name="resized_value_range"
            )(x)
    features = extractor(x)
    if dropout:
        features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(features)
    return keras.Model(inputs, outputs, name=name)


def _adapt_channels(x, have, want, value_range):
    if have == want:
        return x
    if have == 1 and want == 3:
        return keras.layers.Concatenate(axis=-1, name="gray_to_rgb")([x, x, x])
    if have == 3 and want == 1:
        # The images are in the backbone's range here, e.g. (0, 255); ToGrayscale reads
        # that range and outputs [0, 1], brought back to the range the backbone expects.
        gray = ToGrayscale(keep_channels=1, value_range=value_range, name="rgb_to_gray")(x)
        low, high = value_range
        if (low, high) == (0.0, 1.0):
            return gray
        return keras.layers.Rescaling(high - low, offset=low, name="gray_value_range")(gray)
    raise ValueError(
        f"{_OWNER}: `input_shape` must have 1 or 3 channels for a {want}-channel backbone. "
        f"Received: {have} channels. Convert the images to RGB or grayscale first."
    )


def _check_arguments(num_classes, input_shape, dropout, value_range):
    checks.check_int(_OWNER, "num_classes", num_classes, minimum=2, example=10)
    input_shape = checks.check_shape(
        _OWNER, "input_shape", input_shape, names=("height", "width", "channels"),
        fix="E.g. input_shape=(8, 8, 1) for load_digits.", allow_unknown=True,
    )  # fmt: skip
    if input_shape[-1] not in (1, 3):
        raise ValueError(
            f"{_OWNER}: `input_shape` must end with 1 or 3 channels. Received: "
            f"input_shape={tuple(input_shape)!r}. Convert the images to RGB or grayscale."
        )
    checks.check_number(
        _OWNER, "dropout", dropout, low=0, high=1, open_high=True, expectation="in [0, 1)",
        fix="E.g. dropout=0.2.",
    )  # fmt: skip
    checks.check_pair(_OWNER, "value_range", value_range, strict=True,
                      example="(0, 255) for 8-bit images")  # fmt: skip
