"""SavedModelSource: a local TF2 SavedModel directory behind `FeatureExtractor`."""

import atexit
import os
import shutil
import tempfile
import urllib.parse
import urllib.request

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import keras_compat
from keras_accuracy_kit.transfer import saved_model_reading as reading

_OWNER = "FeatureExtractor"

#: The dtypes a `variable_specs` entry may name: TensorFlow's numeric and bool types.
_VARIABLE_DTYPES = frozenset(
    dtype.name
    for dtype in (tf.float16, tf.bfloat16, tf.float32, tf.float64, tf.int8, tf.int16)
    + (tf.int32, tf.int64, tf.uint8, tf.uint16, tf.uint32, tf.uint64, tf.bool)
    + (tf.complex64, tf.complex128)
)

#: Keras safe mode while deserializing -> the check of a SavedModel found by its handle.
_CHECKS = {True: "refuse", False: None, None: "warn"}


class SavedModelSource:
    """A SavedModel directory (a path or a `file://` URL) that `FeatureExtractor` runs.

    The layer owns the state Keras tracks (its variables); this object finds, checks and
    loads the SavedModel, calls it, and copies it into / out of a `.keras` file.

    Args:
        handle: String. A SavedModel directory or a `file://` URL.
        signature: Optional string. A named signature to call instead of `__call__`.
        output_key: Optional string. The entry to return from a dict output.
        output_shape: Optional tuple. The output shape without the batch axis.
        variable_specs: Optional list of dicts (`path`, `shape`, `dtype`, `trainable`,
            `name`), from the layer config: the variables to create before the SavedModel
            loads into them. Defaults to `None`.
    """

    def __init__(
        self, handle, signature=None, output_key=None, output_shape=None, variable_specs=None
    ):
        self.handle = handle
        self.variable_specs = None if variable_specs is None else list(variable_specs)
        # id(layer variable) -> its node path in the SavedModel (None when unknown).
        self.paths = {}
        self.signature = signature
        self.output_key = output_key
        self.output_shape = None if output_shape is None else tuple(output_shape)
        self.directory = None
        self.loaded = None
        self.pending_values = None
        self.strategy = tf.distribute.get_strategy()

    # Finding the SavedModel -------------------------------------------------------------

    def locate(self):
        """Returns the local SavedModel directory of the handle, or raises a clear error."""
        return resolve_local_handle(self.handle)

    def locate_when_restoring(self):
        """The directory to load while a config is deserialized (no download), or None."""
        try:
            return self.locate()
        except ValueError:
            return None

    def attach(self, layer, restoring, safe_mode):
        """Loads the SavedModel for a new layer; a restored one only if it exists here.

        A `.keras` file replaces it with its own copy in `load_assets`.
        """
        if not restoring:
            self.load(layer, self.locate(), check="warn")
            return
        if self.variable_specs:
            self._track_placeholders(layer)
        directory = self.locate_when_restoring()
        if directory is not None:
            self.load(layer, directory, check=_CHECKS[safe_mode])

    # Loading ----------------------------------------------------------------------------

    def load(self, layer, directory, check):
        """Loads the SavedModel at `directory` and tracks its variables on `layer`.

        `check`: what ops outside the safe-mode allowlist do, found before anything of
        the SavedModel runs: `"refuse"` (Keras safe mode) raises, `"warn"` (a SavedModel
        the user chose) warns, `None` (`safe_mode=False`) does not look.
        """
        saved_model = reading.read_saved_model(directory, self.handle)
        if check is not None:
            reading.check_ops(saved_model, self.handle, directory, refuse=check == "refuse")
        self.directory = directory
        self.strategy = tf.distribute.get_strategy()
        paths = reading.variable_paths(saved_model)
        existing = own_variables(layer)
        reuse = bool(existing) and paths is not None
        reuse = reuse and all(self.paths.get(id(variable)) in paths for variable in existing)
        if existing and not reuse:  # a SavedModel of another layout: new variables
            for variable in existing:
                keras_compat.untrack_variable(layer, variable)
        filters = None
        if paths is not None:
            filters = dict.fromkeys(paths)
            if reuse:  # the SavedModel's functions use the layer's own variables
                filters.update({self.paths[id(v)]: v.value for v in existing})
        nodes = reading.load(directory, self.handle, filters)
        loaded = nodes["root"]
        self.function, self.is_signature = reading.pick_function(
            loaded, self.signature, self.handle
        )
        self.loaded = loaded
        self.accepts_training = reading.accepts_training(self.function)
        if self.is_signature:
            self.input_names = sorted(
                set(self.function.structured_input_signature[1]) - {"training"}
            )
            if len(self.input_names) != 1:
                raise ValueError(
                    f"{_OWNER}: `signature` must take exactly one input. Received: "
                    f"signature={self.signature!r} with inputs {self.input_names}. Wrap "
                    "the SavedModel in a `tf.function` that takes one tensor."
                )
        variables, trainable_ids = reading.saved_model_variables(loaded, self.function)
        if reuse:
            self._check_reused(existing, variables)
        else:
            path_of = {id(node): path for path, node in nodes.items() if path != "root"}
            self._track_variables(layer, variables, trainable_ids, path_of)
        self.regularization_losses = (
            [] if self.is_signature else list(getattr(loaded, "regularization_losses", None) or [])
        )
        if self.pending_values is not None:
            values, self.pending_values = self.pending_values, None
            self._assign_values(layer, values)
        layer.built = True

    def _track_placeholders(self, layer):
        """Variables of the saved layout, before the SavedModel loads into them.

        A `.keras` file builds the optimizer before `load_assets` loads the SavedModel:
        the variables must exist (and stay the same objects) by then, or the optimizer's
        state is skipped and `fit` fails on unknown variables.
        """
        for spec in self.variable_specs:
            _check_spec(spec)
        with keras_compat.unlocked_tracking(layer), tf.init_scope(), keras.name_scope(
            layer.name
        ):
            for spec in self.variable_specs:
                placeholder = keras.Variable(
                    initializer="zeros",
                    shape=tuple(spec["shape"]),
                    dtype=spec["dtype"],
                    trainable=bool(spec["trainable"]),
                    name=spec["name"],
                )
                self.paths[id(placeholder)] = spec["path"]
                keras_compat.track_variable(layer, placeholder)

    def _check_reused(self, existing, variables):
        if {id(v.value) for v in existing} != {id(v) for v in variables}:
            raise ValueError(
                f"{_OWNER}: the layer's saved variables must be those of its SavedModel. "
                f"Received: handle={self.handle!r}, whose SavedModel at {self.directory!r} "
                f"uses {len(variables)} variables other than the {len(existing)} saved with "
                "the layer. Save and load with the same SavedModel."
            )

    def _track_variables(self, layer, variables, trainable_ids, path_of=None, specs=None):
        # `load_assets` runs after the layer was rebuilt (and its state locked).
        # Paths `<layer name>/<variable>` (what `DiscriminativeOptimizer` routes by).
        with keras_compat.unlocked_tracking(layer), tf.init_scope(), keras.name_scope(
            layer.name
        ):
            for variable in variables:
                tracked = keras.Variable(
                    initializer=variable,
                    trainable=id(variable) in trainable_ids,
                    dtype=variable.dtype,
                    shape=variable.shape,
                    name=variable.name.split(":")[0].replace("/", "_"),
                )
                self.paths[id(tracked)] = (path_of or {}).get(id(variable))
                keras_compat.track_variable(layer, tracked)

    def _assign_values(self, layer, values):
        weights = own_variables(layer)
        if len(values) != len(weights):
            raise ValueError(
                f"{_OWNER}: the saved weights must match the SavedModel's variables. "
                f"Received: {len(values)} saved values for {len(weights)} variables of "
                f"{self.directory!r}. Save and load with the same SavedModel."
            )
        for variable, value in zip(weights, values):
            variable.assign(value)

    # Calling ----------------------------------------------------------------------------

    def build(self, layer, input_shape):
        layer.built = True

    def call(self, layer, inputs, training):
        self._check_loaded()
        self._check_strategy()
        training = bool(training) and layer.trainable
        if self.is_signature:
            arguments = {self.input_names[0]: inputs}
            if self.accepts_training:
                arguments["training"] = tf.constant(training)
            outputs = self.function(**arguments)
        elif self.accepts_training:
            outputs = self.function(inputs, training)
        else:
            outputs = self.function(inputs)
        if training and self.regularization_losses:
            for loss in self.regularization_losses:
                layer.add_loss(loss())
        return self._select_output(outputs)

    def _select_output(self, outputs):
        if not isinstance(outputs, dict):
            if self.output_key is not None:
                raise ValueError(
                    f"{_OWNER}: `output_key` must be None for a SavedModel that returns a "
                    f"single tensor. Received: output_key={self.output_key!r}. Drop "
                    "`output_key`."
                )
            return outputs
        if self.output_key is None:
            if len(outputs) == 1:
                return next(iter(outputs.values()))
            raise ValueError(
                f"{_OWNER}: `output_key` must name one of the SavedModel's outputs "
                f"{sorted(outputs)}. Received: output_key=None. Pass e.g. "
                f"output_key={sorted(outputs)[0]!r}."
            )
        if self.output_key not in outputs:
            raise ValueError(
                f"{_OWNER}: `output_key` must be one of the SavedModel's outputs "
                f"{sorted(outputs)}. Received: output_key={self.output_key!r}. Pick one "
                "of the listed keys."
            )
        return outputs[self.output_key]

    def _check_loaded(self):
        if self.loaded is None:
            raise ValueError(
                f"{_OWNER}: `handle` must point to a SavedModel when the layer is rebuilt "
                f"from its config. Received: handle={self.handle!r}, which does not exist "
                "here. Load the whole model from its `.keras` file (which carries the "
                "SavedModel), or rebuild the layer where the handle exists."
            )

    def _check_strategy(self):
        if tf.distribute.has_strategy() and tf.distribute.get_strategy() is not self.strategy:
            raise ValueError(
                f"{_OWNER}: the layer must be built inside the `strategy.scope()` it runs "
                f"under. Received: handle={self.handle!r} loaded outside "
                f"{type(tf.distribute.get_strategy()).__name__}.scope(). Create the "
                "FeatureExtractor (and the model) inside `with strategy.scope():`."
            )

    def compute_output_spec(self, layer, inputs):
        if self.loaded is None:
            if self.output_shape is None:
                raise ValueError(
                    f"{_OWNER}: `output_shape` must be known to rebuild the layer before its "
                    f"SavedModel is loaded. Received: output_shape=None. Load it from a "
                    ".keras file saved by this version, or pass `output_shape=`."
                )
            return keras.KerasTensor((inputs.shape[0],) + self.output_shape, dtype="float32")
        self._check_strategy()
        spec = tf.TensorSpec(inputs.shape, inputs.dtype)
        trace = tf.function(lambda x: self.call(layer, x, training=False), autograph=False)
        output = trace.get_concrete_function(spec).structured_outputs
        self.output_shape = tuple(output.shape[1:])
        return keras.KerasTensor(tuple(output.shape), dtype=output.dtype.name)

    @property
    def expected_input_shape(self):
        """The input shape without the batch axis from the input signature (None: unknown)."""
        if self.loaded is None:
            return None
        for concrete in reading.concrete_functions(self.function):
            args, kwargs = concrete.structured_input_signature
            names = self.input_names[:1] if self.is_signature else []
            specs = list(args[:1]) or [kwargs[name] for name in names]
            if specs and isinstance(specs[0], tf.TensorSpec) and specs[0].shape.rank:
                return tuple(specs[0].shape[1:])
        return None

    # Saving -----------------------------------------------------------------------------

    def save_own_variables(self, layer, store):
        for index, variable in enumerate(own_variables(layer)):
            store[f"{index}"] = variable.numpy()

    def load_own_variables(self, layer, store):
        values = [np.asarray(store[f"{index}"]) for index in range(len(store.keys()))]
        if not own_variables(layer):
            # `.keras` loading restores variables before assets: keep the values until
            # `load_assets` has loaded the SavedModel.
            self.pending_values = values
        else:
            self._assign_values(layer, values)

    def save_assets(self, dir_path):
        if self.directory is not None:
            shutil.copytree(self.directory, os.path.join(dir_path, "saved_model"))

    def load_assets(self, layer, dir_path, safe_mode):
        # The `.keras` loader deletes `dir_path` afterwards: keep a private copy, which
        # the next `save_assets` copies again.
        private = tempfile.mkdtemp(prefix="kak-feature-extractor-")
        atexit.register(shutil.rmtree, private, True)
        target = os.path.join(private, "saved_model")
        shutil.copytree(os.path.join(dir_path, "saved_model"), target)
        if own_variables(layer):  # their saved values, which loading would overwrite
            self.pending_values = [variable.numpy() for variable in own_variables(layer)]
        # Safe unless the load said `safe_mode=False`.
        self.load(layer, target, check=None if safe_mode is False else "refuse")

    def config(self, layer):
        """The source's entries of the layer config."""
        return {
            "signature": self.signature,
            "output_key": self.output_key,
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "variable_specs": self._current_specs(layer),
        }

    def _current_specs(self, layer):
        variables = own_variables(layer)
        if not variables:
            return self.variable_specs
        if any(self.paths.get(id(variable)) is None for variable in variables):
            return None
        num_trainable = len(keras_compat.own_variables(layer)[0])
        return [
            {
                "path": self.paths[id(variable)],
                "shape": list(variable.shape),
                "dtype": variable.dtype,
                "trainable": index < num_trainable,
                "name": variable.name,
            }
            for index, variable in enumerate(variables)
        ]


