"""`tutorial_cnn`: the naive tutorial CNN, as a build function the ladder can deepen."""

import keras


def tutorial_cnn(input_shape, num_classes, depth=2, width=32, dense_units=64):
    """Builds the tutorial CNN: `depth` blocks Conv(width * 2**i)-Pool, Dense, softmax.

    With the defaults it is the classic Conv32-Pool-Conv64-Pool-Dense64 of the Keras and
    TensorFlow tutorials, compiled with Adam(1e-3). `kak improve` uses it when you give no
    model; `kit.improve` tries `depth + 1` on it. Pooling stops when the feature map is
    down to 2x2, so deep variants still build on small images.

    Args:
        input_shape: Tuple `(height, width, channels)`.
        num_classes: Int. Number of classes (softmax outputs).
        depth: Int >= 1. Number of convolution blocks. Defaults to `2`.
        width: Int. Filters of the first block, doubled per block. Defaults to `32`.
        dense_units: Int. Units of the hidden dense layer. Defaults to `64`.

    Returns:
        A compiled `keras.Model` (sparse categorical cross-entropy, accuracy).

    Example:

    >>> from keras_accuracy_kit.ladder import tutorial_cnn
    >>> model = tutorial_cnn((8, 8, 1), num_classes=10)
    >>> [layer.__class__.__name__ for layer in model.layers]
    ['InputLayer', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(
            f"tutorial_cnn: `depth` must be a positive int. Received: depth={depth!r}."
        )
    inputs = keras.Input(tuple(input_shape))
    x = inputs
    size = min(input_shape[0], input_shape[1])
    for index in range(depth):
        x = keras.layers.Conv2D(width * 2**index, 3, padding="same", activation="relu")(x)
        if size >= 4:
            x = keras.layers.MaxPooling2D()(x)
            size //= 2
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"tutorial_cnn_depth{depth}")
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model
