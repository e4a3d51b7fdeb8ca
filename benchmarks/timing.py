"""Helpers shared by the benchmark scripts: interleaved timing and a small CNN."""

import time

import keras
import numpy as np


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


def check_equal(what, kit_output, reference, atol):
    """Stops the benchmark unless the kit's output equals the reference (within `atol`).

    Run before any timing: a kit output that is fast because it is wrong must not give a
    ratio. Prints the largest difference; raises a ValueError (nothing timed) above `atol`.

    Example:

    >>> check_equal("identity", [1.0, 2.0], [1.0, 2.0 + 1e-7], atol=1e-6)
    check identity: max |kit - reference| = 1e-07 <= 1e-06
    1e-07
    """
    kit_output = np.asarray(kit_output, np.float64)
    reference = np.asarray(reference, np.float64)
    if kit_output.shape != reference.shape:
        raise ValueError(
            f"{what}: the kit's output must have the reference's shape before it is timed. "
            f"Received: {kit_output.shape} vs {reference.shape}. Nothing was timed."
        )
    difference = float(np.max(np.abs(kit_output - reference))) if kit_output.size else 0.0
    if not difference <= atol:  # also catches NaN
        raise ValueError(
            f"{what}: the kit's output must equal the reference before it is timed. "
            f"Received: max |kit - reference| = {difference:.3g} > atol={atol:g}. "
            "Nothing was timed."
        )
    print(f"check {what}: max |kit - reference| = {difference:.2g} <= {atol:g}")
    return float(f"{difference:.2g}")