def _check_spec(spec):
    """A `variable_specs` entry must be what `get_config` writes (a file may be edited)."""
    keys = {"path", "shape", "dtype", "trainable", "name"}
    valid = isinstance(spec, dict) and set(spec) == keys
    valid = valid and isinstance(spec["path"], str) and spec["path"].startswith("root.")
    valid = valid and isinstance(spec["shape"], (list, tuple))
    valid = valid and all(type(size) is int and size >= 0 for size in spec["shape"])
    valid = valid and isinstance(spec["name"], str) and isinstance(spec["trainable"], bool)
    valid = valid and isinstance(spec["dtype"], str) and spec["dtype"] in _VARIABLE_DTYPES
    if not valid:
        raise ValueError(
            f"{_OWNER}: each entry of `variable_specs` must be a dict with keys {sorted(keys)} "
            "as `get_config` writes it (a numeric dtype). Received: "
            f"variable_specs entry={spec!r}. Save the model again, or drop `variable_specs` "
            "from the config."
        )


def own_variables(layer):
    trainable, non_trainable = keras_compat.own_variables(layer)
    return trainable + non_trainable


def resolve_local_handle(handle):
    """Returns the SavedModel directory of a path or `file://` handle.

    Raises:
        ValueError: the directory does not exist or holds no `saved_model.pb`.
    """
    path = handle
    if handle.startswith("file://"):
        path = urllib.request.url2pathname(urllib.parse.urlparse(handle).path)
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise ValueError(
            f"{_OWNER}: `handle` must be an existing SavedModel directory or URL. Received: "
            f"handle={handle!r} (no directory at {path!r}). Check the path, or pass the "
            "directory written by `tf.saved_model.save` / `model.export()` (the one that "
            "contains saved_model.pb)."
        )
    if not any(
        os.path.exists(os.path.join(path, name)) for name in ("saved_model.pb", "saved_model.pbtxt")
    ):
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel directory (containing saved_model.pb). "
            f"Received: handle={handle!r}, whose directory holds {sorted(os.listdir(path))}. "
            "Pass the directory written by `tf.saved_model.save` or `model.export()`."
        )
    return path
