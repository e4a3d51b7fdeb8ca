"""Geometric augmentation as one projective transform: build, compose and apply 3x3 matrices.

Coordinates are `(x, y)` = (column, row) in pixels, pixel centres on integers, `y` pointing
down. A matrix `M` maps an OUTPUT pixel to the INPUT point it samples (`input = M @ output`),
the convention of `tf.raw_ops.ImageProjectiveTransformV3` and of Keras 2's
`apply_affine_transform`. The matrices below are Keras 2's (`ImageDataGenerator`), written
about the image centre, so that `compose_geometry(...)` followed by one `apply_projective`
call does what Keras 2 did with one `scipy.ndimage` resampling per channel, batched.

Every builder takes per-image parameters of shape `[N]` and returns `[N, 3, 3]` float32.
"""

import math

import tensorflow as tf

from keras_accuracy_kit._core import checks

#: `fill_mode` names (Keras 2 `ImageDataGenerator`), as `ImageProjectiveTransformV3` spells them.
FILL_MODES = {"constant": "CONSTANT", "nearest": "NEAREST", "reflect": "REFLECT", "wrap": "WRAP"}
#: `interpolation` names, as `ImageProjectiveTransformV3` spells them.
INTERPOLATIONS = {"bilinear": "BILINEAR", "nearest": "NEAREST"}
#: What `fill_mode="constant"` does between the edge pixels and the fill value: interpolate
#: (TensorFlow's kernel, Keras 3's layers, scipy's "grid-constant") or fill every point
#: outside the image outright (scipy's "constant", so Keras 2's `ImageDataGenerator`).
CONSTANT_EDGES = ("interpolate", "fill")
#: How far (in pixels) outside the image a sampling point still reads it with
#: `constant_edge="fill"`: float32 rounding of points exactly on the edge.
_EDGE_TOLERANCE = 1e-3


def _matrix(rows):
    """Stacks nested lists of `[N]` tensors (3x3) into an `[N, 3, 3]` tensor."""
    return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def _as_float(values):
    return tf.cast(tf.convert_to_tensor(values), tf.float32)


