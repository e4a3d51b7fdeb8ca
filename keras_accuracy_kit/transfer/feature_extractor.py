"""FeatureExtractor: a TF2 SavedModel (TF-Hub, tf.Module, Keras export) as a Keras 3 layer."""

import atexit
import hashlib
import os
import shutil
import socket
import tempfile
import urllib.parse
import urllib.request
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit.transfer import graph_safety
from keras_accuracy_kit.transfer.backbone_spec import BACKBONES, list_backbones

_OWNER = "FeatureExtractor"
#: Seconds to wait for a TF-Hub / Kaggle host before reporting that it is unreachable.
_CONNECT_TIMEOUT_SECONDS = 5.0


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class FeatureExtractor(keras.layers.Layer):
    """Wraps a TF2 SavedModel (a TF-Hub model, a `tf.Module`, a Keras export) as a Keras 3 layer.

    `hub.KerasLayer` is a Keras 2 (`tf_keras`) layer and fails inside Keras 3 models, and
    Keras' own `TFSMLayer` never passes `training`, keeps only a file path (the `.keras`
    file needs the original directory and `safe_mode=False`) and has no fine-tuning story.
    This layer loads the SavedModel with `tf.saved_model.load`, passes `training` when its
    callable accepts it (dropout, batch norm of TF-Hub "reusable SavedModels"), tracks its
    variables (so `fit` fine-tunes them with `trainable=True` and leaves them alone when
    frozen; a frozen layer always runs in inference mode), and copies the SavedModel into
    the `.keras` file: the saved model loads with `safe_mode=True` anywhere, with its
    fine-tuned weights.

    Under Keras safe mode (`keras.models.load_model(path, safe_mode=True)`, the default),
    the SavedModel a `.keras` file carries is checked before anything of it runs: its
    functions may use only the tensor-only ops of `kit.transfer.SAFE_OPS` (no
    file, Python, `tf.data`, printing, network or custom ops), else loading fails with
    the ops and where they are. Load a file you trust with `safe_mode=False`. A
    SavedModel you pass as `handle` yourself gets the same check as a warning.

    Three SavedModel shapes are understood: a TF2 hub-style reusable SavedModel (a
    `__call__(inputs, training)` plus `variables` / `trainable_variables` /
    `regularization_losses`), `tf.saved_model.save` of a `tf.Module` with a `__call__`
    `tf.function` or a `serving_default` signature, and a Keras `Model.export()`
    artifact (`serve` / `serving_default`). Build it inside `strategy.scope()` under
    `tf.distribute`. A `.keras` file loads after `import keras_accuracy_kit`.

    Input shape: what the SavedModel expects, with a batch axis.
    Output shape: what it returns (the `output_key` entry of a dict output).

    `handle` may also name a `keras.applications` backbone of the registry
    (`kit.transfer.list_backbones()`, e.g. `"mobilenet_v2"`): the layer then builds it
    without its top at the input size it is called on, applies the backbone's own
    `preprocess_input` to images in its `spec.value_range` (`[0, 255]`), returns the
    pooled features, and always runs it in inference mode (batch norm keeps its moving
    statistics while fine-tuning, as the Keras fine-tuning guide does).

    Args:
        handle: String or path-like. A local SavedModel directory, a `file://` URL, an
            `https://` TF-Hub / Kaggle model URL (needs `tensorflow-hub`; downloads once
            into `$TFHUB_CACHE_DIR`), or a backbone name of `list_backbones()`.
        trainable: Bool. Whether `fit` updates the SavedModel's variables. Defaults to
            `False` (a frozen feature extractor).
        signature: Optional string. A named signature to call (e.g. `"serving_default"`)
            instead of the SavedModel's `__call__` / `serve`. Defaults to `None`.
        output_key: Optional string. The entry to return when the SavedModel returns a
            dict. Defaults to `None` (the only entry; required if there are several).
        output_shape: Optional tuple. The output shape without the batch axis. Inferred by
            tracing when `None`; saved in the config so a `.keras` file rebuilds without
            the SavedModel. Defaults to `None`.
        weights: For a named backbone: `"imagenet"` (downloaded once by Keras into
            `~/.keras/models`), `None` (random initialisation) or a weights file path.
            Ignored for SavedModels. Defaults to `"imagenet"`.
        trainable_layers: Optional list of layer indices. For a trainable named backbone,
            the only layers left trainable (what `kit.transfer.fine_tune(unfreeze=N)` sets, with
            batch norm frozen); saved in the config so a reloaded model keeps them.
            Defaults to `None` (all layers follow `trainable`).
        **kwargs: Base `keras.layers.Layer` arguments.

    Example:

    ```python
    extractor = kit.transfer.FeatureExtractor("path/to/saved_model", trainable=False)
    model = keras.Sequential([keras.Input((224, 224, 3)), extractor, keras.layers.Dense(10)])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images, labels)
    model.save("classifier.keras")  # self-contained: loads without the SavedModel directory
    ```
    """

    def __init__(
        self,
        handle,
        trainable=False,
        signature=None,
        output_key=None,
        output_shape=None,
        weights="imagenet",
        trainable_layers=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        # Which backbone layers were unfrozen (`fine_tune(unfreeze=N)`), kept in the config.
        self._trainable_layers = None if trainable_layers is None else list(trainable_layers)
        if not isinstance(trainable, bool):
            raise ValueError(
                f"{_OWNER}: `trainable` must be True or False. Received: trainable={trainable!r}."
            )
        self.handle = os.fspath(handle) if isinstance(handle, os.PathLike) else handle
        if not isinstance(self.handle, str) or not self.handle:
            raise ValueError(
                f"{_OWNER}: `handle` must be a SavedModel directory or URL string. "
                f"Received: handle={handle!r}. Pass e.g. handle='path/to/saved_model'."
            )
        self.signature = signature
        self.output_key = output_key
        self.output_shape_ = None if output_shape is None else tuple(output_shape)
        self._saved_model = None
        self._saved_model_dir = None
        self._pending_values = None
        self._strategy = tf.distribute.get_strategy()
        self.backbone_weights = weights
        self.backbone_spec = _named_backbone(self.handle)
        self.backbone_model = None
        self._restoring = _deserializing()
        # Keras' safe mode while a `.keras` file (or config) is deserialized; None outside.
        self._safe_mode = _keras_safe_mode() if self._restoring else None
        if self.backbone_spec is not None:
            if signature is not None or output_key is not None:
                raise ValueError(
                    f"{_OWNER}: `signature` and `output_key` must be None for the named "
                    f"backbone {self.handle!r}. Received: signature={signature!r}, "
                    f"output_key={output_key!r}. Drop them: they apply to SavedModels."
                )
            self.output_shape_ = (self.backbone_spec.num_features,)
        elif not _deserializing():
            self._load(resolve_handle(self.handle), check="warn")
        elif _is_local_savedmodel(self.handle):
            # `from_config` outside `.keras` loading (e.g. `clone_model`); a `.keras` file
            # replaces it with its own copy in `load_assets`.
            self._load(resolve_handle(self.handle), check=_CHECKS[self._safe_mode])

    # Loading -----------------------------------------------------------------------------

    def _load(self, directory, check):
        """Loads the SavedModel at `directory` and tracks its variables.

        `check`: what ops outside the safe-mode allowlist do, found before anything of
        the SavedModel runs: `"refuse"` (Keras safe mode) raises, `"warn"` (a SavedModel
        the user chose) warns, `None` (`safe_mode=False`) does not look.
        """
        if check is not None:
            _check_graph(directory, self.handle, refuse=check == "refuse")
        self._saved_model_dir = directory
        self._strategy = tf.distribute.get_strategy()
        loaded = tf.saved_model.load(directory)
        self._saved_model = loaded
        self._function, self._is_signature = _pick_function(loaded, self.signature, directory)
        self._accepts_training = _accepts_training(self._function)
        if self._is_signature:
            self._input_names = sorted(
                set(self._function.structured_input_signature[1]) - {"training"}
            )
            if len(self._input_names) != 1:
                raise ValueError(
                    f"{_OWNER}: `signature` must take exactly one input. Received: "
                    f"signature={self.signature!r} with inputs {self._input_names}. Wrap "
                    "the SavedModel in a `tf.function` that takes one tensor."
                )
        variables, trainable_ids = _saved_model_variables(loaded, self._function)
        # `load_assets` runs after the layer was rebuilt (and its state locked).
        was_locked = self._tracker.locked
        self._tracker.unlock()
        # Paths `<layer name>/<variable>` (what `DiscriminativeOptimizer` routes by).
        with tf.init_scope(), keras.name_scope(self.name):
            for variable in variables:
                self._track_variable(
                    keras.Variable(
                        initializer=variable,
                        trainable=id(variable) in trainable_ids,
                        dtype=variable.dtype,
                        shape=variable.shape,
                        name=variable.name.split(":")[0].replace("/", "_"),
                    )
                )
        if was_locked:
            self._tracker.lock()
        self._regularization_losses = (
            list(getattr(loaded, "regularization_losses", None) or [])
            if not self._is_signature
            else []
        )
        if self._pending_values is not None:
            values, self._pending_values = self._pending_values, None
            self._assign_values(values)
        self.built = True

    def _assign_values(self, values):
        weights = self._own_variables()
        if len(values) != len(weights):
            raise ValueError(
                f"{_OWNER}: the saved weights must match the SavedModel's variables. "
                f"Received: {len(values)} saved values for {len(weights)} variables of "
                f"{self._saved_model_dir!r}. Save and load with the same SavedModel."
            )
        for variable, value in zip(weights, values):
            variable.assign(value)

    def _own_variables(self):
        return list(self._trainable_variables) + list(self._non_trainable_variables)

    # Calling -----------------------------------------------------------------------------

    def build(self, input_shape):
        if self.backbone_spec is None or self.backbone_model is not None:
            self.built = True
            return
        shape = tuple(input_shape[1:])
        spec = self.backbone_spec
        if len(shape) != 3 or shape[-1] != spec.channels:
            raise ValueError(
                f"{_OWNER}: the input of backbone {spec.name!r} must be images "
                f"(batch, height, width, {spec.channels}). Received: input_shape="
                f"{tuple(input_shape)}. Resize and convert the images first, or use "
                "`kit.transfer.classifier`, which adapts them."
            )
        # A `.keras` file restores the weights it saved: no download on load.
        weights = None if self._restoring else self.backbone_weights
        try:
            self.backbone_model = spec.build(
                weights=weights, input_shape=shape, pooling="avg", trainable=self.trainable
            )
            if self.trainable and self._trainable_layers is not None:
                unfrozen = set(self._trainable_layers)
                for index, layer in enumerate(self.backbone_model.layers):
                    layer.trainable = index in unfrozen
        except Exception as error:  # noqa: BLE001 - re-raised with the fix
            if weights != "imagenet":
                raise
            raise ValueError(
                f"{_OWNER}: the ImageNet weights of backbone {spec.name!r} must be "
                f"downloadable or cached in ~/.keras/models. Received: weights='imagenet', "
                f"but loading failed ({type(error).__name__}: {error}). Run once where "
                "there is network (Keras caches the file), pass weights=None to start "
                "from random weights, or pass the path of a weights file."
            ) from error
        self.built = True

    def call(self, inputs, training=None):
        if self.backbone_spec is not None:
            # Inference mode always: batch norm keeps its statistics when fine-tuned.
            return self.backbone_model(self.backbone_spec.preprocess(inputs), training=False)
        self._check_loaded()
        self._check_strategy()
        training = bool(training) and self.trainable
        if self._is_signature:
            arguments = {self._input_names[0]: inputs}
            if self._accepts_training:
                arguments["training"] = tf.constant(training)
            outputs = self._function(**arguments)
        elif self._accepts_training:
            outputs = self._function(inputs, training)
        else:
            outputs = self._function(inputs)
        if training and self._regularization_losses:
            for loss in self._regularization_losses:
                self.add_loss(loss())
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
        if self._saved_model is None:
            raise ValueError(
                f"{_OWNER}: `handle` must point to a SavedModel when the layer is rebuilt "
                f"from its config. Received: handle={self.handle!r}, which does not exist "
                "here. Load the whole model from its `.keras` file (which carries the "
                "SavedModel), or rebuild the layer where the handle exists."
            )

    def _check_strategy(self):
        if tf.distribute.has_strategy() and tf.distribute.get_strategy() is not self._strategy:
            raise ValueError(
                f"{_OWNER}: the layer must be built inside the `strategy.scope()` it runs "
                f"under. Received: handle={self.handle!r} loaded outside "
                f"{type(tf.distribute.get_strategy()).__name__}.scope(). Create the "
                "FeatureExtractor (and the model) inside `with strategy.scope():`."
            )

    def compute_output_spec(self, inputs, training=None):
        if self.backbone_spec is not None:
            return keras.KerasTensor((inputs.shape[0],) + self.output_shape_, dtype="float32")
        if self._saved_model is None:
            if self.output_shape_ is None:
                raise ValueError(
                    f"{_OWNER}: `output_shape` must be known to rebuild the layer before its "
                    f"SavedModel is loaded. Received: output_shape=None. Load it from a "
                    ".keras file saved by this version, or pass `output_shape=`."
                )
            return keras.KerasTensor((inputs.shape[0],) + self.output_shape_, dtype="float32")
        self._check_strategy()
        spec = tf.TensorSpec(inputs.shape, inputs.dtype)
        trace = tf.function(lambda x: self.call(x, training=False), autograph=False)
        traced = trace.get_concrete_function(spec)
        output = traced.structured_outputs
        self.output_shape_ = tuple(output.shape[1:])
        return keras.KerasTensor(tuple(output.shape), dtype=output.dtype.name)

    # Saving ------------------------------------------------------------------------------

    def save_own_variables(self, store):
        for index, variable in enumerate(self._own_variables()):
            store[f"{index}"] = variable.numpy()

    def load_own_variables(self, store):
        values = [np.asarray(store[f"{index}"]) for index in range(len(store.keys()))]
        if self._saved_model is None:
            # `.keras` loading restores variables before assets: keep the values until
            # `load_assets` has loaded the SavedModel.
            self._pending_values = values
        else:
            self._assign_values(values)

    def _current_trainable_layers(self):
        """Indices of the trainable backbone layers when only some are (else `None`).

        Indices, not names: Keras numbers auto-named layers per process.
        """
        if self.backbone_model is None or not self.trainable:
            return self._trainable_layers
        layers = self.backbone_model.layers
        indices = [index for index, layer in enumerate(layers) if layer.trainable]
        return None if len(indices) == len(layers) else indices

    @property
    def expected_input_shape(self):
        """The input shape the backbone expects, without the batch axis (`None`: any size).

        From the registry spec of a named backbone, else from the SavedModel's input
        signature; `None` when the SavedModel does not say.
        """
        if self.backbone_spec is not None:
            return tuple(self.backbone_spec.input_size) + (self.backbone_spec.channels,)
        if self._saved_model is None:
            return None
        for concrete in _concrete_functions(self._function):
            args, kwargs = concrete.structured_input_signature
            specs = list(args[:1]) or [kwargs[name] for name in self._input_names[:1]]
            if specs and isinstance(specs[0], tf.TensorSpec) and specs[0].shape.rank:
                return tuple(specs[0].shape[1:])
        return None

    def save_assets(self, dir_path):
        if self._saved_model_dir is None:
            return
        shutil.copytree(self._saved_model_dir, os.path.join(dir_path, "saved_model"))

    def load_assets(self, dir_path):
        if self.backbone_spec is not None:
            return
        # The `.keras` loader deletes `dir_path` afterwards: keep a private copy, which
        # the next `save_assets` copies again.
        private = tempfile.mkdtemp(prefix="kak-feature-extractor-")
        atexit.register(shutil.rmtree, private, True)
        target = os.path.join(private, "saved_model")
        shutil.copytree(os.path.join(dir_path, "saved_model"), target)
        if self._saved_model is not None:
            values = [variable.numpy() for variable in self._own_variables()]
            for variable in self._own_variables():
                self._untrack_variable(variable)
            self._saved_model = None
            self._pending_values = values
        # Safe unless the load said `safe_mode=False`.
        self._load(target, check=None if self._safe_mode is False else "refuse")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "handle": self.handle,
                "trainable": self.trainable,
                "signature": self.signature,
                "output_key": self.output_key,
                "output_shape": None if self.output_shape_ is None else list(self.output_shape_),
                "weights": self.backbone_weights,
                "trainable_layers": self._current_trainable_layers(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        _DESERIALIZING.append(True)
        try:
            return cls(**config)
        finally:
            _DESERIALIZING.pop()


_DESERIALIZING = []


def _deserializing():
    return bool(_DESERIALIZING)


#: Keras safe mode while deserializing -> the check of a SavedModel found by its handle.
_CHECKS = {True: "refuse", False: None, None: "warn"}


def _keras_safe_mode():
    """Keras' `safe_mode` of the load under way: True, False, or None outside a load."""
    try:
        from keras.src.saving import serialization_lib
    except ImportError:  # a Keras without it: no flag, so `load_assets` refuses
        return None
    safe_mode = serialization_lib.in_safe_mode()
    return None if safe_mode is None else bool(safe_mode)


def _check_graph(directory, handle, refuse):
    """Raises (`refuse`) or warns when the SavedModel at `directory` uses unsafe ops."""
    unsafe = graph_safety.saved_model_unsafe_ops(directory)
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
        stacklevel=4,
    )


# Handles -----------------------------------------------------------------------------------


def resolve_handle(handle):
    """Returns the local SavedModel directory of `handle` (a path, `file://` or `https://` URL).

    Raises:
        ValueError: the directory does not exist, or an `https://` handle is neither cached
            nor reachable.
    """
    if handle.startswith(("http://", "https://")):
        return _resolve_hub_handle(handle)
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


def _named_backbone(handle):
    """The registry spec when `handle` is a bare name rather than a path or URL.

    Raises:
        ValueError: a bare name that is neither a known backbone nor an existing path.
    """
    if os.path.exists(handle) or "://" in handle or os.sep in handle or "/" in handle:
        return None
    if handle not in BACKBONES:
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel directory, a URL, or one of the known "
            f"backbones {list_backbones()}. Received: handle={handle!r}, which is neither an "
            "existing directory nor a known backbone name. Pick a listed name, or pass the "
            "path of a SavedModel directory."
        )
    return BACKBONES[handle]


