"""Every callback's defaults are the ones its docstring states, and Keras' where it shares them.

A default changed in the signature (or in the docstring) alone would pass every test that
passes its arguments explicitly (mutants of `initial_epochs=25` survived, issue 22).
"""

import ast
import inspect
import re

import keras
import pytest

import keras_accuracy_kit as kit

CALLBACKS = [
    kit.callbacks.ProgressiveEpochs,
    kit.callbacks.ReduceLROnPlateau,
    kit.callbacks.CheckpointOnChange,
    kit.callbacks.LRFinder,
]


def documented_defaults(cls):
    """`{argument: value}` from the `Args:` block's "Defaults to `value`" sentences."""
    lines = inspect.getdoc(cls).splitlines()
    start = lines.index("Args:") + 1
    texts, name = {}, None
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break  # the next section
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            name = match.group(1)
            texts[name] = match.group(2)
        elif name is not None:
            texts[name] += " " + line.strip()
    found = {}
    for argument, text in texts.items():
        match = re.search(r"Defaults to `([^`]+)`", text)
        if match:
            found[argument] = ast.literal_eval(match.group(1))
    return found


@pytest.mark.parametrize("cls", CALLBACKS, ids=lambda cls: cls.__name__)
def test_the_signature_defaults_are_the_documented_ones(cls):
    documented = documented_defaults(cls)
    parameters = inspect.signature(cls.__init__).parameters
    defaults = {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    assert documented, f"{cls.__name__}: no documented default found"
    assert documented == {name: defaults[name] for name in documented}
    assert set(documented) == set(defaults), set(defaults) ^ set(documented)


def test_progressive_epochs_defaults_as_constructed():
    callback = kit.callbacks.ProgressiveEpochs()
    assert (callback.initial_epochs, callback.extension, callback.monitor) == (
        25,
        [25],
        "val_accuracy",
    )
    assert (callback.mode, callback.min_delta, callback.restore_best_weights) == ("auto", 0, True)


def test_reduce_lr_on_plateau_defaults_are_keras_own():
    ours = kit.callbacks.ReduceLROnPlateau()
    theirs = keras.callbacks.ReduceLROnPlateau()
    for name in ("monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.min_lr == theirs.min_lr == 0.0
    # A new callback's counters, as Keras' (read by a resumed run through `state_dict`).
    assert (ours.wait, ours.cooldown_counter) == (theirs.wait, theirs.cooldown_counter) == (0, 0)
