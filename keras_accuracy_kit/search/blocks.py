"""The named blocks `DepthSearch` stacks: `block(hp, x, index) -> x` functions."""

import keras


def pool_if_large(x, name):
    """Halves the spatial size while it stays at least 4 pixels, so deep stacks stay cheap."""
    height, width = x.shape[1], x.shape[2]
    if height is not None and width is not None and min(height, width) >= 8:
        return keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return x


def conv_block(hp, x, index):
    """3x3 convolution with ReLU, then 2x2 max pooling while the map is at least 8 pixels."""
    name = f"block_{index}"
    filters = hp.Choice("filters", [16, 32, 64])
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv")(x)
    return pool_if_large(x, name)


def conv_bn_block(hp, x, index):
    """3x3 convolution, batch normalisation and ReLU, then pooling as in `conv_block`."""
    name = f"block_{index}"
    filters = hp.Choice("filters", [16, 32, 64])
    x = conv_bn(x, filters, f"{name}_conv")
    return pool_if_large(x, name)


def residual_block(hp, x, index):
    """Two conv-BN layers with an identity (or 1x1 projection) shortcut, as in ResNet."""
    name = f"block_{index}"
    filters = hp.Choice("filters", [16, 32, 64])
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_project")(x)
    y = conv_bn(x, filters, f"{name}_conv1")
    y = conv_bn(y, filters, f"{name}_conv2", activation=False)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    x = keras.layers.ReLU(name=f"{name}_out")(x)
    return pool_if_large(x, name)


def dense_block(hp, x, index):
    """Fully connected layer with ReLU (flattens image inputs first)."""
    name = f"block_{index}"
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    units = hp.Int("units", 16, 256, step=16)
    return keras.layers.Dense(units, activation="relu", name=f"{name}_dense")(x)


def conv_bn(x, filters, name, activation=True):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


#: Named blocks: `DepthSearch(block="conv")` etc.
BLOCKS = {
    "conv": conv_block,
    "conv_bn": conv_bn_block,
    "residual": residual_block,
    "dense": dense_block,
}


def get_block(owner, block):
    """Returns the block function for a name in `BLOCKS`, or `block` itself if callable."""
    if callable(block):
        return block
    if isinstance(block, str) and block in BLOCKS:
        return BLOCKS[block]
    raise ValueError(
        f"{owner}: `block` must be one of {sorted(BLOCKS)} or a function "
        f"`block(hp, x, index) -> x`. Received: block={block!r}. Pass a block name, e.g. "
        'block="conv_bn".'
    )