def _is_local_savedmodel(handle):
    if handle.startswith(("http://", "https://")):
        return False
    try:
        resolve_handle(handle)
    except ValueError:
        return False
    return True


def hub_cache_path(handle):
    """Where `tensorflow_hub` caches `handle`: `$TFHUB_CACHE_DIR/<sha1 of the handle>`.

    Example:

    >>> import hashlib, os
    >>> handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
    >>> os.path.basename(hub_cache_path(handle)) == hashlib.sha1(handle.encode()).hexdigest()
    True
    """
    cache_dir = os.environ.get("TFHUB_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "tfhub_modules"
    )
    return os.path.join(cache_dir, hashlib.sha1(handle.encode("utf8")).hexdigest())


def _resolve_hub_handle(handle):
    try:
        import tensorflow_hub as hub
    except ImportError as error:
        raise ValueError(
            f"{_OWNER}: `handle` URLs need the optional `tensorflow-hub` package. Received: "
            f'handle={handle!r}. Install it with `pip install "keras-accuracy-kit[hub]"`, '
            "or pass a local SavedModel directory."
        ) from error
    cached = hub_cache_path(handle)
    if os.path.isdir(cached) and os.listdir(cached):
        return hub.resolve(handle)
    url = urllib.parse.urlparse(handle)
    host = url.hostname
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_SECONDS).close()
    except OSError as error:
        raise ValueError(
            f"{_OWNER}: `handle` must be reachable or already cached. Received: "
            f"handle={handle!r}, but {host} is unreachable ({error}) and nothing is cached "
            f"at {cached!r} ($TFHUB_CACHE_DIR/<sha1 of the handle>). Download the model "
            "where there is network and copy the extracted SavedModel to that directory, "
            "or pass its local directory as `handle`."
        ) from error
    return hub.resolve(handle)


