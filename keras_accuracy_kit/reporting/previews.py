"""TensorBoard previews of augmentations: what `Augment.preview` and
`InvarianceReport.write` write.

The transforms keep those methods (their public API) but do not import `reporting/` (imports
flow one way, see `tests/test_layering.py`): the functions here register themselves with
`_core.late_bound` when this module is imported, which `import keras_accuracy_kit` does.
"""

import tensorflow as tf

from keras_accuracy_kit._core import checks, elements, late_bound
from keras_accuracy_kit.reporting.image_grid import image_grid, write_image_grid


def write_augment_preview(
    augment, dataset, logdir, num_images=8, num_copies=3, tag="augment/preview"
):
    """Writes a grid of originals (first row) and augmented copies to TensorBoard.

    The body of `Augment.preview`; see there for the arguments.

    Returns:
        The path of the PNG written next to the event file.
    """
    num_images = checks.check_positive_int("Augment.preview", "num_images", num_images, 8)
    num_copies = checks.check_positive_int("Augment.preview", "num_copies", num_copies, 3)
    images = elements.take_images(dataset, num_images, owner="Augment.preview")
    originals = augment._scale_only(images)
    seed = tf.constant([0 if augment.seed is None else augment.seed, 0], tf.int64)
    rows = [originals]
    for copy in range(num_copies):
        rows.append(augment.augment_images(originals, seed + [0, copy + 1], images.dtype))
    return write_image_grid(
        logdir,
        tag,
        image_grid(rows),
        description="First row: originals; below: augmented copies.",
    )


def write_invariance_report(report, logdir, step=0, tag="augment/invariance"):
    """Logs an `InvarianceReport` to TensorBoard: the table, one scalar per step, a grid.

    The body of `InvarianceReport.write`; see there for the arguments.

    Returns:
        The path of the PNG of the example grid (`None` when the report has no examples).
    """
    logdir = checks.ensure_writable_directory("InvarianceReport.write", "logdir", logdir)
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        tf.summary.text(tag, report.to_markdown(), step=step)
        tf.summary.scalar(f"{tag}/baseline", report.baseline_rate, step=step)
        for row in report.rows:
            tf.summary.scalar(f"{tag}/{row.name}", row.change_rate, step=step)
    writer.flush()
    writer.close()
    if not report.examples:
        return None
    return write_image_grid(
        logdir,
        f"{tag}_examples",
        image_grid(list(report.examples.values())),
        step=step,
        description="Rows: " + ", ".join(report.examples),
    )


late_bound.register(f"{__name__}.write_augment_preview", write_augment_preview)
late_bound.register(f"{__name__}.write_invariance_report", write_invariance_report)
