"""Throughput of the kit's transforms, measured side by side with their alternatives.

Prints one line per measurement and, last, the ratios as `name=value` pairs (higher is
better for the kit; a ratio is the alternative's time divided by the kit's):

- `lab_vs_skimage`: `kit.to_lab()` on a [64, 224, 224, 3] float32 batch vs
  `skimage.color.rgb2lab` on the same batch (target >= 3).
- `lab_vs_cast_floor`: the same vs a bare uint8 -> float32 cast of that batch (the floor:
  no conversion can beat reading and writing the batch once; 1.0 would be free).
- `resize_vs_stretch_{per_image,batched}`: `kit.resize(224, 224, mode="pad")` on 640x480
  uint8 images vs `tf.image.resize` stretching them, in the same `dataset.map` placement
  (target >= 0.9).
- `resize_vs_keras_pad_{per_image,batched}`: the same vs
  `keras.layers.Resizing(224, 224, pad_to_aspect_ratio=True)` (target >= 1.3).

Before timing, each kit transform is checked to give the reference's output (`check ...`
lines): `kit.to_lab()` equals `skimage.color.rgb2lab` within 1e-3 on the timed batch, and
`kit.resize(pad)` equals `tf.image.resize` to the aspect-preserving size padded with
`tf.image.pad_to_bounding_box`, scaled to [0, 1]; a wrong but fast kit stops the script.

Each timing is the best of several interleaved repeats, which filters out the noise of a
shared machine. Run `python benchmarks/bench_transforms.py` (add `--quick` for a smoke run).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from skimage import color as skcolor  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import check_equal, interleaved  # noqa: E402


def bench_lab(batch_size, size, repeats):
    rng = np.random.default_rng(0)
    rgb = rng.random((batch_size, size, size, 3), dtype=np.float32)
    rgb_uint8 = tf.constant((rgb * 255).astype(np.uint8))
    rgb_tensor = tf.constant(rgb)
    to_lab = kit.to_lab()
    check_equal(
        "kit.to_lab vs skimage.color.rgb2lab", to_lab(rgb_tensor), skcolor.rgb2lab(rgb), 1e-3
    )
    times = interleaved(
        {
            "skimage.color.rgb2lab": lambda: skcolor.rgb2lab(rgb),
            "kit.to_lab": lambda: to_lab(rgb_tensor).numpy(),
            "uint8->float32 cast": lambda: tf.cast(rgb_uint8, tf.float32).numpy(),
        },
        repeats,
    )
    shape = f"[{batch_size}, {size}, {size}, 3] float32"
    for name, seconds in times.items():
        print(f"lab  {shape:28s} {name:28s} {seconds * 1000:9.1f} ms")
    return {
        "lab_vs_skimage": times["skimage.color.rgb2lab"] / times["kit.to_lab"],
        "lab_vs_cast_floor": times["uint8->float32 cast"] / times["kit.to_lab"],
    }


def bench_resize(num_images, repeats, batch_size):
    rng = np.random.default_rng(1)
    distinct = rng.integers(0, 256, (16, 480, 640, 3)).astype(np.uint8)
    images = tf.data.Dataset.from_tensor_slices(distinct).repeat(num_images // 16).cache()
    for _ in images:  # fill the cache so that no candidate pays for the source
        pass
    candidates = {
        "kit.resize(pad)": kit.resize(224, 224, mode="pad"),
        "tf.image.resize (stretch)": lambda image: tf.image.resize(image, (224, 224)),
        "keras Resizing(pad_to_aspect_ratio)": keras.layers.Resizing(
            224, 224, pad_to_aspect_ratio=True
        ),
    }
    # The reference: the aspect-preserving size (640x480 -> 224x168), centred on zeros.
    reference = tf.image.pad_to_bounding_box(
        tf.image.resize(distinct[:4], (168, 224)), 28, 0, 224, 224
    ) / 255.0
    pad = candidates["kit.resize(pad)"]
    check_equal("kit.resize(pad) batched vs resize + pad", pad(distinct[:4]), reference, 1e-5)
    per_image = np.stack([pad(image) for image in distinct[:4]])
    check_equal("kit.resize(pad) per image vs resize + pad", per_image, reference, 1e-5)
    ratios = {}
    for placement in ("per_image", "batched"):
        source = images if placement == "per_image" else images.batch(batch_size)

        def run(function, source=source):
            pipeline = source.map(function, num_parallel_calls=tf.data.AUTOTUNE)
            for _ in pipeline.prefetch(2):
                pass

        times = interleaved({name: (lambda f=f: run(f)) for name, f in candidates.items()}, repeats)
        for name, seconds in times.items():
            print(
                f"resize 640x480->224x224 {placement:10s} {name:36s} "
                f"{num_images / seconds:9.0f} images/s"
            )
        ours = times["kit.resize(pad)"]
        ratios[f"resize_vs_stretch_{placement}"] = times["tf.image.resize (stretch)"] / ours
        ratios[f"resize_vs_keras_pad_{placement}"] = (
            times["keras Resizing(pad_to_aspect_ratio)"] / ours
        )
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description="Transform throughput, side by side.")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        ratios = bench_lab(batch_size=2, size=32, repeats=1)
        ratios.update(bench_resize(num_images=32, repeats=1, batch_size=8))
    else:
        ratios = bench_lab(batch_size=64, size=224, repeats=5)
        ratios.update(bench_resize(num_images=512, repeats=5, batch_size=32))
    print(" ".join(f"{name}={value:.2f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
