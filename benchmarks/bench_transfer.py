"""Head training on cached backbone features vs through the frozen backbone, in one run.

`kit.transfer.fine_tune` trains its head on features computed once per image
(`kit.transfer.cache_features`) when nothing random comes before the backbone. This script
measures what that saves on a conv backbone (MobileNetV2, random weights: no download; the
cost does not depend on the weights) at 96x96 RGB, with a softmax head on 5 classes:

- `through_backbone`: one epoch of `fit` of the whole classifier, backbone frozen (each
  step runs the backbone forward, then trains the head);
- `cached`: one epoch of `fit` of the same head on the cached features (same images, same
  batches of 32).

Before timing, it checks that the two compute the same thing: the head on the cached
features gives the classifier's outputs on the images (max difference printed, at most
1e-4). Epochs alternate (through the backbone, cached, ...) and each side keeps its best
time. It prints the seconds per epoch, the one-time caching cost, and last the ratios as
`name=value`:

- `head_epoch_cached_vs_backbone`: seconds per epoch through the backbone / cached;
- `caching_vs_backbone_epoch`: the one-time caching cost / one epoch through the backbone
  (the cache pays for itself after about that many epochs).

`--quick` makes a smoke run (32x32, 64 images).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_accuracy_kit as kit  # noqa: E402
from keras_accuracy_kit.transfer.cache_features import split_at_extractor  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import interleaved  # noqa: E402

NUM_CLASSES = 5
BATCH_SIZE = 32


def main(argv=None):
    parser = argparse.ArgumentParser(description="head epoch: cached features vs backbone")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    size, num_images, repeats = (32, 64, 1) if args.quick else (96, 512, 3)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (num_images, size, size, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, num_images)
    train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(BATCH_SIZE)

    model = kit.transfer.classifier(
        "mobilenet_v2", NUM_CLASSES, (size, size, 3), image_size=(size, size), weights=None
    )
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    _, head = split_at_extractor(model)
    head.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")

    start = time.perf_counter()
    features, cached_labels = kit.transfer.cache_features(model, train)
    caching_seconds = time.perf_counter() - start
    cached = tf.data.Dataset.from_tensor_slices((features, cached_labels)).batch(BATCH_SIZE)

    # The same computation: the head on cached features = the classifier on the images.
    difference = float(np.max(np.abs(head.predict(features, verbose=0) - model.predict(
        images, verbose=0
    ))))  # fmt: skip
    print(f"max |head(cached features) - classifier(images)| = {difference:.2e}")
    if not difference <= 1e-4:
        raise SystemExit("bench_transfer: cached and uncached head outputs disagree")

    best = interleaved(
        {
            "through_backbone": lambda: model.fit(train, epochs=1, shuffle=False, verbose=0),
            "cached": lambda: head.fit(cached, epochs=1, shuffle=False, verbose=0),
        },
        repeats,
    )
    description = f"{num_images} images {size}x{size}x3, MobileNetV2 frozen, batch {BATCH_SIZE}"
    for name, seconds in best.items():
        print(f"head epoch, {description}, {name:16s} {seconds:8.3f} s")
    print(f"caching the features once: {caching_seconds:.3f} s")
    ratios = {
        "head_epoch_cached_vs_backbone": best["through_backbone"] / best["cached"],
        "caching_vs_backbone_epoch": caching_seconds / best["through_backbone"],
    }
    print(" ".join(f"{name}={value:.2f}" for name, value in ratios.items()))
    return ratios


if __name__ == "__main__":
    main()
