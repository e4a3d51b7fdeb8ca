"""Reading a SavedModel for `FeatureExtractor`: parse it, check its ops, pick its function.

Pure helpers over `tf.saved_model` objects; every failure names the handle and the fix.
"""

import warnings

import tensorflow as tf
from google.protobuf import message

from keras_accuracy_kit.transfer import graph_safety

_OWNER = "FeatureExtractor"


def read_saved_model(directory, handle):
    """Returns the parsed `saved_model.pb` of `directory`, refusing unreadable ones early.

    Raises:
        ValueError: the file cannot be parsed (truncated, not a SavedModel) or holds no
            or several MetaGraphs (an empty file parses as zero).
    """
    try:
        saved_model = tf.__internal__.saved_model.parse_saved_model(directory)
    except (OSError, ValueError, message.DecodeError) as error:
        raise ValueError(
            f"{_OWNER}: `handle` must be a readable SavedModel. Received: handle={handle!r}, "
            f"whose saved_model.pb in {directory!r} cannot be parsed ({error}). The file is "
            "truncated or not a SavedModel: save it again with `tf.saved_model.save` or "
            "`model.export()`, or download it again."
        ) from error
    count = len(saved_model.meta_graphs)
    if count != 1:
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel with exactly one MetaGraph. Received: "
            f"handle={handle!r}, whose saved_model.pb in {directory!r} holds {count} "
            "MetaGraphs (an empty or truncated file holds 0). Save it again with "
            "`tf.saved_model.save` or `model.export()`, or download it again."
        )
    return saved_model


def check_ops(saved_model, handle, directory, refuse):
    """Raises (`refuse`) or warns when the SavedModel uses ops outside `SAFE_OPS`."""
    unsafe = graph_safety.find_unsafe_ops(saved_model)
    if not unsafe:
        return
    found = graph_safety.describe_unsafe_ops(unsafe)
    if refuse:
        raise ValueError(
            f"{_OWNER}: under `safe_mode=True` the SavedModel must use only tensor-only "
            f"TensorFlow ops (kit.transfer.SAFE_OPS). Received: handle={handle!r}, whose "
            f"functions use {found}. Loading stopped before any of it ran. If you trust the "
            "file, load it with `keras.models.load_model(path, safe_mode=False)`."
        )
    warnings.warn(
        f"{_OWNER}: the SavedModel at {directory!r} uses ops outside the safe-mode allowlist "
        f"(kit.transfer.SAFE_OPS): {found}. Make sure you trust it: a `.keras` file of "
        "this model will load only with `safe_mode=False`.",
        stacklevel=5,
    )


def variable_paths(saved_model):
    """`{node path: variable proto}` of a TF2 SavedModel's variables (None for TF1).

    A path is what `tf.__internal__.saved_model.load_partial` takes (`"root.a.0"`): the
    first one found breadth-first, through children whose names hold no dot.
    """
    nodes = saved_model.meta_graphs[0].object_graph_def.nodes
    if not nodes:
        return None
    found, seen, queue = {}, {0}, [(0, "root")]
    while queue:
        node_id, path = queue.pop(0)
        if nodes[node_id].WhichOneof("kind") == "variable":
            found[path] = nodes[node_id].variable
        for child in nodes[node_id].children:
            if child.node_id not in seen and "." not in child.local_name:
                seen.add(child.node_id)
                queue.append((child.node_id, f"{path}.{child.local_name}"))
    return found


def load(directory, handle, filters=None):
    """Loads the SavedModel; returns `{path: object}` with `"root"` (the loaded object).

    `filters` maps node paths to `None` (load it) or to an existing variable that the
    SavedModel's functions then use (`load_partial`); `None` loads it whole (TF1 too).
    TensorFlow's failures name the handle.
    """
    try:
        if filters is None:
            return {"root": tf.saved_model.load(directory)}
        return tf.__internal__.saved_model.load_partial(directory, {"root": None, **filters})
    except (OSError, ValueError, RuntimeError, tf.errors.OpError) as error:
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel that TensorFlow can load. Received: "
            f"handle={handle!r} ({directory!r}), which failed to load "
            f"({type(error).__name__}: {error}). Save it again with `tf.saved_model.save` "
            "or `model.export()` (its variables/ folder must be complete)."
        ) from error


def pick_function(loaded, signature, handle):
    """Returns `(function, is_signature)`: the callable of `loaded` that the layer calls.

    A `__call__` or `serve` `tf.function` that was never traced before saving has no
    concrete function and cannot run: it is skipped, and refused when nothing else is left.
    """
    signatures = dict(loaded.signatures)
    if signature is not None:
        if signature not in signatures:
            raise ValueError(
                f"{_OWNER}: `signature` must be one of the SavedModel's signatures "
                f"{sorted(signatures)}. Received: signature={signature!r}. Pick one of the "
                "listed names, or pass signature=None to call the SavedModel itself."
            )
        return signatures[signature], True
    untraced = []
    for name in ("__call__", "serve"):
        function = getattr(loaded, name, None) if name != "__call__" or callable(loaded) else None
        if function is None or not callable(function):
            continue
        if not concrete_functions(function):
            untraced.append(name)
            continue
        return function, False
    for name in ("serving_default", "serve"):
        if name in signatures:
            return signatures[name], True
    if untraced:
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel whose `{untraced[0]}` was traced "
            f"before saving. Received: handle={handle!r}, whose `{untraced[0]}` tf.function "
            "has no traced signature, so it cannot be called. Give the tf.function an "
            "`input_signature=[tf.TensorSpec(...)]`, or call it once on an example input "
            "before `tf.saved_model.save`, then save again."
        )
    raise ValueError(
        f"{_OWNER}: `handle` must be a SavedModel with a `__call__`, a `serve` function or "
        f"a `serving_default` signature. Received: handle={handle!r} with signatures "
        f"{sorted(signatures)}. Pass `signature=` with one of them."
    )


def concrete_functions(function):
    if hasattr(function, "concrete_functions"):
        return list(function.concrete_functions)
    return [function]


def accepts_training(function):
    for concrete in concrete_functions(function):
        args, kwargs = concrete.structured_input_signature
        if len(args) >= 2 or "training" in kwargs:
            return True
    return False


def saved_model_variables(loaded, function):
    """Returns `(variables, trainable_ids)` in a stable order."""
    listed = getattr(loaded, "variables", None)
    if isinstance(listed, (list, tuple)) and listed:
        variables = list(listed)
        trainable = getattr(loaded, "trainable_variables", None)
        if isinstance(trainable, (list, tuple)):
            return variables, {id(v) for v in trainable}
        return variables, {id(v) for v in variables if v.trainable}
    variables, seen = [], set()
    for concrete in concrete_functions(function):
        for variable in concrete.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables, {id(v) for v in variables if v.trainable}
