"""The resampling kernel against independent references, where the mutation check found gaps.

Each test here was written for mutants of `transforms/functional/projective.py` that the
other tests let through (issue 22; docs/development.md lists them): numpy's own rotations and
flips, TensorFlow's `ImageProjectiveTransformV3` and numbers derived by hand.
"""

import numpy as np
import tensorflow as tf

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
