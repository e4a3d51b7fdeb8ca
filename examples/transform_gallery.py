"""Pushes scikit-learn's digits through the kit's transforms and shows before/after grids.

Run it with `make demo`, or directly:

    python examples/transform_gallery.py --logdir runs/demo

then open the grid with `tensorboard --logdir runs/demo` (IMAGES tab), or look at the PNG
written beside the event file.
"""

import argparse
import os

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting import image_grid, write_image_grid
from keras_accuracy_kit.transforms import functional as F

# (row title, transform) in the order the rows appear in the grid.
GALLERY = [
    ("resize 24x40, mode='pad' (letterbox)", kit.resize(24, 40, mode="pad", pad_value=0.5)),
    ("resize 24x40, mode='crop' (centre)", kit.resize(24, 40, mode="crop")),
    ("resize 24x40, mode='stretch'", kit.resize(24, 40, mode="stretch")),
    ("to_grayscale()", kit.to_grayscale()),
    ("to_hsv() shown as RGB", kit.to_hsv()),
    ("to_lab(output_range='unit') shown as RGB", kit.to_lab(output_range="unit")),
    ("to_yuv(output_range='unit') shown as RGB", kit.to_yuv(output_range="unit")),
]


def coloured_digits(num_images, seed):
    """The first `num_images` digits as uint8 RGB, each tinted with its own hue.

    The 8x8 digits are gray; a per-image hue (from `seed`) gives the colour transforms
    something to show.
    """
    digits = load_digits()
    ink = digits.images[:num_images, :, :, None] / 16.0
    hues = np.random.default_rng(seed).random(num_images)
    ink_colour = F.hsv_to_rgb(np.stack([hues, np.full_like(hues, 0.9), np.ones_like(hues)], -1))
    paper_colour = F.hsv_to_rgb(
        np.stack([(hues + 0.5) % 1.0, np.full_like(hues, 0.4), np.full_like(hues, 0.3)], -1)
    )
    ink_colour = ink_colour.numpy()[:, None, None, :]
    paper_colour = paper_colour.numpy()[:, None, None, :]
    rgb = ink * ink_colour + (1.0 - ink) * paper_colour
    return np.round(rgb * 255).astype(np.uint8), digits.target[:num_images]


def run(logdir, num_images=8, seed=0):
    """Builds the gallery and writes it to `logdir`.

    Returns:
        Dict with the `png` path, the `grid` tensor and the row `titles`.
    """
    images, labels = coloured_digits(num_images, seed)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    rows, titles = [images], ["original (uint8 RGB)"]
    for title, transform in GALLERY:
        transformed, _ = next(iter(dataset.map(transform).batch(num_images)))
        rows.append(transformed)
        titles.append(title)
    grid = image_grid(rows, cell_size=(48, 80))
    description = "Rows, top to bottom:\n\n" + "\n".join(
        f"{i + 1}. `{title}`" for i, title in enumerate(titles)
    )
    png = write_image_grid(logdir, "transforms/before_after", grid, description=description)
    return {"png": png, "grid": grid, "titles": titles}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/demo", help="TensorBoard log directory")
    parser.add_argument("--num-images", type=int, default=8, help="digits per row")
    parser.add_argument("--seed", type=int, default=0, help="seed for the tints")
    args = parser.parse_args(argv)
    result = run(args.logdir, num_images=args.num_images, seed=args.seed)
    logdir = os.path.abspath(args.logdir)
    print(f"Wrote {len(result['titles'])} before/after rows to {logdir}")
    print(f"  image: {result['png']}")
    print("Open it in TensorBoard (IMAGES tab):")
    print(f"  tensorboard --logdir {args.logdir}")
    return result


if __name__ == "__main__":
    main()
