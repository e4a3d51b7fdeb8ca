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


def apply(image, jit_compile="auto", **steps):
    matrix = projective.compose_geometry(image.shape[1], image.shape[2], **steps)
    return projective.apply_projective(image, matrix, fill_mode="constant", jit_compile=jit_compile)


# Both resamplers: TensorFlow's kernel (False) and the kit's XLA kernel (True).
BOTH_PATHS = pytest.mark.parametrize("jit_compile", [False, True], ids=["tf_kernel", "xla"])


@BOTH_PATHS
@pytest.mark.parametrize("dx,dy", [(3, 0), (0, 2), (-2, 1), (4, -3)])
def test_a_shift_by_k_pixels_moves_a_marked_pixel_by_k(dx, dy, jit_compile):
    image = marked(9, 11, 4, 5)
    moved = apply(image, jit_compile, shift=([float(dx)], [float(dy)]))
    assert position(moved) == (4 + dy, 5 + dx)


@BOTH_PATHS
def test_rotation_by_90_degrees_turns_counter_clockwise_about_the_centre(jit_compile):
    image = marked(9, 9, 4, 7)  # 3 right of the centre (4, 4)
    assert position(apply(image, jit_compile, degrees=[90.0])) == (1, 4)  # 3 above
    assert position(apply(image, jit_compile, degrees=[-90.0])) == (7, 4)  # 3 below
    assert position(apply(image, jit_compile, degrees=[180.0])) == (4, 1)


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
        ("wrap", [3, 4, 1, 2]),  # Keras 2 (scipy's legacy wrap, period 3): [2, 3, 1, 2]
    ],
)
@BOTH_PATHS
def test_fill_modes_fill_uncovered_pixels(fill_mode, expected, jit_compile):
    row = np.array([[1, 2, 3, 4]], np.float32)[None, ..., None]
    matrix = projective.compose_geometry(1, 4, shift=([2.0], [0.0]))
    out = projective.apply_projective(
        row, matrix, fill_mode=fill_mode, fill_value=0.5, jit_compile=jit_compile
    )
    np.testing.assert_allclose(out.numpy().ravel(), expected)


def test_compose_without_steps_is_rejected():
    with pytest.raises(ValueError, match="compose_geometry: at least one of"):
        projective.compose_geometry(4, 4)


def tf_kernel(images, parameters, fill_mode, interpolation, fill_value=0.25):
    """The reference: TensorFlow's own `ImageProjectiveTransformV3`, called directly."""
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.constant(parameters, tf.float32),
        output_shape=tf.shape(images)[1:3],
        fill_value=fill_value,
        interpolation=projective.INTERPOLATIONS[interpolation],
        fill_mode=projective.FILL_MODES[fill_mode],
    ).numpy()


@pytest.mark.parametrize("fill_mode", sorted(projective.FILL_MODES))
@pytest.mark.parametrize("interpolation", sorted(projective.INTERPOLATIONS))
def test_the_xla_kernel_equals_image_projective_transform_v3(fill_mode, interpolation):
    """Random projective matrices (far outside the image too), odd sizes, 1-pixel axes."""
    rng = np.random.default_rng(7)
    for trial in range(12):
        num, height, width, channels = (int(v) for v in rng.integers(1, [4, 17, 17, 5]))
        if trial < 2:
            height = 1 if trial == 0 else height
            width = 1 if trial == 1 else width
        images = rng.random((num, height, width, channels)).astype(np.float32)
        parameters = rng.normal(0.0, 1.0, (num, 8)).astype(np.float32)
        parameters[:, [0, 4]] += 1.0
        parameters[:, [2, 5]] *= 12.0  # shifts of several image sizes: every fill branch
        parameters[:, 6:] *= 0.03 if trial % 2 else 0.0  # affine and truly projective
        expected = tf_kernel(images, parameters, fill_mode, interpolation)
        actual = projective.apply_projective(
            images, parameters, fill_mode, 0.25, interpolation, jit_compile=True
        )
        np.testing.assert_allclose(actual.numpy(), expected, atol=1e-4, err_msg=f"{trial}")


