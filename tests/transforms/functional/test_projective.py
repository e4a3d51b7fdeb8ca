"""One projective matrix per image: hand-derived positions, Keras 2 parity, fused vs chained."""

import numpy as np
import pytest
import tensorflow as tf
from keras.src.legacy.preprocessing.image import apply_affine_transform

from keras_accuracy_kit.transforms.functional import projective


def marked(height, width, row, col):
    image = np.zeros((1, height, width, 1), np.float32)
    image[0, row, col, 0] = 1.0
    return image


def position(image):
    """(row, col) of the single bright pixel."""
    rows, cols = np.nonzero(np.asarray(image)[0, ..., 0] > 0.5)
    assert len(rows) == 1, np.asarray(image)[0, ..., 0]
    return int(rows[0]), int(cols[0])


def apply(image, **steps):
    matrix = projective.compose_geometry(image.shape[1], image.shape[2], **steps)
    return projective.apply_projective(image, matrix, fill_mode="constant")


@pytest.mark.parametrize("dx,dy", [(3, 0), (0, 2), (-2, 1), (4, -3)])
def test_a_shift_by_k_pixels_moves_a_marked_pixel_by_k(dx, dy):
    image = marked(9, 11, 4, 5)
    assert position(apply(image, shift=([float(dx)], [float(dy)]))) == (4 + dy, 5 + dx)


def test_rotation_by_90_degrees_turns_counter_clockwise_about_the_centre():
    image = marked(9, 9, 4, 7)  # 3 right of the centre (4, 4)
    assert position(apply(image, degrees=[90.0])) == (1, 4)  # 3 above
    assert position(apply(image, degrees=[-90.0])) == (7, 4)  # 3 below
    assert position(apply(image, degrees=[180.0])) == (4, 1)


def test_rotation_centre_is_exact_on_non_square_images():
    image = marked(7, 10, 3, 6)  # centre (3, 4.5): 1.5 right
    rotated = apply(image, degrees=[180.0])
    assert position(rotated) == (3, 3)  # 1.5 left


def test_zoom_above_one_zooms_out_and_below_one_zooms_in():
    image = marked(9, 9, 4, 8)  # 4 right of the centre
    assert position(apply(image, zoom=([2.0], [1.0]))) == (4, 6)  # out: 2 right
    image = marked(9, 9, 2, 4)  # 2 above the centre
    assert position(apply(image, zoom=([1.0], [0.5]))) == (0, 4)  # in: 4 above


def test_shear_slides_rows_sideways_as_keras_2():
    # x_in = x_out - sin(s) * y_out and y_in = cos(s) * y_out, about the centre.
    shear = 30.0
    s = np.deg2rad(shear)
    image = marked(21, 21, 10 + 3, 10 + 2)  # input (x, y) = (2, 3) from the centre
    y_out = 3 / np.cos(s)
    x_out = 2 + np.sin(s) * y_out
    out = apply(image, shear=[shear]).numpy()[0, ..., 0]
    rows, cols = np.mgrid[:21, :21]
    centroid = (np.sum(rows * out) / out.sum() - 10, np.sum(cols * out) / out.sum() - 10)
    np.testing.assert_allclose(centroid, (y_out, x_out), atol=0.35)


def test_flips_mirror_about_the_centre():
    image = marked(5, 6, 1, 0)
    assert position(apply(image, flip=([True], [False]))) == (1, 5)
    assert position(apply(image, flip=([False], [True]))) == (3, 0)
    assert position(apply(image, flip=([True], [True]))) == (3, 5)


def smooth_image(size=32, channels=2):
    rows, cols = np.mgrid[:size, :size] / size
    planes = [np.sin(3 * rows + 2 * cols), np.cos(2 * rows - cols) * rows]
    return (0.5 + 0.4 * np.stack(planes[:channels], -1)).astype(np.float32)


@pytest.mark.parametrize(
    "theta,dx,dy,shear,zx,zy",
    [
        (25.0, 0, 0, 0, 1, 1),
        (0, 3.0, -2.0, 0, 1, 1),
        (0, 0, 0, 15.0, 1, 1),
        (0, 0, 0, 0, 1.2, 0.9),
        (-40.0, 2.5, 1.0, 10.0, 0.8, 1.1),
    ],
)
def test_matches_keras_2_apply_affine_transform(theta, dx, dy, shear, zx, zy):
    image = smooth_image()
    # Keras 2 offsets move content by -tx along x (columns) and -ty along y (rows).
    expected = apply_affine_transform(
        image,
        theta=theta,
        tx=-dx,
        ty=-dy,
        shear=shear,
        zx=zx,
        zy=zy,
        row_axis=0,
        col_axis=1,
        channel_axis=2,
        fill_mode="nearest",
        order=1,
    )
    matrix = projective.compose_geometry(
        32, 32, degrees=[theta], shift=([dx], [dy]), shear=[shear], zoom=([zx], [zy])
    )
    actual = projective.apply_projective(image, matrix, fill_mode="nearest").numpy()
    np.testing.assert_allclose(actual[4:-4, 4:-4], expected[4:-4, 4:-4], atol=1e-4)


def test_one_fused_resampling_matches_the_steps_one_after_the_other():
    images = np.stack([smooth_image(48, 2), smooth_image(48, 2)[::-1]])
    steps = {
        "degrees": [20.0, -35.0],
        "shift": ([2.0, -3.0], [1.0, 2.5]),
        "shear": [8.0, -5.0],
        "zoom": ([0.9, 1.1], [1.1, 0.95]),
        "flip": ([True, False], [False, True]),
    }
    fused = projective.apply_projective(images, projective.compose_geometry(48, 48, **steps))
    chained = tf.constant(images)
    for name, value in steps.items():  # output = in(R S Sh Z F p): apply R first
        chained = projective.apply_projective(
            chained, projective.compose_geometry(48, 48, **{name: value})
        )
    interior = (slice(None), slice(10, -10), slice(10, -10))
    difference = np.abs(fused.numpy()[interior] - chained.numpy()[interior])
    assert difference.max() < 0.03 and difference.mean() < 0.005


def test_batched_matrices_transform_each_image_on_its_own():
    images = np.concatenate([marked(9, 9, 4, 4)] * 3)
    matrix = projective.compose_geometry(9, 9, shift=([1.0, 2.0, -3.0], [0.0, -1.0, 2.0]))
    out = projective.apply_projective(images, matrix, fill_mode="constant").numpy()
    assert [position(out[i : i + 1]) for i in range(3)] == [(4, 5), (3, 6), (6, 1)]


@pytest.mark.parametrize(
    "fill_mode,expected",
    [
        ("constant", [0.5, 0.5, 1, 2]),
        ("nearest", [1, 1, 1, 2]),
        ("reflect", [2, 1, 1, 2]),
        ("wrap", [3, 4, 1, 2]),
    ],
)
def test_fill_modes_fill_uncovered_pixels_as_keras_2(fill_mode, expected):
    row = np.array([[1, 2, 3, 4]], np.float32)[None, ..., None]
    matrix = projective.compose_geometry(1, 4, shift=([2.0], [0.0]))
    out = projective.apply_projective(row, matrix, fill_mode=fill_mode, fill_value=0.5)
    np.testing.assert_allclose(out.numpy().ravel(), expected)


def test_compose_without_steps_is_rejected():
    with pytest.raises(ValueError, match="compose_geometry: at least one of"):
        projective.compose_geometry(4, 4)
