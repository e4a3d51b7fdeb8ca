"""Before/after image grids for TensorBoard: one row per transform, one column per image."""

import os

import tensorflow as tf

from keras_accuracy_kit._core import atomic, checks
from keras_accuracy_kit.transforms.functional import geometry


def image_grid(rows, cell_size=(64, 64), spacing=2, background=1.0):
    """Tiles rows of images into one RGB grid image, each image letterboxed into a cell.

    Args:
        rows: Sequence of image batches `(N_i, H_i, W_i, C_i)`, floats in [0, 1] (or
            uint8), with 1 or 3 channels; sizes may differ between rows. Row `i` holds the
            `N_i` images side by side; shorter rows are left blank on the right.
        cell_size: Pair of ints. Height and width of one cell; images keep their aspect
            ratio and are scaled with nearest-neighbour so that pixels stay visible.
            Defaults to `(64, 64)`.
        spacing: Int. Pixels between cells. Defaults to `2`.
        background: Float. Gray level of the spacing and letterbox bars. Defaults to `1.0`.

    Returns:
        A float32 tensor `(1, height, width, 3)`, ready for `tf.summary.image`.

    Example:

    >>> import tensorflow as tf
    >>> grid = image_grid([tf.zeros([3, 8, 8, 1]), tf.ones([2, 16, 8, 3])], cell_size=(32, 32))
    >>> grid.shape
    TensorShape([1, 68, 102, 3])
    """
    if not rows:
        raise ValueError(
            "image_grid: `rows` must hold at least one batch of images. Received: rows=[]."
        )
    cell_height = checks.check_positive_int("image_grid", "cell_size[0]", cell_size[0])
    cell_width = checks.check_positive_int("image_grid", "cell_size[1]", cell_size[1])
    num_columns = max(int(tf.shape(row)[0]) for row in rows)
    grid_rows = []
    for row in rows:
        row = tf.convert_to_tensor(row)
        checks.check_image_shape("image_grid", row.shape)
        if row.shape.rank == 3:
            row = row[None]
        row = checks.to_unit_float(row)
        if row.shape[-1] == 1:
            row = tf.image.grayscale_to_rgb(row)
        elif row.shape[-1] != 3:
            raise ValueError(
                "image_grid: `rows` must hold images with 1 or 3 channels. Received: a row "
                f"with shape {row.shape}. Pick 3 channels with `images[..., :3]`."
            )
        cells = geometry.resize_images(
            tf.cast(row, tf.float32),
            cell_height,
            cell_width,
            mode="pad",
            interpolation="nearest",
            pad_value=background,
        )
        missing = num_columns - int(tf.shape(cells)[0])
        if missing:
            blank = tf.fill([missing, cell_height, cell_width, 3], float(background))
            cells = tf.concat([cells, blank], axis=0)
        cells = tf.pad(
            cells, [[0, 0], [0, spacing], [0, spacing], [0, 0]], constant_values=background
        )
        grid_rows.append(tf.concat(tf.unstack(cells), axis=1))
    grid = tf.concat(grid_rows, axis=0)
    return tf.clip_by_value(grid, 0.0, 1.0)[None]


def write_image_grid(logdir, tag, grid, step=0, description=None, png=True, writer=None):
    """Writes a grid image to TensorBoard (and, by default, next to it as a PNG).

    Args:
        logdir: Path. The TensorBoard log directory; created if missing.
        tag: String. The summary tag, e.g. `"transforms/before_after"`.
        grid: Float tensor `(1, height, width, 3)` in [0, 1], as `image_grid` returns.
        step: Int. The summary step. Defaults to `0`.
        description: Optional markdown shown under the image in TensorBoard.
        png: Bool. Also write `<logdir>/<tag with / as _>.png` atomically. Defaults to
            `True`.
        writer: Optional `tf.summary` writer already open on `logdir`, which is used and
            left open (one events file per run). Defaults to `None`: a writer is opened
            and closed.

    Returns:
        The PNG path, or `None` when `png=False`.
    """
    logdir = checks.ensure_writable_directory("write_image_grid", "logdir", logdir)
    own_writer = writer is None
    if own_writer:
        writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        tf.summary.image(tag, grid, step=step, max_outputs=1, description=description)
    writer.flush()
    if own_writer:
        writer.close()
    if not png:
        return None
    encoded = tf.io.encode_png(tf.cast(tf.round(grid[0] * 255.0), tf.uint8))
    path = os.path.join(logdir, tag.replace("/", "_") + ".png")
    atomic.atomic_write_bytes(path, encoded.numpy())
    return path
