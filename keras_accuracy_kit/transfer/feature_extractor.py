"""FeatureExtractor: a TF2 SavedModel, a TF-Hub URL or a named backbone as a Keras 3 layer.

The layer is the public entry point; what it runs is one of three sources, one per file:
`SavedModelSource` (a local directory or `file://` URL), `HubSource` (an `http(s)://`
TF-Hub / Kaggle URL) and `NamedBackboneSource` (a `keras.applications` backbone of the
registry). The layer owns what Keras tracks (variables, the backbone model, the config);
the source finds, loads, calls and saves.
"""

import os

import keras

from keras_accuracy_kit._core import checks, keras_compat
from keras_accuracy_kit.transfer.backbone_spec import BACKBONES, list_backbones
from keras_accuracy_kit.transfer.hub_source import HubSource, hub_cache_path
from keras_accuracy_kit.transfer.named_backbone_source import NamedBackboneSource
from keras_accuracy_kit.transfer.saved_model_source import (
    SavedModelSource,
    resolve_local_handle,
)

_OWNER = "FeatureExtractor"
#: `hub_cache_path` and `resolve_handle` stay importable from here (used before the split).
__all__ = ["FeatureExtractor", "hub_cache_path", "resolve_handle"]


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

    The handle picks one source (`layer.source`): `SavedModelSource` for a directory or
    `file://` URL, `HubSource` for an `http(s)://` URL, `NamedBackboneSource` for a registry
    name. A handle that cannot work (a missing or unreadable SavedModel, a malformed URL, a
    host answering an HTTP error, a `__call__` never traced) fails at construction with a
    `ValueError` naming it and the fix.

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
        variable_specs: Optional list of dicts. Written by `get_config` for a SavedModel
            (each variable's node path, shape, dtype, trainability and name) so that a
            `.keras` file recreates the variables before its optimizer is built and the
            optimizer's state (moments, step count) follows the fine-tuned SavedModel.
            You need not pass it. Defaults to `None`.
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
        variable_specs=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        checks.check_bool(_OWNER, "trainable", trainable, error=ValueError)
        self.handle = os.fspath(handle) if isinstance(handle, os.PathLike) else handle
        if not isinstance(self.handle, str) or not self.handle:
            raise ValueError(
                f"{_OWNER}: `handle` must be a SavedModel directory or URL string. "
                f"Received: handle={handle!r}. Pass e.g. handle='path/to/saved_model'."
            )
        self.backbone_weights = weights
        self.backbone_model = None
        # Which backbone layers were unfrozen (`fine_tune(unfreeze=N)`), kept in the config.
        self._trainable_layers = None if trainable_layers is None else list(trainable_layers)
        restoring = _deserializing()
        # Keras' safe mode while a `.keras` file (or config) is deserialized; None outside.
        self._safe_mode = keras_compat.in_safe_mode() if restoring else None
        self._source = _make_source(
            self.handle, signature, output_key, output_shape, weights, trainable_layers, restoring
        )
        if variable_specs is not None and isinstance(self._source, SavedModelSource):
            self._source.variable_specs = list(variable_specs)
        self._source.attach(self, restoring, self._safe_mode)

    # What the source knows ---------------------------------------------------------------

    @property
    def source(self):
        """The source the layer runs: `SavedModelSource`, `HubSource` or `NamedBackboneSource`."""
        return self._source

    @property
    def backbone_spec(self):
        """The `BackboneSpec` of a named backbone, else `None`."""
        return getattr(self._source, "spec", None)

    @property
    def signature(self):
        return getattr(self._source, "signature", None)

    @property
    def output_key(self):
        return getattr(self._source, "output_key", None)

    @property
    def output_shape_(self):
        """The output shape without the batch axis (`None` until known)."""
        return self._source.output_shape

    @property
    def _saved_model_dir(self):
        return getattr(self._source, "directory", None)

    @property
    def expected_input_shape(self):
        """The input shape the backbone expects, without the batch axis (`None`: any size).

        From the registry spec of a named backbone, else from the SavedModel's input
        signature; `None` when the SavedModel does not say.
        """
        return self._source.expected_input_shape

    # Calling -----------------------------------------------------------------------------

    def build(self, input_shape):
        self._source.build(self, input_shape)

    def call(self, inputs, training=None):
        return self._source.call(self, inputs, training)

    def compute_output_spec(self, inputs, training=None):
        return self._source.compute_output_spec(self, inputs)

    # Saving ------------------------------------------------------------------------------

    def save_own_variables(self, store):
        self._source.save_own_variables(self, store)

    def load_own_variables(self, store):
        self._source.load_own_variables(self, store)

    def save_assets(self, dir_path):
        self._source.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._source.load_assets(self, dir_path, self._safe_mode)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "handle": self.handle,
                "trainable": self.trainable,
                "weights": self.backbone_weights,
                "trainable_layers": self._trainable_layers,
            }
        )
        config.update(self._source.config(self))
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


def _make_source(
    handle, signature, output_key, output_shape, weights, trainable_layers, restoring
):
    """The source of `handle`: a URL, a local SavedModel, or a registry backbone name.

    Raises:
        ValueError: an unknown URL scheme, or a bare name that is neither a known backbone
            nor an existing path (the known backbones are listed).
    """
    scheme = handle.split("://", 1)[0].lower() if "://" in handle else ""
    if scheme in ("http", "https"):
        return HubSource(handle, signature, output_key, output_shape)
    if scheme not in ("", "file"):
        raise ValueError(
            f"{_OWNER}: `handle` must be a local path, a `file://` URL or an `https://` "
            f"model URL. Received: handle={handle!r} (scheme {scheme!r}). Download the model "
            "and pass its local SavedModel directory, or use its https:// URL."
        )
    if scheme or os.path.exists(handle) or os.sep in handle or "/" in handle:
        return SavedModelSource(handle, signature, output_key, output_shape)
    if handle not in BACKBONES:
        raise ValueError(
            f"{_OWNER}: `handle` must be a SavedModel directory, a URL, or one of the known "
            f"backbones {list_backbones()}. Received: handle={handle!r}, which is neither an "
            "existing directory nor a known backbone name. Pick a listed name, or pass the "
            "path of a SavedModel directory."
        )
    if signature is not None or output_key is not None:
        raise ValueError(
            f"{_OWNER}: `signature` and `output_key` must be None for the named "
            f"backbone {handle!r}. Received: signature={signature!r}, "
            f"output_key={output_key!r}. Drop them: they apply to SavedModels."
        )
    return NamedBackboneSource(BACKBONES[handle], weights, trainable_layers, restoring)


def resolve_handle(handle):
    """Returns the local SavedModel directory of `handle` (a path, `file://` or `https://` URL).

    Raises:
        ValueError: the directory does not exist, or a URL handle is malformed, neither
            cached nor reachable, or fails to download.
    """
    if handle.startswith(("http://", "https://")):
        return HubSource(handle).locate()
    return resolve_local_handle(handle)
