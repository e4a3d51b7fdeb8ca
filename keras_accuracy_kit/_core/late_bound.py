"""Calls from a module to one above it, without an import against the arrow.

Imports flow one way (`_core <- transforms <- ... <- cli`, see `tests/test_layering.py`).
Where a lower module keeps a method whose work belongs higher up (`Augment.checked` runs the
invariance guard, which imports `Augment`; `Augment.preview` writes a TensorBoard image,
which is `reporting/`'s job), the higher module registers its function here when it is
imported, and the lower one calls it by name. Importing `keras_accuracy_kit` imports every
registering module, so the functions are always there for a user of the kit.
"""

_FUNCTIONS = {}


def register(name, function):
    """Registers `function` under `name` (a later registration replaces an earlier one)."""
    _FUNCTIONS[name] = function
    return function


def call(name, owner, *args, **kwargs):
    """Calls the function registered under `name` with the given arguments.

    Raises:
        RuntimeError: nothing is registered under `name`, i.e. the module that owns it was
            never imported; the message says which one to import.
    """
    try:
        function = _FUNCTIONS[name]
    except KeyError:
        module = name.rsplit(".", 1)[0]
        raise RuntimeError(
            f"{owner}: needs `{name}`, which `{module}` registers when it is imported. "
            f"Import `keras_accuracy_kit` (or `{module}`) first."
        ) from None
    return function(*args, **kwargs)
