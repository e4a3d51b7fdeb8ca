"""Augments scikit-learn's digits the ImageDataGenerator way, and checks the labels survive.

A 3 flipped left-right is not a 3 and a 6 turned by 180 degrees is a 9: this example builds
a typical `ImageDataGenerator` config with `kit.augment.from_config`, previews it, lets
`kit.check_invariance` flag the steps that change digits, and keeps the rest with
`augment.checked(...)`. Run it directly:

    python examples/augment_digits.py --logdir runs/augment

then look at the preview, the report and its example grid with
`tensorboard --logdir runs/augment` (IMAGES and TEXT tabs).
"""

import argparse
import os
import warnings

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit

# A Keras 2 ImageDataGenerator config, verbatim.
IMAGE_DATA_GENERATOR_KWARGS = {
    "rotation_range": 180,
    "width_shift_range": 0.1,
    "height_shift_range": 0.1,
    "zoom_range": 0.1,
    "horizontal_flip": True,
    "fill_mode": "constant",
    "rescale": 1.0 / 255,
}


def run(logdir, num_images=1000, seed=0):
    digits = load_digits()
    images = np.round(digits.images[..., None] * (255 / 16)).astype(np.float32)  # 0-255
    train = tf.data.Dataset.from_tensor_slices((images, digits.target)).batch(64)
    augment = kit.augment.from_config({**IMAGE_DATA_GENERATOR_KWARGS, "seed": seed})
    preview = augment.preview(train, logdir)
    report = kit.check_invariance(train, augment, num_images=num_images, logdir=logdir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checked = augment.checked(train, model=report.model, num_images=num_images)
    return {
        "preview": preview,
        "report": report,
        "checked": checked,
        "removed": [str(w.message) for w in caught],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/augment", help="TensorBoard log directory")
    parser.add_argument("--num-images", type=int, default=1000, help="images the guard uses")
    parser.add_argument("--seed", type=int, default=0, help="augmentation seed")
    args = parser.parse_args(argv)
    result = run(args.logdir, num_images=args.num_images, seed=args.seed)
    print(result["report"])
    for message in result["removed"]:
        print(message)
    print(f"Preview: {result['preview']}")
    print("Open the preview and the report in TensorBoard (IMAGES and TEXT tabs):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
