"""NamedBackboneSource: a `keras.applications` backbone of the registry behind `FeatureExtractor`."""

import keras

_OWNER = "FeatureExtractor"


class NamedBackboneSource:
    """A backbone named in `kit.transfer.BACKBONES`, built without its top on first call.

    Built at the input size the layer is first called on, it gets the backbone's own
    `preprocess_input` (images in `spec.value_range`) and always runs in inference mode, so
    batch norm keeps its moving statistics while fine-tuning (as the Keras fine-tuning guide
    does). The layer tracks the built model as its `backbone_model`.

    Args:
        spec: `BackboneSpec`. The registry entry.
        weights: `"imagenet"`, `None` or a weights file path.
        trainable_layers: Optional list of layer indices left trainable (when the layer is).
        restoring: Bool. Whether the layer is rebuilt from a config (its weights then come
            from the `.keras` file, so nothing is downloaded).
    """

    def __init__(self, spec, weights="imagenet", trainable_layers=None, restoring=False):
        self.spec = spec
        self.weights = weights
        self.trainable_layers = None if trainable_layers is None else list(trainable_layers)
        self.restoring = restoring
        self.output_shape = (spec.num_features,)

    def attach(self, layer, restoring, safe_mode):
        """Nothing to load before the first call (the input size is not known yet)."""

    def build(self, layer, input_shape):
        if layer.backbone_model is not None:
            layer.built = True
            return
        shape = tuple(input_shape[1:])
        spec = self.spec
        if len(shape) != 3 or shape[-1] != spec.channels:
            raise ValueError(
                f"{_OWNER}: the input of backbone {spec.name!r} must be images "
                f"(batch, height, width, {spec.channels}). Received: input_shape="
                f"{tuple(input_shape)}. Resize and convert the images first, or use "
                "`kit.transfer.classifier`, which adapts them."
            )
        # A `.keras` file restores the weights it saved: no download on load.
        weights = None if self.restoring else self.weights
        try:
            model = spec.build(
                weights=weights, input_shape=shape, pooling="avg", trainable=layer.trainable
            )
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
        if layer.trainable and self.trainable_layers is not None:
            unfrozen = set(self.trainable_layers)
            for index, backbone_layer in enumerate(model.layers):
                backbone_layer.trainable = index in unfrozen
        layer.backbone_model = model
        layer.built = True

    def call(self, layer, inputs, training):
        # Inference mode always: batch norm keeps its statistics when fine-tuned.
        return layer.backbone_model(self.spec.preprocess(inputs), training=False)

    def compute_output_spec(self, layer, inputs):
        return keras.KerasTensor((inputs.shape[0],) + self.output_shape, dtype="float32")

    @property
    def expected_input_shape(self):
        return tuple(self.spec.input_size) + (self.spec.channels,)

    def current_trainable_layers(self, layer):
        """Indices of the trainable backbone layers when only some are (else `None`).

        Indices, not names: Keras numbers auto-named layers per process.
        """
        if layer.backbone_model is None or not layer.trainable:
            return self.trainable_layers
        layers = layer.backbone_model.layers
        indices = [index for index, item in enumerate(layers) if item.trainable]
        return None if len(indices) == len(layers) else indices

    # The backbone model is a tracked sub-layer: Keras saves its weights itself.

    def save_own_variables(self, layer, store):
        pass

    def load_own_variables(self, layer, store):
        pass

    def save_assets(self, dir_path):
        pass

    def load_assets(self, layer, dir_path, safe_mode):
        pass

    def config(self, layer):
        return {
            "signature": None,
            "output_key": None,
            "output_shape": list(self.output_shape),
            "trainable_layers": self.current_trainable_layers(layer),
        }
