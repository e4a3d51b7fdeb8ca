"""What configuration produced a model: collect it, fingerprint it, diff two of them."""

import enum
import functools
import hashlib
import json
import os
import types

import keras
import numpy as np

#: Keys dropped from configurations: Keras numbers auto-generated names per process.
_VOLATILE_KEYS = ("name",)

_STABLE_KINDS = (
    "a number, string, list, dict, set, numpy array, a function defined at module level "
    "or an object with `get_config()`"
)


def _unstable(owner, where, value, reason, fix):
    return TypeError(
        f"{owner}: `{where}` must describe itself the same way in every run ({_STABLE_KINDS}). "
        f"Received: {where}={value!r}, {reason}. {fix}"
    )


def _qualified_name(owner, where, value):
    """`module.qualname` of a function or class, or a TypeError for lambdas and locals."""
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    module = getattr(value, "__module__", None) or ""
    if not qualname or "<lambda>" in qualname or "<locals>" in qualname:
        kind = "a lambda" if qualname and "<lambda>" in qualname else "a local function"
        raise _unstable(
            owner,
            where,
            value,
            f"{kind}, whose printed form holds a memory address that changes every run",
            "Define the function at module level (it is recorded by its qualified name) or "
            "describe it by a value, e.g. a dict of its settings.",
        )
    return f"{module}.{qualname}" if module else qualname


def _jsonable(value, owner="model_configuration", where="value"):
    """Makes `value` JSON-able and the same in every process (a stable fingerprint).

    Keras objects become their serialized config, numpy arrays and tensors nested lists,
    sets sorted lists, functions and classes their qualified name. What has no stable
    description (a lambda, an object whose `repr` holds its address) raises a TypeError
    naming `where`.
    """
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = json.dumps(_jsonable(key, owner, f"{where} key"), sort_keys=True)
            items[str(key)] = _jsonable(item, owner, f"{where}[{key!r}]")
        return items
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, owner, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [_jsonable(v, owner, f"{where} item") for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return f"{_qualified_name(owner, where, type(value))}.{value.name}"
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), owner, where)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, keras.Variable) or keras.ops.is_tensor(value):
        return _jsonable(np.asarray(keras.ops.convert_to_numpy(value)), owner, where)
    if isinstance(value, bytes):
        return repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, functools.partial):
        return {
            "partial": _jsonable(value.func, owner, f"{where}.func"),
            "args": _jsonable(list(value.args), owner, f"{where}.args"),
            "keywords": _jsonable(dict(value.keywords), owner, f"{where}.keywords"),
        }
    if isinstance(value, type):
        return f"class:{_qualified_name(owner, where, value)}"
    if hasattr(value, "get_config"):
        try:
            config = keras.saving.serialize_keras_object(value)
        except Exception:  # noqa: BLE001 - any object with a config is described by it
            config = value.get_config()
        return _jsonable(config, owner, where)
    if callable(value) and (
        isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))
        or hasattr(value, "__qualname__")
        or isinstance(value, np.ufunc)
    ):
        return f"function:{_qualified_name(owner, where, value)}"
    text = repr(value)
    if " at 0x" in text:
        raise _unstable(
            owner,
            where,
            value,
            f"an instance of {type(value).__name__}, whose printed form holds a memory "
            "address that changes every run",
            "Give its class a `get_config()` returning its settings, or pass the settings "
            "themselves (a dict).",
        )
    return text


def canonical(owner, arg, value):
    """`value` made JSON-able and stable across processes, or a TypeError naming `arg`.

    Example:

    >>> canonical("Demo", "hparams", {"classes": {"dog", "cat"}, "mean": np.array([0.5])})
    {'classes': ['cat', 'dog'], 'mean': [0.5]}
    """
    return _jsonable(value, owner, arg)


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
    architecture = _canonical_names(_jsonable(model.get_config(), where="model"), names)
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if isinstance(data_config, (list, tuple)):
        data = [
            _drop_volatile(_jsonable(item, where=f"data_config[{i}]"))
            for i, item in enumerate(data_config)
        ]
    else:
        data = _jsonable(data_config, where="data_config")
    return {
        "model": _drop_volatile(architecture),
        "compile": _drop_volatile(_jsonable(compile_config, where="compile_config")),
        "steps_per_epoch": (params or {}).get("steps"),
        "hparams": _jsonable(hparams or {}, where="hparams"),
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
