"""Stateless seeds for random transforms: per call, or per dataset element.

Per call: a transform called many times (each `dataset.map` element, each training step) needs a new
seed per call. Reading a counter and then incrementing it is a race under
`num_parallel_calls`: two calls can read the same value and get the same augmentation.
`tf.raw_ops.RngReadAndSkip` reads and advances a counter in one atomic op, so every call
gets a distinct seed, in any thread.

Per element: `map_with_seeds` zips a dataset with `tf.data.Dataset.random(seed)`, so each
element gets its own seed, the same in every run whatever the parallelism, and new ones on
each new iterator (each epoch).
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


def map_with_seeds(dataset, function, seed, num_parallel_calls=tf.data.AUTOTUNE):
    """Maps `function(element, element_seed)` over `dataset`, one stateless seed per element.

    The seed of an element is `(seed, r)` with `r` from `tf.data.Dataset.random(seed,
    rerandomize_each_iteration=True)`: identical batches in every run of the same pipeline,
    also with parallel calls (the map holds no state), and new seeds on each new iterator.

    Args:
        dataset: A `tf.data.Dataset`.
        function: Callable `(element, seed) -> element`, `seed` a `[2]` int64 tensor.
        seed: Optional int. None draws a random base.
        num_parallel_calls: Int or `tf.data.AUTOTUNE`. Defaults to `tf.data.AUTOTUNE`.

    Returns:
        The mapped dataset, in the original order.

    Example:

    >>> import tensorflow as tf
    >>> data = tf.data.Dataset.range(3)
    >>> pairs = map_with_seeds(data, lambda x, seed: (x, seed[0]), seed=7)
    >>> [(int(x), int(s)) for x, s in pairs]
    [(0, 7), (1, 7), (2, 7)]
    """
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    base = 0 if seed is None else seed

    @tf.autograph.experimental.do_not_convert
    def seeded(element, random_value):
        return function(element, tf.stack([tf.constant(base, tf.int64), random_value]))

    return tf.data.Dataset.zip((dataset, seeds)).map(
        seeded, num_parallel_calls=num_parallel_calls, deterministic=True
    )
