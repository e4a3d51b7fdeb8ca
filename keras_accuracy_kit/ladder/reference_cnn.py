"""`reference_cnn`: the modern small CNN the ladder's "network" rung tries instead of yours."""

import keras

#: Batch normalization's moving-statistics momentum (see `reference_cnn`).
BATCH_NORM_MOMENTUM = 0.9


def reference_cnn(input_shape, num_classes, depth=3, width=32, dropout=0.3):
    """Builds a small modern CNN: `depth` Conv-BatchNorm-ReLU blocks, global pooling.

    The standard recipe for training from scratch on small images (batch normalization
    after each convolution, max pooling between blocks, global average pooling instead
    of a large dense layer, dropout before the classifier), as in Keras' "image
    classification from scratch" examples, kept small for few images. The ladder's
    `network` rung tries it in place of your model (kept only when it beats it beyond
    noise), and the `depth` rung then deepens it. Pooling stops when the feature map is
    down to 2x2, so deep variants still build on small images.

    Batch normalization uses `momentum=0.9` (PyTorch's and timm's 0.1 in their
    convention) instead of Keras' 0.99: on small data an epoch is a handful of updates,
    and with 0.99 the moving variance (initialised at 1) is still far from the true one
    after hundreds of them, so a model trained on inputs in [0, 1] predicts at chance
    in inference mode while it fits its training batches. With 0.9 the moving statistics
    settle within a few dozen updates, whatever the input scale.

    Args:
        input_shape: Tuple `(height, width, channels)`.
        num_classes: Int >= 2. Number of classes (softmax outputs).
        depth: Int >= 1. Number of convolution blocks. Defaults to `3`.
        width: Int. Filters of the first block, doubled per block. Defaults to `32`.
        dropout: Float in [0, 1). Dropout before the classifier. Defaults to `0.3`.

    Returns:
        A compiled `keras.Model` (Adam(1e-3), sparse categorical cross-entropy, accuracy).

    Example:

    >>> from keras_accuracy_kit.ladder import reference_cnn
    >>> model = reference_cnn((8, 8, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    """
    owner = "reference_cnn"
    for name, value, low in (("depth", depth, 1), ("width", width, 1), ("num_classes", num_classes, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(
                f"{owner}: `{name}` must be an int >= {low}. Received: {name}={value!r}."
            )
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(
            f"{owner}: `dropout` must be a float in [0, 1). Received: dropout={dropout!r}."
        )
    if len(tuple(input_shape)) != 3:
        raise ValueError(
            f"{owner}: `input_shape` must be (height, width, channels). Received: "
            f"input_shape={input_shape!r}."
        )
    inputs = keras.Input(tuple(input_shape))
    x = inputs
    size = min(input_shape[0], input_shape[1])
    for index in range(depth):
        x = keras.layers.Conv2D(width * 2**index, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = keras.layers.ReLU()(x)
        if size >= 4:
            x = keras.layers.MaxPooling2D()(x)
            size //= 2
    x = keras.layers.GlobalAveragePooling2D()(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"reference_cnn_depth{depth}")
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model