# SavedModel introspection ------------------------------------------------------------------


def _pick_function(loaded, signature, directory):
    """Returns `(function, is_signature)`: the callable of `loaded` that the layer calls."""
    signatures = dict(loaded.signatures)
    if signature is not None:
        if signature not in signatures:
            raise ValueError(
                f"{_OWNER}: `signature` must be one of the SavedModel's signatures "
                f"{sorted(signatures)}. Received: signature={signature!r}. Pick one of the "
                "listed names, or pass signature=None to call the SavedModel itself."
            )
        return signatures[signature], True
    if callable(loaded):
        return loaded.__call__, False
    if callable(getattr(loaded, "serve", None)):
        return loaded.serve, False
    for name in ("serving_default", "serve"):
        if name in signatures:
            return signatures[name], True
    raise ValueError(
        f"{_OWNER}: `handle` must be a SavedModel with a `__call__`, a `serve` function or "
        f"a `serving_default` signature. Received: handle={directory!r} with signatures "
        f"{sorted(signatures)}. Pass `signature=` with one of them."
    )


def _concrete_functions(function):
    if hasattr(function, "concrete_functions"):
        return list(function.concrete_functions)
    return [function]


def _accepts_training(function):
    for concrete in _concrete_functions(function):
        args, kwargs = concrete.structured_input_signature
        if len(args) >= 2 or "training" in kwargs:
            return True
    return False


def _saved_model_variables(loaded, function):
    """Returns `(variables, trainable_ids)` in a stable order."""
    listed = getattr(loaded, "variables", None)
    if isinstance(listed, (list, tuple)) and listed:
        variables = list(listed)
        trainable = getattr(loaded, "trainable_variables", None)
        if isinstance(trainable, (list, tuple)):
            return variables, {id(v) for v in trainable}
        return variables, {id(v) for v in variables if v.trainable}
    variables, seen = [], set()
    for concrete in _concrete_functions(function):
        for variable in concrete.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables, {id(v) for v in variables if v.trainable}