@pytest.mark.parametrize("fill_mode", sorted(projective.FILL_MODES))
def test_the_xla_kernel_rounds_half_pixels_as_the_tf_kernel(fill_mode):
    """Nearest interpolation on exact ties (`std::round`: away from zero), shared matrix."""
    images = np.random.default_rng(3).random((2, 9, 8, 3)).astype(np.float32)
    for parameters in (
        [[0.5, 0, 0, 0, 0.5, 0, 0, 0]],
        [[1, 0, -0.5, 0, 1, 0.5, 0, 0]],
        [[1, 0, -3.5, 0, 1, -2.5, 0, 0]],
        [[-1, 0, 7.5, 0, 1, 0, 0, 0]],
        [[1, 0, 0, 0, 1, 0, 0.5, -0.125]],  # a line of points at infinity
    ):
        expected = tf_kernel(images, parameters, fill_mode, "nearest")
        actual = projective.apply_projective(
            images, np.array(parameters, np.float32), fill_mode, 0.25, "nearest", True
        )
        np.testing.assert_array_equal(actual.numpy(), expected)


@pytest.mark.parametrize("interpolation", sorted(projective.INTERPOLATIONS))
def test_points_far_outside_or_at_infinity_read_only_the_fill_value(interpolation):
    """As TensorFlow's kernel: such points never read a pixel, even with weight 0."""
    images = np.random.default_rng(5).random((1, 6, 7, 2)).astype(np.float32)
    images[0, [0, 0, -1, -1], [0, -1, 0, -1]] = np.nan  # corners: 0 * nan would be nan
    for parameters in (
        [[1, 0, -40.0, 0, 1, 0, 0, 0]],  # every point far to the left, rows unchanged
        [[1, 0, 0, 0, 1, 0, 0.5, -0.125]],  # a line of points at infinity
    ):
        expected = tf_kernel(images, parameters, "constant", interpolation)
        actual = projective.apply_projective(
            images, np.array(parameters, np.float32), "constant", 0.25, interpolation, True
        ).numpy()
        read = ~np.isnan(expected)  # TF's kernel reads a nan corner for a few points only
        assert read.any() and np.isnan(actual).sum() == np.isnan(expected).sum()
        np.testing.assert_allclose(actual[read], expected[read], atol=1e-6)  # FMA rounding


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_xla_kernel_keeps_the_float_dtype(dtype):
    images = tf.cast(np.random.default_rng(0).random((2, 6, 7, 3)), dtype)
    parameters = np.array([[0.9, 0.2, 1.0, -0.1, 1.1, -0.5, 0, 0]] * 2, np.float32)
    actual = projective.apply_projective(images, parameters, "reflect", jit_compile=True)
    expected = tf_kernel(images, parameters, "reflect", "bilinear")
    assert actual.dtype == images.dtype
    tolerance = 2e-3 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(actual.numpy(), expected, atol=tolerance)


