"""A `kak tune` spec for the distributed tests: a small depth search on load_digits."""

import keras_accuracy_kit as kit
from tests.search.helpers import dense_block, digits


def digits_search():
    train, validation = digits(num_train=400, num_validation=200)
    depth = kit.search.DepthSearch(dense_block, 1, 3, input_shape=(8, 8, 1), num_classes=10)
    return dict(
        hypermodel=depth,
        train=train,
        validation=validation,
        strategy="random",
        max_trials=6,
        epochs=1,
        keep_best=2,
        seed=11,
    )
