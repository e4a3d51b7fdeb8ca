"""Throughput of `kit.augment`, measured side by side with its alternatives in one run.

Prints one line per measurement and, last, the ratios as `name=value` pairs (a ratio is the
alternative's time divided by the kit's; higher is better for the kit):

- `vs_keras_layers_{224,32}_{batched,per_image}`: flip + rotate + zoom + contrast with
  `dataset.apply(kit.augment(...))` vs the same with `keras.layers.RandomFlip`,
  `RandomRotation`, `RandomZoom`, `RandomContrast` in `dataset.map`, on 224x224 and 32x32
  float32 images, applied to batches or to single images before `batch()` (target >= 3).
  Every map runs with `num_parallel_calls=tf.data.AUTOTUNE`, as the tf.data guide advises
  (`dataset.apply(augment)` does so itself).
- `..._map`: the same with `dataset.map(kit.augment(...), num_parallel_calls=AUTOTUNE)`
  instead of `dataset.apply`: one call per element, no grouping of single images.
- `vs_one_resampling_{224,32}`: the kit's whole augmentation of one batch vs one bare
  `tf.raw_ops.ImageProjectiveTransformV3` call on it (the cost of a single resampling with
  TensorFlow's kernel; target >= 0.8: everything else must be nearly free).
- `vs_cast_floor_{224,32}`: the kit on a uint8 batch vs a bare uint8 -> float32 cast of it
  (the floor; 1.0 would be free).
- `fit_with_vs_without`: `model.fit` images/s of a small CNN on 32x32 images with
  `dataset.apply(kit.augment(...))` vs without augmentation (target >= 0.95).

Before timing, the kit's output is checked against TensorFlow's kernels (`check ...`
lines): the benchmark's augmentation with a fixed seed equals the same augmentation with
`jit_compile=False` (`ImageProjectiveTransformV3` and TensorFlow's colour ops) within 2e-4,
and it changed the images; `kit...functional.apply_projective` with the timed matrix
equals the bare `ImageProjectiveTransformV3` call. A wrong but fast kit stops the script.
(Keras' layers draw other random numbers: their outputs cannot be compared image by image.)

Each timing is the best of several interleaved repeats, which filters out the noise of a
shared machine. Run `python benchmarks/bench_augment.py` (add `--quick` for a smoke run).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import check_equal, interleaved  # noqa: E402

ROTATION_DEGREES = 20
ZOOM = 0.1
CONTRAST = 0.2


def kit_augment(jit_compile="auto"):
    return kit.augment(
        horizontal_flip=True,
        rotation_range=ROTATION_DEGREES,
        zoom_range=ZOOM,
        contrast_range=[1 - CONTRAST, 1 + CONTRAST],
        fill_mode="reflect",
        seed=0,
        jit_compile=jit_compile,
    )


def keras_layers():
    layers = [
        keras.layers.RandomFlip("horizontal", seed=0),
        keras.layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="reflect", seed=0),
        keras.layers.RandomZoom(ZOOM, fill_mode="reflect", seed=0),
        keras.layers.RandomContrast(CONTRAST, value_range=(0, 1), seed=0),
    ]

    def apply(images):
        for layer in layers:
            images = layer(images, training=True)
        return images

    return apply


def drain(dataset):
    for _ in dataset:
        pass


def bench_size(size, batch_size, num_batches, repeats):
    rng = np.random.default_rng(0)
    images_uint8 = rng.integers(0, 256, (batch_size, size, size, 3)).astype(np.uint8)
    images = tf.constant(images_uint8.astype(np.float32) / 255.0)
    augment, layers = kit_augment(), keras_layers()
    parallel = tf.data.AUTOTUNE

    batched = tf.data.Dataset.from_tensors(images).repeat(num_batches)
    singles = tf.data.Dataset.from_tensor_slices(images).repeat(num_batches)
    pipelines = {
        "kit batched": batched.apply(augment),
        "kit batched (map)": batched.map(augment, num_parallel_calls=parallel),
        "keras batched": batched.map(layers, num_parallel_calls=parallel),
        "kit per image": singles.apply(augment).batch(batch_size),
        "kit per image (map)": singles.map(augment, num_parallel_calls=parallel).batch(batch_size),
        "keras per image": singles.map(layers, num_parallel_calls=parallel).batch(batch_size),
    }
    times = interleaved({k: (lambda d=d: drain(d)) for k, d in pipelines.items()}, repeats)

    # One batch, no tf.data: the kit's whole augmentation vs one bare resampling and a cast.
    seed = tf.constant([0, 1], tf.int64)
    transforms = tf.tile(tf.constant([[1.0, 0.1, 0.0, -0.1, 1.0, 0.0, 0.0, 0.0]]), [batch_size, 1])
    uint8_batch = tf.constant(images_uint8)

    @tf.function
    def kit_batch(batch):  # the whole call: uint8 -> [0, 1], per-call seed, augmentation
        return augment(batch)

    @tf.function
    def kit_float_batch(batch):
        return augment.augment_images(batch, seed)

    @tf.function
    def one_resampling(batch):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=batch,
            transforms=transforms,
            output_shape=tf.shape(batch)[1:3],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="REFLECT",
        )

    @tf.function
    def cast(batch):
        return tf.cast(batch, tf.float32)

    # Checks before timing: the kit's paths give TensorFlow's kernels' output.
    ours = kit_float_batch(images)
    check_equal(
        f"kit.augment {size}x{size} vs the same on TensorFlow's kernels",
        ours,
        kit_augment(jit_compile=False).augment_images(images, seed),
        2e-4,
    )
    if np.allclose(ours, images, atol=1e-3):
        raise ValueError("kit.augment must change the images before it is timed; it did not.")
    check_equal(
        f"kit apply_projective {size}x{size} vs ImageProjectiveTransformV3",
        kit.transforms.functional.projective.apply_projective(
            images, transforms, fill_mode="reflect", jit_compile=True
        ),
        one_resampling(images),
        2e-4,
    )

    def run(function, batch):
        def call():
            for _ in range(num_batches):
                function(batch)
            function(batch).numpy()

        return call

    times.update(
        interleaved(
            {
                "kit one batch (float)": run(kit_float_batch, images),
                "ImageProjectiveTransformV3": run(one_resampling, images),
                "kit one batch (uint8)": run(kit_batch, uint8_batch),
                "uint8->float32 cast": run(cast, uint8_batch),
            },
            3 * repeats,  # cheap: more rounds filter more noise
        )
    )
    shape = f"{num_batches}x[{batch_size}, {size}, {size}, 3]"
    for name, seconds in times.items():
        print(f"augment {shape:24s} {name:28s} {seconds * 1000:9.1f} ms")
    return {
        f"vs_keras_layers_{size}_batched": times["keras batched"] / times["kit batched"],
        f"vs_keras_layers_{size}_per_image": times["keras per image"] / times["kit per image"],
        f"vs_keras_layers_{size}_batched_map": times["keras batched"] / times["kit batched (map)"],
        f"vs_keras_layers_{size}_per_image_map": times["keras per image"]
        / times["kit per image (map)"],
        f"vs_one_resampling_{size}": times["ImageProjectiveTransformV3"]
        / times["kit one batch (float)"],
        f"vs_cast_floor_{size}": times["uint8->float32 cast"] / times["kit one batch (uint8)"],
    }


def small_cnn(num_classes):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def bench_fit(num_images, epochs, repeats):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (num_images, 32, 32, 3)).astype(np.uint8)
    labels = rng.integers(0, 10, num_images)
    base = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    # No augmentation: only the uint8 -> [0, 1] scaling, in a stateless parallel map.
    plain = (
        base.batch(64)
        .map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    augmented = (
        base.batch(64)
        .apply(
            kit.augment(
                horizontal_flip=True,
                rotation_range=ROTATION_DEGREES,
                zoom_range=ZOOM,
                contrast_range=[1 - CONTRAST, 1 + CONTRAST],
                seed=0,
            )
        )
        .prefetch(tf.data.AUTOTUNE)
    )
    keras.utils.set_random_seed(0)
    # One model for both: the same compiled train step, so only the input pipeline differs.
    model = small_cnn(10)
    data = {"without augmentation": plain, "with kit.augment": augmented}
    times = interleaved(
        {
            name: (lambda d=dataset: model.fit(d, epochs=epochs, shuffle=False, verbose=0))
            for name, dataset in data.items()
        },
        repeats,
    )
    for name, seconds in times.items():
        rate = num_images * epochs / seconds
        print(f"fit     small CNN 32x32, {num_images} images  {name:22s} {rate:9.0f} img/s")
    return {"fit_with_vs_without": times["without augmentation"] / times["with kit.augment"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description="kit.augment throughput, side by side.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        ratios = bench_size(224, batch_size=2, num_batches=1, repeats=1)
        ratios.update(bench_size(32, batch_size=4, num_batches=1, repeats=1))
        ratios.update(bench_fit(num_images=64, epochs=1, repeats=1))
    else:
        ratios = bench_size(224, batch_size=32, num_batches=16, repeats=5)
        ratios.update(bench_size(32, batch_size=128, num_batches=64, repeats=5))
        ratios.update(bench_fit(num_images=4096, epochs=2, repeats=5))
    print(" ".join(f"{name}={value:.2f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
