"""Per-call stateless seeds from an atomic counter: safe under parallel `dataset.map`.

A transform called many times (each `dataset.map` element, each training step) needs a new
seed per call. Reading a counter and then incrementing it is a race under
`num_parallel_calls`: two calls can read the same value and get the same augmentation.
`tf.raw_ops.RngReadAndSkip` reads and advances a counter in one atomic op, so every call
gets a distinct seed, in any thread.
"""

import random

import tensorflow as tf

# Counter-based RNG algorithm id of `RngReadAndSkip` (Philox): a state of 3 int64 values.
_PHILOX = 1


def base_seed(seed):
    """The fixed first half of every call seed: `seed`, or a random int when it is None."""
    return int(seed) if seed is not None else random.SystemRandom().randrange(2**31)


def next_call_seed(counter, base):
    """Returns a `[2]` int64 seed `(base, n)`, with `n` distinct on every call.

    Args:
        counter: An int64 variable of shape `[3]` (a `tf.Variable` or a Keras variable on
            the TensorFlow backend), starting at zeros.
        base: Int. The first half of the seed.

    Example:

    >>> import tensorflow as tf
    >>> counter = tf.Variable(tf.zeros([3], tf.int64))
    >>> first, second = next_call_seed(counter, 7), next_call_seed(counter, 7)
    >>> first.numpy().tolist(), bool(first[1] != second[1])
    ([7, 0], True)
    """
    old = tf.raw_ops.RngReadAndSkip(
        resource=counter.handle, alg=_PHILOX, delta=tf.constant(1, tf.uint64)
    )
    return tf.stack([tf.constant(base, tf.int64), old[0]])