def rotation_matrix(degrees):
    """Rotates content counter-clockwise (on screen) by `degrees`, about the origin.

    Example:

    >>> import numpy as np
    >>> np.round(rotation_matrix([90.0]).numpy()[0], 6) + 0.0
    array([[ 0., -1.,  0.],
           [ 1.,  0.,  0.],
           [ 0.,  0.,  1.]], dtype=float32)
    """
    theta = _as_float(degrees) * (math.pi / 180.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    zero, one = tf.zeros_like(theta), tf.ones_like(theta)
    return _matrix([[cos, -sin, zero], [sin, cos, zero], [zero, zero, one]])


def shift_matrix(dx, dy):
    """Moves content right by `dx` and down by `dy` pixels."""
    dx, dy = _as_float(dx), _as_float(dy)
    zero, one = tf.zeros_like(dx), tf.ones_like(dx)
    return _matrix([[one, zero, -dx], [zero, one, -dy], [zero, zero, one]])


def shear_matrix(degrees):
    """Keras 2's shear: rows slide sideways in proportion to their height; `y` scales by cos."""
    shear = _as_float(degrees) * (math.pi / 180.0)
    zero, one = tf.zeros_like(shear), tf.ones_like(shear)
    return _matrix([[one, -tf.sin(shear), zero], [zero, tf.cos(shear), zero], [zero, zero, one]])


def zoom_matrix(zx, zy):
    """Keras 2's zoom: factors above 1 zoom OUT (the output shows more of the input)."""
    zx, zy = _as_float(zx), _as_float(zy)
    zero, one = tf.zeros_like(zx), tf.ones_like(zx)
    return _matrix([[zx, zero, zero], [zero, zy, zero], [zero, zero, one]])


def flip_matrix(flip_horizontal, flip_vertical):
    """Mirrors left-right where `flip_horizontal` and top-bottom where `flip_vertical`."""
    sx = tf.where(tf.cast(flip_horizontal, tf.bool), -1.0, 1.0)
    sy = tf.where(tf.cast(flip_vertical, tf.bool), -1.0, 1.0)
    zero, one = tf.zeros_like(sx), tf.ones_like(sx)
    return _matrix([[sx, zero, zero], [zero, sy, zero], [zero, zero, one]])


def _centre(height, width):
    """The centre `(cx, cy)`: Python floats for static sizes, tensors otherwise."""
    if isinstance(height, int) and isinstance(width, int):
        return (width - 1) / 2.0, (height - 1) / 2.0
    return (tf.cast(width, tf.float32) - 1.0) / 2.0, (tf.cast(height, tf.float32) - 1.0) / 2.0


def about_centre(matrix, height, width):
    """Conjugates `matrix` so that it acts about the image centre instead of the origin."""
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    num = tf.shape(matrix)[0]
    one = tf.ones([num])
    zero = tf.zeros([num])
    to_centre = _matrix([[one, zero, cx * one], [zero, one, cy * one], [zero, zero, one]])
    from_centre = _matrix([[one, zero, -cx * one], [zero, one, -cy * one], [zero, zero, one]])
    return to_centre @ matrix @ from_centre


def compose_geometry(
    height,
    width,
    degrees=None,
    shift=None,
    shear=None,
    zoom=None,
    flip=None,
):
    """Composes Keras 2's geometric steps into one `[N, 3, 3]` output-to-input matrix.

    The order is Keras 2's: rotation, shift, shear, zoom (`M = R @ S @ Sh @ Z`, all about
    the image centre), then the flips, which Keras 2 applied to the transformed image.
    Steps left as `None` are skipped.

    Args:
        height: Int or int tensor. Image height.
        width: Int or int tensor. Image width.
        degrees: Optional `[N]` float tensor. Counter-clockwise rotation.
        shift: Optional pair of `[N]` tensors `(dx, dy)`: content moves right/down.
        shear: Optional `[N]` float tensor. Shear angle in degrees.
        zoom: Optional pair of `[N]` tensors `(zx, zy)`. Above 1 zooms out.
        flip: Optional pair of `[N]` bool tensors `(horizontal, vertical)`.

    Returns:
        A float32 tensor `[N, 3, 3]`.

    Example:

    >>> m = compose_geometry(5, 5, shift=([2.0], [0.0]))
    >>> m.numpy()[0, 0].tolist()  # output x samples input x - 2: content moves right by 2
    [1.0, 0.0, -2.0]
    """
    steps = []
    if degrees is not None:
        steps.append(rotation_matrix(degrees))
    if shift is not None:
        steps.append(shift_matrix(*shift))
    if shear is not None:
        steps.append(shear_matrix(shear))
    if zoom is not None:
        steps.append(zoom_matrix(*zoom))
    if flip is not None:
        steps.append(flip_matrix(*flip))
    if not steps:
        raise ValueError(
            "compose_geometry: at least one of `degrees`, `shift`, `shear`, `zoom`, `flip` "
            "must be given. Received: none. Skip the resampling when nothing moves."
        )
    matrix = steps[0]
    for step in steps[1:]:
        matrix = matrix @ step
    return about_centre(matrix, height, width)


def to_projective_parameters(matrix):
    """Flattens `[N, 3, 3]` matrices to the `[N, 8]` form `ImageProjectiveTransformV3` takes."""
    matrix = matrix / matrix[:, 2:3, 2:3]
    return tf.reshape(matrix, [-1, 9])[:, :8]


def _trunc(values):
    """C++ `static_cast<int64>(v)` on floats: rounds toward zero."""
    return tf.where(values < 0.0, tf.math.ceil(values), tf.floor(values))


def _map_coordinate(coord, size, fill_mode):
    """`ImageProjectiveTransformV3`'s `MapCoordinate<mode>` (scipy's), on a float tensor.

    `size` is the image length along the axis, a float32 scalar tensor.
    """
    if fill_mode == "constant":
        return coord  # out-of-image points read the fill value
    last = size - 1.0
    if fill_mode == "nearest":
        low = high = coord  # the final clip does it
    elif fill_mode == "reflect":  # [abcd] -> [dcba|abcd|dcba]
        period = 2.0 * size
        low = period * _trunc(-coord / period) + coord
        low = tf.where(low < -size, low + period, -low - 1.0)
        high = coord - period * _trunc(coord / period)
        high = tf.where(high >= size, period - high - 1.0, high)
    else:  # wrap: [abcd] -> [abcd|abcd|abcd]
        low = coord + size * (_trunc(-coord / last) + 1.0)
        high = coord - size * _trunc(coord / last)
    # `low` maps points before the image, `high` points after it.
    mapped = tf.where(coord < 0.0, low, tf.where(coord > last, high, coord))
    # A one-pixel axis maps everything to 0 (the kernel's `len <= 1` branches).
    mapped = tf.where(size <= 1.0, tf.zeros_like(coord), mapped)
    return tf.clip_by_value(mapped, 0.0, tf.maximum(last, 0.0))


def _round_half_away(values):
    """`std::round`: halves round away from zero (`tf.round` rounds them to even)."""
    return tf.sign(values) * tf.floor(tf.abs(values) + 0.5)


def _sampling_points(parameters, height_f, width_f):
    """The input point `(x, y)` each output pixel samples, and whether it is at infinity.

    Args:
        parameters: `[N, 8]` or `[1, 8]` float32 projective parameters.
        height_f, width_f: Float32 scalars. Output size (the input's).

    Returns:
        `(x, y, at_infinity)`, each `[N or 1, H, W]`.
    """
    grid_y, grid_x = tf.meshgrid(
        tf.range(height_f, dtype=tf.float32), tf.range(width_f, dtype=tf.float32), indexing="ij"
    )
    t = tf.reshape(parameters, [-1, 8, 1, 1])
    projection = t[:, 6] * grid_x + t[:, 7] * grid_y + 1.0
    at_infinity = projection == 0.0
    safe = tf.where(at_infinity, 1.0, projection)
    x = (t[:, 0] * grid_x + t[:, 1] * grid_y + t[:, 2]) / safe
    y = (t[:, 3] * grid_x + t[:, 4] * grid_y + t[:, 5]) / safe
    return x, y, at_infinity


def _outside(x, y, height_f, width_f):
    """Points outside `[0, W - 1] x [0, H - 1]` (by more than float32 rounding)."""
    return (
        (x < -_EDGE_TOLERANCE)
        | (x > width_f - 1.0 + _EDGE_TOLERANCE)
        | (y < -_EDGE_TOLERANCE)
        | (y > height_f - 1.0 + _EDGE_TOLERANCE)
    )


def sampled_outside(parameters, height, width):
    """Which output pixels sample a point outside the input image: `[N or 1, H, W, 1]` bool.

    Points at infinity count as outside. This is what scipy's `mode="constant"` (Keras 2's
    `ImageDataGenerator`) fills outright, where TensorFlow's kernel still blends the edge
    pixels with the fill value up to one pixel beyond the image.

    Args:
        parameters: `[N, 8]` or `[1, 8]` float32 projective parameters.
        height, width: Ints or int tensors. Image size.

    Example:

    >>> import numpy as np
    >>> moved = to_projective_parameters(compose_geometry(4, 4, shift=([1.5], [0.0])))
    >>> sampled_outside(moved, 4, 4).numpy()[0, 0, :, 0].tolist()
    [True, True, False, False]
    """
    height_f, width_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    x, y, at_infinity = _sampling_points(tf.cast(parameters, tf.float32), height_f, width_f)
    return (_outside(x, y, height_f, width_f) | at_infinity)[..., None]


def _projective_kernel(
    images, parameters, fill_value, fill_mode, interpolation, one, constant_edge="interpolate"
):
    """`ImageProjectiveTransformV3` written with gathers, for XLA (same maths, same result).

    TensorFlow's CPU kernel recomputes the sampling point for every channel of every pixel.
    Here XLA computes it once per pixel: `x / one` and `y / one` (with `one` a runtime
    `1.0`, which XLA cannot fold away) end the per-pixel work with a division, and XLA does
    not copy a division into a consumer that reads each of its values once per channel,
    so it writes the sampling points out instead of recomputing them. The image is padded
    with two rows and columns of the fill value before it and three after, and points far
    outside it are clipped onto that border, so each neighbour is read with no bounds
    check (the four reads of a pixel are one base index plus constant offsets) and a
    clipped point reads only fill values, as TensorFlow's kernel does. About 2-3x less CPU
    time than TensorFlow's kernel.

    Args:
        images: Tensor `(N, H, W, C)`.
        parameters: `[N, 8]` or `[1, 8]` float32 projective parameters.
        fill_value: Float32 scalar.
        fill_mode, interpolation, constant_edge: As `apply_projective`.
        one: Float32 scalar tensor holding 1.0, passed in at run time (a constant would be
            folded, and the points recomputed once per channel).
    """
    dtype = images.dtype
    shape = tf.shape(images)
    num, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    height_f, width_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    work = tf.cast(images, tf.float32)
    # One matrix per image, or one `[1, 8]` matrix for the whole batch.
    x, y, at_infinity = _sampling_points(parameters, height_f, width_f)
    if fill_mode == "constant" and constant_edge == "fill":
        # Points outside the image read only fill values, as points at infinity do.
        at_infinity = at_infinity | _outside(x, y, height_f, width_f)
    # "constant" mode: points beyond the fill border are clipped onto it and read only fill
    # values whatever their distance (the other modes map every point into the image), and
    # so do points at infinity, moved to (-2, -2).
    x = tf.clip_by_value(_map_coordinate(x, width_f, fill_mode), -2.0, width_f + 1.0)
    y = tf.clip_by_value(_map_coordinate(y, height_f, fill_mode), -2.0, height_f + 1.0)
    x, y = tf.where(at_infinity, -2.0, x) / one, tf.where(at_infinity, -2.0, y) / one
    grid = tf.stack([num, height, width])
    x, y = tf.broadcast_to(x, grid), tf.broadcast_to(y, grid)
    fill = tf.cast(fill_value, tf.float32)
    # Padded row r and column c hold the image's row r - 2 and column c - 2.
    padded = tf.pad(work, [[0, 0], [2, 3], [2, 3], [0, 0]], constant_values=fill)
    padded_width = width + 5
    pixels = tf.reshape(padded, tf.stack([-1, channels]))
    # int64 pixel indices: a batch may hold more than 2**31 pixels (no cost measured).
    first = tf.range(tf.cast(num, tf.int64)) * tf.cast((height + 5) * padded_width, tf.int64)

    def base_index(row, column):  # of the padded pixel holding image pixel (row, column)
        offset = (tf.cast(row, tf.int32) + 2) * padded_width + tf.cast(column, tf.int32) + 2
        return first[:, None, None] + tf.cast(offset, tf.int64)

    if interpolation == "nearest":
        output = tf.gather(pixels, base_index(_round_half_away(y), _round_half_away(x)))
    else:
        y_floor, x_floor = tf.floor(y), tf.floor(x)
        base = base_index(y_floor, x_floor)

        def read(offset):
            return tf.gather(pixels, base + offset)

        wx1, wy1 = (x - x_floor)[..., None], (y - y_floor)[..., None]
        wx0, wy0 = (x_floor + 1.0 - x)[..., None], (y_floor + 1.0 - y)[..., None]
        below = tf.cast(padded_width, tf.int64)
        top = wx0 * read(0) + wx1 * read(1)
        bottom = wx0 * read(below) + wx1 * read(below + 1)
        output = wy0 * top + wy1 * bottom
    return tf.cast(output, dtype)


_projective_xla = tf.function(_projective_kernel, jit_compile=True, reduce_retracing=True)


def use_xla_resampling(images, jit_compile="auto"):
    """Whether `apply_projective` takes the XLA path for these images.

    `"auto"`: a batch of float images whose height, width and channels are known when the
    graph is traced (the batch size may vary: XLA compiles once per batch size met), with
    at least 65536 values when the batch size is known too. Images of many sizes (before
    `batch()`) would compile once per size, and a single small image costs less with
    TensorFlow's kernel than an XLA launch: both take TensorFlow's kernel.
    """
    checks.check_jit_compile("apply_projective", jit_compile)
    if not images.dtype.is_floating or not jit_compile:
        return False
    if jit_compile == "auto":
        shape = images.shape
        if shape.rank != 4 or not shape[1:].is_fully_defined():
            return False
        return shape[0] is None or shape.num_elements() >= checks.MIN_JIT_ELEMENTS
    return True


def apply_projective(
    images,
    matrix,
    fill_mode="nearest",
    fill_value=0.0,
    interpolation="bilinear",
    jit_compile="auto",
    constant_edge="interpolate",
):
    """Resamples float images once through per-image output-to-input matrices.

    The result is `tf.raw_ops.ImageProjectiveTransformV3`'s (with the default
    `constant_edge`). Where the image size is known when the graph is traced, the same
    maths runs as one XLA kernel, 2-3x faster on a CPU than TensorFlow's (which recomputes
    each sampling point once per channel).

    Args:
        images: Float tensor `(N, H, W, C)` (or `(H, W, C)` with `N = 1` matrices).
        matrix: Float tensor `[N, 3, 3]` (or `[1, 3, 3]` shared by the batch), as
            `compose_geometry` returns, or the `[N, 8]` parameters `affine_parameters`
            returns.
        fill_mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`: what is sampled
            outside the input. Defaults to `"nearest"`.
        fill_value: Float. The value for `fill_mode="constant"`. Defaults to `0.0`.
        interpolation: `"bilinear"` or `"nearest"`. Defaults to `"bilinear"`.
        jit_compile: `"auto"`, `True` or `False`. Resample with the XLA kernel; `"auto"`
            does when height, width and channels are static (`use_xla_resampling`),
            `False` always calls `ImageProjectiveTransformV3`. Defaults to `"auto"`.
        constant_edge: `"interpolate"` or `"fill"`: with `fill_mode="constant"`, whether
            points less than a pixel outside the image blend the edge pixels with the fill
            value (TensorFlow's kernel and Keras 3's layers; scipy's `"grid-constant"`) or
            read the fill value outright (scipy's `"constant"`, as Keras 2's
            `ImageDataGenerator`). Defaults to `"interpolate"`.

    Returns:
        A tensor of the shape and dtype of `images`.

    Example:

    >>> import numpy as np
    >>> image = np.zeros((1, 5, 5, 1), np.float32); image[0, 2, 1, 0] = 1.0
    >>> moved = apply_projective(image, compose_geometry(5, 5, shift=([2.0], [1.0])))
    >>> np.argwhere(moved.numpy()[0, ..., 0] == 1.0).tolist()
    [[3, 3]]
    """
    checks.check_choice("apply_projective", "constant_edge", constant_edge, CONSTANT_EDGES)
    images = tf.convert_to_tensor(images)
    single = images.shape.rank == 3
    if single:
        images = images[None]
    matrix = tf.cast(matrix, tf.float32)
    parameters = matrix if matrix.shape.rank == 2 else to_projective_parameters(matrix)
    fill_value = tf.cast(fill_value, tf.float32)
    if use_xla_resampling(images, jit_compile):
        one = tf.ones([], tf.float32)
        output = _projective_xla(
            images, parameters, fill_value, fill_mode, interpolation, one, constant_edge
        )
    else:
        output = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=parameters,
            output_shape=tf.shape(images)[1:3],
            fill_value=fill_value,
            interpolation=INTERPOLATIONS[interpolation],
            fill_mode=FILL_MODES[fill_mode],
        )
        if fill_mode == "constant" and constant_edge == "fill":
            shape = tf.shape(images)
            outside = sampled_outside(parameters, shape[1], shape[2])
            output = tf.where(outside, tf.cast(fill_value, output.dtype), output)
    return output[0] if single else output


