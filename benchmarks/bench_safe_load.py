"""Cost of the safe-mode op check: loading a MobileNetV2-size SavedModel with it vs without.

`keras.applications.MobileNetV2(weights=None)` (no top, average pooling) is exported as a
SavedModel, wrapped in `kit.transfer.FeatureExtractor` and saved in a `.keras` file (the
directory deleted, so the file's own copy is what loads). Times, side by side in one run:

- `keras_load_with_check`: `keras.models.load_model(path, safe_mode=True)` (the check runs
  on the embedded SavedModel) vs `safe_mode=False` (no check);
- `savedmodel_load_with_check`: `kit.transfer.saved_model_unsafe_ops(dir)` then
  `tf.saved_model.load(dir)` vs `tf.saved_model.load(dir)` alone;
- `savedmodel_load_vs_check_alone`: `tf.saved_model.load(dir)` vs the check alone (how
  many checks one load costs: the two ratios above are within the noise of a shared
  machine, this one is not).

Before any timing, both loaded models must give the original model's outputs (else the
script stops). The last line holds the ratios `name=value` (the first two: time without
the check divided by time with it, 1.0 meaning free). Loads alternate (the order flipping
each round, garbage collected before each) and each keeps its best time. `--quick` makes a
smoke run (32x32 inputs, one round, no warm-up).
"""

import argparse
import gc
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402



def alternating(candidates, repeats, warm_up=True):
    """Best time of each candidate over `repeats` rounds, alternating their order (ABBA).

    A load leaves a model's worth of garbage that the next call would pay for: every
    call starts after `gc.collect()` (untimed), and the order flips each round. `warm_up`
    calls each candidate once, untimed, first (a smoke run skips it: its times mean nothing).
    """
    best = {name: float("inf") for name in candidates}
    names = list(candidates)
    for function in candidates.values() if warm_up else ():
        function()  # warm up
    for round_index in range(repeats):
        for name in names if round_index % 2 == 0 else names[::-1]:
            gc.collect()
            start = time.perf_counter()
            candidates[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def check_same_outputs(expected, models, data):
    """Raises ValueError unless every model gives exactly `expected` on `data`."""
    for name, model in models.items():
        outputs = model.predict(data, verbose=0)
        if not np.array_equal(outputs, expected):
            difference = float(np.max(np.abs(outputs - expected)))
            raise ValueError(
                f"bench_safe_load: the model loaded {name} must give the original outputs. "
                f"Received: a largest difference of {difference}. Nothing was timed."
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description="load time with vs without the op check")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    size, repeats = (32, 1) if args.quick else (224, 6)
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "mobilenet_v2")
        backbone = keras.applications.MobileNetV2(
            include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg"
        )
        backbone.export(source, verbose=False)
        inputs = keras.Input((size, size, 3))
        model = keras.Model(inputs, kit.transfer.FeatureExtractor(source)(inputs))
        data = np.random.default_rng(0).random((2, size, size, 3)).astype("float32")
        expected = model.predict(data, verbose=0)
        path = os.path.join(scratch, "model.keras")
        model.save(path)
        megabytes = os.path.getsize(path) / 2**20
        embedded = os.path.join(scratch, "embedded")  # the same SavedModel, for tf.saved_model
        shutil.copytree(source, embedded)
        shutil.rmtree(source)

        check_same_outputs(
            expected,
            {
                "with safe_mode=True": keras.models.load_model(path, safe_mode=True),
                "with safe_mode=False": keras.models.load_model(path, safe_mode=False),
            },
            data,
        )
        print("outputs equal: safe_mode=True and safe_mode=False give the original outputs")
        unsafe = kit.transfer.saved_model_unsafe_ops(embedded)
        if unsafe:
            raise ValueError(f"bench_safe_load: MobileNetV2 must pass the check. Found {unsafe}")

        def checked_load():
            kit.transfer.saved_model_unsafe_ops(embedded)
            return tf.saved_model.load(embedded)

        best = alternating(
            {
                "keras safe_mode=True": lambda: keras.models.load_model(path, safe_mode=True),
                "keras safe_mode=False": lambda: keras.models.load_model(path, safe_mode=False),
                "check + tf.saved_model.load": checked_load,
                "tf.saved_model.load": lambda: tf.saved_model.load(embedded),
                "check alone": lambda: kit.transfer.saved_model_unsafe_ops(embedded),
            },
            repeats,
            warm_up=not args.quick,
        )
    for name, seconds in best.items():
        print(f"MobileNetV2 {size}x{size} ({megabytes:.1f} MB), {name:28s} {seconds:7.3f} s")
    ratios = {
        "keras_load_with_check": best["keras safe_mode=False"] / best["keras safe_mode=True"],
        "savedmodel_load_with_check": best["tf.saved_model.load"]
        / best["check + tf.saved_model.load"],
        "savedmodel_load_vs_check_alone": best["tf.saved_model.load"] / best["check alone"],
    }
    print(" ".join(f"{name}={value:.3f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
