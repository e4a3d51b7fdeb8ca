"""DepthSearch: how many blocks the model needs, searched without stale hyper-parameters."""

import keras

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.search import blocks as blocks_lib
from keras_accuracy_kit.search.requirements import import_keras_tuner

keras_tuner = import_keras_tuner()

HEADS = ("auto", "gap", "flatten")


class DepthSearch(keras_tuner.HyperModel):
    """Searches the number of blocks of a classifier, recording only the blocks it built.

    More layers help on fine-grained tasks and hurt on simple ones, so depth is worth a
    search. The usual keras-tuner idiom `for i in range(hp.Int("num_layers", ...))`
    registers `units_5` once and keeps sampling it for trials that build two layers, so
    trial records list values of layers that were never trained. Here block `i` is built
    inside `hp.conditional_scope("num_blocks", [i + 1, ..., max_blocks])` and
    `hp.name_scope(f"block_{i}")`: its hyper-parameters (`block_3/filters`) are active
    only in trials that build it, and every trial's active values describe exactly the
    model that was trained. Each built block ends in an identity layer named `block_{i}`,
    so `len([l for l in model.layers if re.fullmatch(r"block_\\d+", l.name)])` counts them.

    The model maps `input_shape` images to `num_classes` logits and is compiled with Adam,
    sparse categorical cross-entropy (from logits) and accuracy.

    Args:
        block: String or callable. A kit block, `"conv"`, `"conv_bn"`, `"residual"` or
            `"dense"`, or your function `block(hp, x, index) -> x`; the `hp` it receives
            names its hyper-parameters `block_{index}/...`. Defaults to `"conv_bn"`.
        min_blocks: Non-negative int. Fewest blocks a trial builds. Defaults to `1`.
        max_blocks: Positive int. Most blocks a trial builds. Defaults to `6`.
        head: `"auto"` (global average pooling after image blocks, none after dense
            ones), `"gap"`, `"flatten"`, or a function `head(hp, x) -> x` applied before
            the final `Dense(num_classes)`. Defaults to `"auto"`.
        input_shape: Tuple of ints. Shape of one input image, e.g. `(32, 32, 3)`.
            `SizeSearch` replaces height and width per trial. Defaults to `(32, 32, 3)`.
        num_classes: Int, at least 2. Number of output logits. Defaults to `10`.
        learning_rate: Float, or a pair `(low, high)` searched log-uniformly as
            `"learning_rate"`. Defaults to `1e-3`.
        name: Optional string. Name of the hypermodel. Defaults to `None`.
        tunable: Bool. Whether its hyper-parameters are tuned. Defaults to `True`.

    Example:

    ```python
    def block(hp, x, index):      # hp names become "block_{index}/units"
        return keras.layers.Dense(hp.Int("units", 16, 128, step=16), activation="relu")(x)

    depth = kit.search.DepthSearch(block, min_blocks=1, max_blocks=4,
                                   input_shape=(8, 8, 1), num_classes=10)
    result = kit.search.tune(depth, train, validation, strategy="random", max_trials=8)
    ```
    """

    def __init__(
        self,
        block="conv_bn",
        min_blocks=1,
        max_blocks=6,
        head="auto",
        input_shape=(32, 32, 3),
        num_classes=10,
        learning_rate=1e-3,
        name=None,
        tunable=True,
    ):
        super().__init__(name=name, tunable=tunable)
        owner = "DepthSearch"
        self.block = block
        self._block_fn = blocks_lib.get_block(owner, block)
        self.min_blocks = checks.check_int(owner, "min_blocks", min_blocks, minimum=0, example=1)
        self.max_blocks = checks.check_int(owner, "max_blocks", max_blocks, example=6)
        checks.check_ordered(owner, "min_blocks", self.min_blocks, "max_blocks", self.max_blocks)
        if not (callable(head) or head in HEADS):
            raise ValueError(
                f"{owner}: `head` must be one of {list(HEADS)} or a function "
                f"`head(hp, x) -> x`. Received: head={head!r}."
            )
        self.head = head
        self.input_shape = checks.check_shape(
            owner, "input_shape", input_shape, fix="E.g. input_shape=(32, 32, 3)."
        )
        self.num_classes = checks.check_int(
            owner, "num_classes", num_classes, minimum=2, example=10
        )
        self.learning_rate = _learning_rate(owner, learning_rate)

    def build(self, hp):
        return self.build_model(hp, self.input_shape)

    def build_model(self, hp, input_shape):
        """Builds and compiles the trial's model for inputs of `input_shape`.

        Args:
            hp: `keras_tuner.HyperParameters`.
            input_shape: Tuple of ints. Shape of one input.

        Returns:
            A compiled `keras.Model`.
        """
        inputs = keras.Input(tuple(input_shape), name="images")
        num_blocks = hp.Int("num_blocks", self.min_blocks, self.max_blocks, default=self.min_blocks)
        x = inputs
        for index in range(self.max_blocks):
            built_with = list(range(index + 1, self.max_blocks + 1))
            with hp.conditional_scope("num_blocks", built_with):
                if index < num_blocks:
                    with hp.name_scope(f"block_{index}"):
                        x = self._block_fn(hp, x, index)
                    x = keras.layers.Identity(name=f"block_{index}")(x)
        with hp.name_scope("head"):
            x = self._head(hp, x)
        outputs = keras.layers.Dense(self.num_classes, name="logits")(x)
        model = keras.Model(inputs, outputs, name=self.name or "depth_search")
        if isinstance(self.learning_rate, tuple):
            low, high = self.learning_rate
            learning_rate = hp.Float("learning_rate", low, high, sampling="log")
        else:
            learning_rate = self.learning_rate
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    def _head(self, hp, x):
        if callable(self.head):
            return self.head(hp, x)
        if len(x.shape) <= 2:
            return x
        if self.head == "flatten":
            return keras.layers.Flatten(name="head_flatten")(x)
        if len(x.shape) == 4:
            return keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
        return keras.layers.Flatten(name="head_flatten")(x)

    def get_config(self):
        return {
            "block": self.block if isinstance(self.block, str) else _qualname(self.block),
            "min_blocks": self.min_blocks,
            "max_blocks": self.max_blocks,
            "head": self.head if isinstance(self.head, str) else _qualname(self.head),
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "learning_rate": self.learning_rate,
            "name": self.name,
            "tunable": self.tunable,
        }


def _qualname(function):
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"


def _learning_rate(owner, learning_rate):
    expectation = "a positive float or a pair (low, high) with 0 < low < high"
    fix = "E.g. learning_rate=(1e-4, 1e-2) to search it."
    if isinstance(learning_rate, (tuple, list)):
        pair = checks.check_pair(
            owner, "learning_rate", learning_rate, minimum=0, open_minimum=True, strict=True,
            example="(1e-4, 1e-2)", expectation=expectation,
        )  # fmt: skip
        return tuple(pair)
    return checks.check_number(
        owner, "learning_rate", learning_rate, low=0, open_low=True, expectation=expectation,
        fix=fix,
    )  # fmt: skip