def test_the_xla_kernel_runs_on_batches_of_unknown_size_in_tf_data():
    """`batch()` leaves the batch size unknown: one trace, the short last batch included."""
    images = np.random.default_rng(1).random((10, 12, 12, 3)).astype(np.float32)
    parameters = tf.constant([[1.0, 0.1, 0.5, -0.1, 1.0, -0.5, 0.0, 0.0]])
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(4)
    assert dataset.element_spec.shape[0] is None
    paths = []

    def resample(batch):
        paths.append(projective.use_xla_resampling(batch))
        return projective.apply_projective(batch, parameters, "wrap")

    resampled = dataset.map(resample)
    assert paths == [True]
    actual = np.concatenate([batch.numpy() for batch in resampled])
    expected = tf_kernel(images, np.repeat(parameters.numpy(), 10, axis=0), "wrap", "bilinear")
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_auto_takes_the_xla_kernel_only_where_it_pays():
    def decision(shape):  # traced afresh for each shape: unknown sizes stay unknown
        decided = []

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def decide(images):
            decided.append(projective.use_xla_resampling(images))
            return images

        decide.get_concrete_function()
        return decided[0]

    assert decision([None, 32, 32, 3]) is True  # a batch of fixed-size images
    assert decision([128, 32, 32, 3]) is True
    # One small image: an XLA launch costs more than it saves.
    assert decision([1, 32, 32, 3]) is False
    assert decision([32, 32, 3]) is False
    assert decision([None, None, None, 3]) is False  # many sizes: one compilation per size
    uint8 = tf.zeros([4, 64, 64, 3], tf.uint8)
    assert projective.use_xla_resampling(uint8, True) is False  # integer images: TF kernel
    assert projective.use_xla_resampling(tf.zeros([1, 8, 8, 1]), True) is True
    assert projective.use_xla_resampling(tf.zeros([64, 64, 64, 3]), False) is False


def test_an_unknown_jit_compile_value_is_rejected():
    with pytest.raises(
        ValueError,
        match=r"apply_projective: `jit_compile` must be 'auto', True or False\. "
        r"Received: jit_compile='yes'",
    ):
        projective.apply_projective(
            np.zeros((1, 4, 4, 1), np.float32), [[1.0] + [0.0] * 7], jit_compile="yes"
        )


# -- Keras 2 parity of the fill modes (issue 18): ImageDataGenerator resampled with scipy --

PARITY_STEPS = [
    {"shift": ([2.5], [0.0])},
    {"shift": ([-4.3], [1.7])},
    {"degrees": [30.0]},
    {"degrees": [-73.0], "shift": ([0.4], [0.0])},
    {"zoom": ([1.3], [0.8])},
    {"zoom": ([0.7], [1.9]), "shift": ([1.1], [0.0]), "shear": [12.0]},
]


def keras_2(image, fill_mode, order, steps):
    """Keras 2's `apply_affine_transform` with the same steps (see the test above)."""
    dx, dy = (steps["shift"][0][0], steps["shift"][1][0]) if "shift" in steps else (0, 0)
    zx, zy = (steps["zoom"][0][0], steps["zoom"][1][0]) if "zoom" in steps else (1, 1)
    return apply_affine_transform(
        image, theta=steps.get("degrees", [0])[0], tx=-dx, ty=-dy,
        shear=steps.get("shear", [0])[0], zx=zx, zy=zy, row_axis=0, col_axis=1,
        channel_axis=2, fill_mode=fill_mode, cval=0.3, order=order,
    )


def kit_resampling(image, fill_mode, interpolation, steps, jit_compile, constant_edge):
    matrix = projective.compose_geometry(*image.shape[:2], **steps)
    return projective.apply_projective(
        image, matrix, fill_mode, 0.3, interpolation, jit_compile, constant_edge
    ).numpy()


# Square: Keras 2 put the centre of non-square images off by (h - w) / 2 (README).
NOISE = np.random.default_rng(0).random((16, 16, 2)).astype(np.float32)
INTERPOLATION_ORDERS = pytest.mark.parametrize(
    "interpolation,order", [("bilinear", 1), ("nearest", 0)]
)


@BOTH_PATHS
@INTERPOLATION_ORDERS
@pytest.mark.parametrize("steps", PARITY_STEPS)
def test_constant_edge_fill_equals_keras_2_constant(steps, interpolation, order, jit_compile):
    # Issue 18: TensorFlow's kernel blends the edge pixels with the fill value up to one
    # pixel outside the image (scipy's "grid-constant"); Keras 2 filled those outright.
    ours = kit_resampling(NOISE, "constant", interpolation, steps, jit_compile, "fill")
    np.testing.assert_allclose(ours, keras_2(NOISE, "constant", order, steps), atol=1e-5)
    if interpolation == "bilinear":  # (nearest: scipy and TF break ties at x.5 apart)
        blended = kit_resampling(NOISE, "constant", "bilinear", steps, jit_compile, "interpolate")
        grid_constant = keras_2(NOISE, "grid-constant", order, steps)
        np.testing.assert_allclose(blended, grid_constant, atol=1e-5)