def affine_parameters(
    height,
    width,
    degrees=None,
    shift=None,
    shear=None,
    zoom=None,
    flip=None,
):
    """`compose_geometry(...)` in closed form, straight to the `[N, 8]` parameters.

    The same matrix as `to_projective_parameters(compose_geometry(...))`, computed with a
    few element-wise ops on the `[N]` parameter vectors instead of 3x3 matrix products:
    per-image `dataset.map` calls are dominated by the number of small ops. Arguments as
    `compose_geometry`; at least one must be given.

    Example:

    >>> import numpy as np
    >>> steps = dict(degrees=[30.0], shift=([2.0], [-1.0]), shear=[10.0], zoom=([0.9], [1.2]))
    >>> np.allclose(affine_parameters(8, 10, **steps),
    ...             to_projective_parameters(compose_geometry(8, 10, **steps)), atol=1e-5)
    True
    """
    given = [v for v in (degrees, shear) if v is not None]
    given += [v[0] for v in (shift, zoom, flip) if v is not None]
    if not given:
        raise ValueError(
            "affine_parameters: at least one of `degrees`, `shift`, `shear`, `zoom`, `flip` "
            "must be given. Received: none. Skip the resampling when nothing moves."
        )
    zeros = tf.zeros_like(_as_float(given[0]))
    theta = zeros if degrees is None else _as_float(degrees) * (math.pi / 180.0)
    phi = zeros if shear is None else _as_float(shear) * (math.pi / 180.0)
    sx = sy = zeros + 1.0
    if zoom is not None:
        sx, sy = _as_float(zoom[0]), _as_float(zoom[1])
    if flip is not None:
        sx = tf.where(tf.cast(flip[0], tf.bool), -sx, sx)
        sy = tf.where(tf.cast(flip[1], tf.bool), -sy, sy)
    cos, sin = tf.cos(theta), tf.sin(theta)
    # L = R @ Sh @ Z @ F; offset = -R @ d; then conjugated about the centre c.
    a0, a1 = cos * sx, -sy * tf.sin(theta + phi)
    b0, b1 = sin * sx, sy * tf.cos(theta + phi)
    tx = ty = zeros
    if shift is not None:
        dx, dy = _as_float(shift[0]), _as_float(shift[1])
        tx, ty = -(cos * dx - sin * dy), -(sin * dx + cos * dy)
    cx, cy = _centre(height, width)
    a2 = cx - a0 * cx - a1 * cy + tx
    b2 = cy - b0 * cx - b1 * cy + ty
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=-1)
