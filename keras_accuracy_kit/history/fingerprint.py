"""What configuration produced a model: collect it, fingerprint it, diff two of them."""

import hashlib
import json

import keras

#: Keys dropped from configurations: Keras numbers auto-generated names per process.
_VOLATILE_KEYS = ("name",)


def _jsonable(value):
    """Makes `value` JSON-able: Keras objects by their serialized config, the rest by repr."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "get_config"):
        try:
            return _jsonable(keras.saving.serialize_keras_object(value))
        except Exception:  # noqa: BLE001 - any object with a config is described by it
            return _jsonable(value.get_config())
    if hasattr(value, "item"):
        return value.item()
    return repr(value)


def _canonical_names(value, names):
    """Replaces every string equal to a layer name by its canonical `layer_<i>`."""
    if isinstance(value, dict):
        return {k: _canonical_names(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_names(v, names) for v in value]
    if isinstance(value, str) and value in names:
        return names[value]
    return value


def _drop_volatile(value):
    if isinstance(value, dict):
        return {k: _drop_volatile(v) for k, v in value.items() if k not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [_drop_volatile(v) for v in value]
    return value


def model_configuration(model, params=None, hparams=None, data_config=None):
    """The configuration that defines a training run, as a JSON-able dict.

    Layer and model names that Keras generates (`dense_3`, `sequential_7`) are replaced by
    their position, so rebuilding the same model gives the same configuration.

    Args:
        model: A compiled Keras model.
        params: Optional dict. The callback `params` of `fit` (`steps` is kept).
        hparams: Optional dict. The user's hyperparameters (e.g. `batch_size`).
        data_config: Optional dict, or a list of objects with `get_config()` (kit
            transforms, Keras preprocessing layers): the data pipeline.

    Returns:
        Dict with `model`, `compile`, `steps_per_epoch`, `hparams` and `data`.
    """
    names = {}
    flatten_layers = getattr(model, "_flatten_layers", None)
    layers = list(flatten_layers(include_self=False)) if flatten_layers else model.layers
    for index, layer in enumerate(layers):
        names.setdefault(layer.name, f"layer_{index}")
    names[model.name] = "model"
    architecture = _canonical_names(_jsonable(model.get_config()), names)
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if isinstance(data_config, (list, tuple)):
        data = [_drop_volatile(_jsonable(item)) for item in data_config]
    else:
        data = _jsonable(data_config)
    return {
        "model": _drop_volatile(architecture),
        "compile": _drop_volatile(_jsonable(compile_config)),
        "steps_per_epoch": (params or {}).get("steps"),
        "hparams": _jsonable(hparams or {}),
        "data": data,
    }


def fingerprint(configuration):
    """A stable hash of a configuration (sha256 of its canonical JSON).

    Example:

    >>> fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    True
    """
    canonical = json.dumps(configuration, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def flatten(value, prefix=""):
    """Flattens nested dicts and lists to `{"a.b[0].c": leaf}`."""
    if isinstance(value, dict):
        items = {}
        for key in sorted(value):
            items.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return items or {prefix: {}}
    if isinstance(value, list):
        items = {}
        for index, item in enumerate(value):
            items.update(flatten(item, f"{prefix}[{index}]"))
        return items or {prefix: []}
    return {prefix: value}


def diff(old, new):
    """Readable differences between two configurations, one line per changed setting.

    Example:

    >>> diff({"compile": {"lr": 0.001}, "depth": 2}, {"compile": {"lr": 0.01}, "depth": 2})
    ['compile.lr: 0.001 -> 0.01']
    >>> diff({"layers": [1]}, {"layers": [1, 2]})
    ['layers[1]: added 2']
    """
    if old is None:
        return ["first version"]

    def show(value):
        # Float32 settings (a learning rate) read back as 0.009999999776: show 7 digits.
        if isinstance(value, float):
            return format(value, ".7g")
        return json.dumps(value)

    before, after = flatten(old), flatten(new)
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in before:
            lines.append(f"{path}: added {show(after[path])}")
        elif path not in after:
            lines.append(f"{path}: removed (was {show(before[path])})")
        elif before[path] != after[path]:
            lines.append(f"{path}: {show(before[path])} -> {show(after[path])}")
    return lines