@INTERPOLATION_ORDERS
@pytest.mark.parametrize("fill_mode", ["nearest", "reflect"])
@pytest.mark.parametrize("steps", PARITY_STEPS)
def test_nearest_and_reflect_equal_keras_2(steps, fill_mode, interpolation, order):
    ours = kit_resampling(NOISE, fill_mode, interpolation, steps, "auto", "interpolate")
    np.testing.assert_allclose(ours, keras_2(NOISE, fill_mode, order, steps), atol=1e-5)


@BOTH_PATHS
@INTERPOLATION_ORDERS
@pytest.mark.parametrize("steps", PARITY_STEPS)
def test_wrap_differs_from_keras_2_only_where_it_samples_outside(
    steps, interpolation, order, jit_compile
):
    # README, "Keras 2 differences": Keras 2's wrap was scipy's legacy "wrap" (period
    # size - 1); the kit keeps TensorFlow's (and Keras 3's) wrap, a tiling with the
    # image's own period: with bilinear interpolation scipy's "grid-wrap" but for the seam
    # between the last and the first pixel, which reads the edge pixel.
    ours = kit_resampling(NOISE, "wrap", interpolation, steps, jit_compile, "interpolate")
    parameters = projective.to_projective_parameters(projective.compose_geometry(16, 16, **steps))
    outside = projective.sampled_outside(parameters, 16, 16).numpy()[0, ..., 0]
    assert outside.any() and not outside.all()
    np.testing.assert_allclose(ours[~outside], keras_2(NOISE, "wrap", order, steps)[~outside],
                               atol=1e-5)
    assert np.abs(ours[outside] - keras_2(NOISE, "wrap", order, steps)[outside]).max() > 0.1
    if interpolation == "nearest":
        return  # TensorFlow maps the point before rounding it: its seam is wider
    # Off the seam, scipy's "grid-wrap" (a tiling with the image's period).
    size = NOISE.shape[0]
    matrix = projective.compose_geometry(size, size, **steps).numpy()[0]
    rows, cols = np.mgrid[:size, :size]
    x = matrix[0, 0] * cols + matrix[0, 1] * rows + matrix[0, 2]
    y = matrix[1, 0] * cols + matrix[1, 1] * rows + matrix[1, 2]
    seam = (np.mod(x, size) > size - 1 - 1e-4) | (np.mod(y, size) > size - 1 - 1e-4)
    grid_wrap = keras_2(NOISE, "grid-wrap", order, steps)
    assert (~seam).mean() > 0.8
    np.testing.assert_allclose(ours[~seam], grid_wrap[~seam], atol=1e-5)


def test_an_integer_shift_with_wrap_is_a_roll_keras_2_was_not():
    image = NOISE[None]
    matrix = projective.compose_geometry(16, 16, shift=([3.0], [-2.0]))
    ours = projective.apply_projective(image, matrix, "wrap").numpy()[0]
    np.testing.assert_array_equal(ours, np.roll(NOISE, (-2, 3), axis=(0, 1)))
    theirs = keras_2(NOISE, "wrap", 1, {"shift": ([3.0], [-2.0])})
    assert not np.allclose(theirs, np.roll(NOISE, (-2, 3), axis=(0, 1)))


def test_an_unknown_constant_edge_is_rejected():
    with pytest.raises(ValueError, match=r"apply_projective: `constant_edge` must be one of "
                       r"\['fill', 'interpolate'\]\. Received: constant_edge='exact'"):
        projective.apply_projective(
            np.zeros((1, 4, 4, 1), np.float32), [[1.0] + [0.0] * 7], constant_edge="exact"
        )
