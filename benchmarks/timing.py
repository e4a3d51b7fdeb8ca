"""Helpers shared by the benchmark scripts: interleaved timing and a small CNN."""

import time

import keras


def interleaved(candidates, repeats):
    """Times every candidate `repeats` rounds, interleaved; returns the best per name.

    Interleaving (a, b, a, b, ...) exposes every candidate to the same background load, and
    the best of the rounds filters out the noise of a shared machine.
    """
    for function in candidates.values():
        function()  # warm up: tracing, XLA compilation
    best = {name: float("inf") for name in candidates}
    for _ in range(repeats):
        for name, function in candidates.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def small_cnn(optimizer, num_classes=10):
    """Conv16-Pool-Conv32-GAP-Dense on 32x32x3 images, compiled with `optimizer`."""
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes),
        ]
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
