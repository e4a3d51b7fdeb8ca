"""The resampling kernel against independent references, where the mutation check found gaps.

Each test here was written for mutants of `transforms/functional/projective.py` that the
other tests let through (issue 22; docs/development.md lists them): numpy's own rotations and
flips, TensorFlow's `ImageProjectiveTransformV3` and numbers derived by hand.
"""

import numpy as np
import pytest
import tensorflow as tf
from keras.src.legacy.preprocessing.image import apply_affine_transform

from keras_accuracy_kit.transforms.functional import projective

# A non-square image with an even and an odd side: centres (2.5, 3.0) are not both integers.
IMAGE = np.random.default_rng(22).random((1, 7, 6, 2)).astype(np.float32)


def run_time_sized(function):
    """`function(images, height, width)` traced with the image size unknown (as in `tf.data`)."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    def traced(images):
        shape = tf.shape(images)
        assert not isinstance(images.shape[1], int)  # the sizes are tensors here
        return function(images, shape[1], shape[2])

    return traced


def test_sizes_known_only_at_run_time_turn_about_the_same_centre_as_numpy():
    # A rotation by 180 degrees about the centre samples input (W - 1 - x, H - 1 - y):
    # parameters [-1, 0, W - 1, 0, -1, H - 1, 0, 0], by hand, and numpy's rot90 twice.
    def rotate(images, height, width):
        parameters = projective.affine_parameters(height, width, degrees=[180.0])
        moved = projective.apply_projective(images, parameters, "constant", jit_compile=False)
        return parameters, moved

    parameters, moved = run_time_sized(rotate)(tf.constant(IMAGE))
    np.testing.assert_allclose(parameters.numpy()[0], [-1, 0, 5, 0, -1, 6, 0, 0], atol=1e-5)
    np.testing.assert_allclose(moved.numpy(), np.rot90(IMAGE, 2, axes=(1, 2)), atol=1e-5)


def test_sizes_known_only_at_run_time_flip_about_the_same_centre_as_numpy():
    def flip(images, height, width):
        parameters = projective.affine_parameters(height, width, flip=([True], [False]))
        return projective.apply_projective(images, parameters, "constant", jit_compile=False)

    np.testing.assert_allclose(
        run_time_sized(flip)(tf.constant(IMAGE)).numpy(), IMAGE[:, :, ::-1], atol=1e-6
    )


@pytest.mark.parametrize("jit_compile", [False, True], ids=["tf_kernel", "xla"])
@pytest.mark.parametrize("offset", [-1e-3, 1e-3], ids=["before", "after"])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_a_point_exactly_the_edge_tolerance_outside_still_reads_the_image(
    axis, offset, jit_compile
):
    # `_EDGE_TOLERANCE` (1e-3) is how far outside a point "still reads" the image with
    # constant_edge="fill": at exactly that distance the result is TensorFlow's kernel's
    # (the edge pixel blended with 0.1 % fill, by hand); twice as far, the fill value.
    image = np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1)

    def parameters(shift):  # every output pixel samples the input point moved by `shift`
        matrix = np.array([[1, 0, 0, 0, 1, 0, 0, 0]], np.float32)
        matrix[0, 2 if axis == "x" else 5] = np.float32(shift)
        return matrix

    def resample(shift):
        return projective.apply_projective(
            image, parameters(shift), "constant", 0.5, "bilinear", jit_compile, "fill"
        ).numpy()[0, ..., 0]

    kernel = tf.raw_ops.ImageProjectiveTransformV3(
        images=image, transforms=parameters(offset), output_shape=[4, 5], fill_value=0.5,
        interpolation="BILINEAR", fill_mode="CONSTANT",
    ).numpy()[0, ..., 0]  # fmt: skip
    side = 0 if offset < 0 else -1
    edge = (slice(None), side) if axis == "x" else (side,)
    within = resample(offset)
    np.testing.assert_allclose(within, kernel, atol=1e-6)
    blended = image[0, ..., 0][edge] * (1 - abs(offset)) + 0.5 * abs(offset)
    np.testing.assert_allclose(within[edge], blended, rtol=1e-4)
    np.testing.assert_array_equal(resample(2 * offset)[edge], 0.5)


@pytest.mark.parametrize(
    "spec", [[None, None, 6, 2], [None, 7, None, 2]], ids=["height_later", "width_later"]
)
def test_a_size_known_on_one_axis_only_turns_about_the_same_centre_as_numpy(spec):
    # `Augment` passes the size "static where known": an int on one axis, a tensor on the
    # other (found by the mutation check: `isinstance(h, int) and isinstance(w, int)` -> `or`).
    @tf.function(input_signature=[tf.TensorSpec(spec, tf.float32)])
    def rotate(images):
        height = images.shape[1] if images.shape[1] is not None else tf.shape(images)[1]
        width = images.shape[2] if images.shape[2] is not None else tf.shape(images)[2]
        assert isinstance(height, int) != isinstance(width, int)
        parameters = projective.affine_parameters(height, width, degrees=[180.0])
        moved = projective.apply_projective(images, parameters, "constant", jit_compile=False)
        return parameters, moved

    parameters, moved = rotate(tf.constant(IMAGE))
    np.testing.assert_allclose(parameters.numpy()[0], [-1, 0, 5, 0, -1, 6, 0, 0], atol=1e-5)
    np.testing.assert_allclose(moved.numpy(), np.rot90(IMAGE, 2, axes=(1, 2)), atol=1e-5)


NOISE = np.random.default_rng(0).random((16, 16, 2)).astype(np.float32)


@pytest.mark.parametrize(
    "degrees, dx, dy, shear, zx, zy",
    [
        (0.0, 1.5, 2.5, 0.0, 1.0, 1.0),
        (30.0, -2.0, 3.0, 0.0, 1.0, 1.0),
        (-73.0, 0.4, -1.7, 12.0, 0.7, 1.9),
        (15.0, 2.0, 0.5, -8.0, 1.2, 0.9),
    ],
)
def test_the_closed_form_parameters_resample_as_keras_2(degrees, dx, dy, shear, zx, zy):
    # `affine_parameters` is what `Augment` resamples with; Keras 2's
    # `apply_affine_transform` (scipy) is the reference, as for `compose_geometry` in
    # test_projective.py (its offsets move content by -tx, -ty). Found by the mutation
    # check: `cos * dy` -> `cos / dy` passed the doctest, whose dy is -1.
    expected = apply_affine_transform(
        NOISE, theta=degrees, tx=-dx, ty=-dy, shear=shear, zx=zx, zy=zy, row_axis=0,
        col_axis=1, channel_axis=2, fill_mode="nearest", order=1,
    )  # fmt: skip
    parameters = projective.affine_parameters(
        16, 16, degrees=[degrees], shift=([dx], [dy]), shear=[shear], zoom=([zx], [zy])
    )
    actual = projective.apply_projective(NOISE[None], parameters, "nearest").numpy()[0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def xla_compiled_calls(jit_compile, shape):
    """How each call in the traced graph of `apply_projective` is compiled (booleans)."""
    parameters = tf.constant([[1.0, 0, 0.5, 0, 1.0, 0, 0, 0]])
    traced = tf.function(
        lambda images: projective.apply_projective(images, parameters, jit_compile=jit_compile)
    )
    graph = traced.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    calls = [op for op in graph.get_operations() if op.type.endswith("PartitionedCall")]
    return [bool(op.node_def.attr["_XlaMustCompile"].b) for op in calls]


def test_the_xla_path_is_compiled_by_xla_and_the_other_is_not():
    # Found by the mutation check: `_projective_xla` built with `jit_compile=False` ran
    # the same maths uncompiled (same values, none of the speed) and passed every test.
    assert xla_compiled_calls(True, [4, 8, 8, 3]) == [True]
    assert xla_compiled_calls("auto", [None, 8, 8, 3]) == [True]
    assert xla_compiled_calls(False, [4, 8, 8, 3]) == []
    assert xla_compiled_calls("auto", [None, None, None, 3]) == []
