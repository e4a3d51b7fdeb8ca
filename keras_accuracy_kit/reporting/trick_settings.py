"""Which tricks a run uses and their settings, flat enough for TensorBoard's HParams tab."""

import inspect
import json
import re

from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange

#: Constructor arguments that describe bookkeeping, not a trick.
_IGNORED = ("name", "trainable", "dtype", "backup_dir", "verbose", "directory", "keep_best")


def snake_case(name):
    """`"ReduceLROnPlateau"` -> `"reduce_lr_on_plateau"`.

    Example:

    >>> [snake_case(n) for n in ["Augment", "ProgressiveEpochs", "ReduceLROnPlateau", "ToHSV"]]
    ['augment', 'progressive_epochs', 'reduce_lr_on_plateau', 'to_hsv']
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def hparam_value(value):
    """A value TensorBoard's HParams accept (bool, int, float, str): others as JSON.

    Example:

    >>> [hparam_value(v) for v in [3, 0.5, True, "x", None, [25, 100]]]
    [3, 0.5, True, 'x', 'None', '[25, 100]']
    """
    if isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if value is None:
        return "None"
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _settings(obj):
    """The object's settings: `get_config()` if it has one, else its constructor arguments."""
    if hasattr(obj, "get_config"):
        try:
            config = dict(obj.get_config())
        except NotImplementedError:
            config = None
        if config is not None:
            return {k: v for k, v in config.items() if k not in _IGNORED}
    try:
        parameters = inspect.signature(type(obj).__init__).parameters
    except (TypeError, ValueError):
        return {}
    return {
        name: getattr(obj, name)
        for name in parameters
        if name not in ("self", *_IGNORED) and hasattr(obj, name)
    }


def _default_settings(obj):
    """The settings of `type(obj)()`, or None when the class has required arguments."""
    try:
        return _settings(type(obj)())
    except Exception:  # noqa: BLE001 - any class that cannot be built bare keeps all settings
        return None


def trick_settings(tricks):
    """The settings of the tricks a run uses, as flat HParams.

    Each trick is described by the constructor arguments that differ from the class's
    defaults (all of them when the class has required arguments): `get_config()` for
    transforms and layers, the same-named attributes for callbacks. A
    `CheckpointOnChange` contributes the objects of its `data_config` and its `hparams`.

    Args:
        tricks: Iterable of kit transforms, Keras layers, callbacks or a
            `CheckpointOnChange`.

    Returns:
        `(settings, names)`: a dict `{"augment.rotation_range": 10, ...}` of HParams
        values (bool, int, float or str), and the list of trick names in order.

    Example:

    >>> import keras_accuracy_kit as kit
    >>> settings, names = trick_settings([kit.augment(rotation_range=10, seed=1)])
    >>> names, settings
    (['augment'], {'augment.rotation_range': 10, 'augment.seed': 1})
    """
    settings, names, seen = {}, [], {}
    pending = list(tricks or [])
    while pending:
        trick = pending.pop(0)
        if isinstance(trick, CheckpointOnChange):
            if isinstance(trick.data_config, (list, tuple)):
                pending[:0] = list(trick.data_config)
            elif isinstance(trick.data_config, dict):
                for key, value in trick.data_config.items():
                    settings[f"data.{key}"] = hparam_value(value)
            for key, value in trick.hparams.items():
                settings[str(key)] = hparam_value(value)
            continue
        base = snake_case(type(trick).__name__)
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}_{seen[base]}"
        names.append(name)
        current = _settings(trick)
        defaults = _default_settings(trick)
        for key, value in current.items():
            if defaults is not None and key in defaults and defaults[key] == value:
                continue
            settings[f"{name}.{key}"] = hparam_value(value)
    return settings, names
