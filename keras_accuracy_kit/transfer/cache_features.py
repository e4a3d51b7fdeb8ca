"""`kit.transfer.cache_features`: run a frozen backbone once per image and keep its features."""


import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, keras_compat
from keras_accuracy_kit.transfer.feature_extractor import FeatureExtractor

_OWNER = "kit.transfer.cache_features"
#: Layers that give the same output in training and inference: a model whose layers
#: before its `FeatureExtractor` are all of these kinds feeds the backbone the same image
#: every epoch, so caching its features changes nothing.
DETERMINISTIC_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Rescaling,
    keras.layers.Normalization,
    keras.layers.Resizing,
    keras.layers.CenterCrop,
    keras.layers.Concatenate,
    keras.layers.Reshape,
    keras.layers.Cropping2D,
    keras.layers.ZeroPadding2D,
    keras.layers.Identity,
)


def cache_features(model, data, batch_size=256):
    """Runs the frozen backbone of `model` once over `data` and returns the features.

    A frozen backbone gives the same features for an image every epoch, so training a head
    on top of it through the backbone recomputes them for nothing: on a conv backbone the
    backbone is nearly all the cost of an epoch. `kit.transfer.fine_tune` uses this for its
    head phase when nothing random comes before the backbone; call it yourself to train
    another head, or a scikit-learn model, on the features. The features are computed in
    inference mode (what a frozen `FeatureExtractor` always runs in) and held in memory:
    1280 floats (5 KB) per image for MobileNetV2, against 150 KB for a 224x224 RGB image.

    Only one pass is cached: when `data` augments its images at random, the cache holds
    one augmented copy of each, and training on it is training without augmentation.

    Args:
        model: A `keras.Model` with one `kit.transfer.FeatureExtractor` (e.g. from
            `kit.transfer.classifier`, whose input adapters run too), or a
            `FeatureExtractor` itself.
        data: A `tf.data.Dataset` of images, of `(images, labels)` or of `(images, labels,
            sample_weights)` (batched or not), an array of images, or a tuple `(images,
            labels)` / `(images, labels, sample_weights)` of arrays.
        batch_size: Positive int. Batch size for arrays and unbatched datasets. Defaults to
            `256`.

    Returns:
        The features as a numpy array `(num_images, ...)` for images alone; else the tuple
        `(features, labels)` or `(features, labels, sample_weights)` of numpy arrays, in
        the order of one pass over `data`.

    Example:

    ```python
    model = kit.transfer.classifier("path/to/saved_model", num_classes=5, input_shape=(32, 32, 1))
    features, labels = kit.transfer.cache_features(model, train)
    head = keras.Sequential([keras.Input(features.shape[1:]), keras.layers.Dense(5, "softmax")])
    head.compile("adam", "sparse_categorical_crossentropy")
    head.fit(tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(1000).batch(32))
    ```
    """
    batch_size = checks.check_int(_OWNER, "batch_size", batch_size, example=256)
    feature_model = feature_part(model, _OWNER)
    dataset = as_dataset(data, feature_model, int(batch_size), _OWNER)
    return compute_features(feature_model, dataset)


def feature_part(model, owner):
    """The callable that maps `model`'s inputs to its `FeatureExtractor`'s output."""
    if isinstance(model, FeatureExtractor):
        return model
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{owner}: `model` must be a keras.Model with a kit.transfer.FeatureExtractor, or "
            f"a FeatureExtractor. Received: model={model!r}. Build it with "
            "`kit.transfer.classifier(...)`."
        )
    split = split_at_extractor(model)
    if isinstance(split, str):
        raise ValueError(
            f"{owner}: `model` must feed its input through one kit.transfer.FeatureExtractor "
            f"to its output. Received: model {model.name!r}, where {split}. Build it with "
            "`kit.transfer.classifier(...)`, or pass the FeatureExtractor layer itself."
        )
    return split[0]


def split_at_extractor(model):
    """Splits a functional `model` at its one `FeatureExtractor`.

    Returns:
        `(feature_model, head_model)`, two functional models sharing `model`'s layers and
        weights (`head_model(feature_model(x))` equals `model(x)`), or a string saying why
        the model cannot be split there.
    """
    extractors = [layer for layer in keras_compat.flatten_layers(model) if isinstance(layer, FeatureExtractor)]
    if len(extractors) != 1:
        return f"there are {len(extractors)} FeatureExtractor layers"
    extractor = extractors[0]
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if not inputs or not outputs or extractor not in model.layers:
        return "the FeatureExtractor is not a layer of a functional model built on an Input"
    if keras_compat.num_calls(extractor) != 1:
        return f"the FeatureExtractor is called {keras_compat.num_calls(extractor)} times"
    features = extractor.output
    inputs = inputs[0] if len(inputs) == 1 else inputs
    outputs = outputs[0] if len(outputs) == 1 else outputs
    try:
        feature_model = keras.Model(inputs, features, name=f"{model.name}_features")
        head_model = keras.Model(features, outputs, name=f"{model.name}_head")
    except (ValueError, TypeError) as error:
        return f"the layers after the FeatureExtractor cannot be separated from it ({error})"
    return feature_model, head_model


def random_layers_before(feature_model):
    """Names of layers before the backbone that may differ between epochs (not in
    `DETERMINISTIC_LAYERS` nor a kit transform without `Random` in its name)."""
    found = []
    for layer in feature_model.layers:
        if isinstance(layer, FeatureExtractor) or isinstance(layer, DETERMINISTIC_LAYERS):
            continue
        module = type(layer).__module__
        kit_deterministic = module.startswith("keras_accuracy_kit.transforms") and not type(
            layer
        ).__name__.startswith(("Random", "Augment"))
        if not kit_deterministic:
            found.append(layer.name)
    return found


def as_dataset(data, feature_model, batch_size, owner):
    """`data` as a batched `tf.data.Dataset` (arrays and unbatched datasets are batched)."""
    if isinstance(data, tf.data.Dataset):
        images_spec = data.element_spec
        if isinstance(images_spec, tuple):
            images_spec = images_spec[0]
        if not isinstance(images_spec, tf.TensorSpec):
            raise ValueError(
                f"{owner}: `data` must hold images, (images, labels) or (images, labels, "
                f"sample_weights). Received: a dataset of {data.element_spec}. Map it to "
                "one of these structures first."
            )
        if images_spec.shape.rank == _input_rank(feature_model) - 1:
            data = data.batch(batch_size)
        return data
    if isinstance(data, (tuple, list)) and 1 < len(data) <= 3:
        arrays = tuple(np.asarray(part) for part in data)
    elif isinstance(data, (np.ndarray, tf.Tensor)):
        arrays = np.asarray(data)
    else:
        raise ValueError(
            f"{owner}: `data` must be a tf.data.Dataset, an array of images or a tuple "
            f"(images, labels[, sample_weights]) of arrays. Received: data of type "
            f"{type(data).__name__}. Wrap it with `tf.data.Dataset.from_tensor_slices`."
        )
    return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size)


def _input_rank(feature_model):
    if isinstance(feature_model, keras.Model):
        return len(feature_model.inputs[0].shape)
    shape = feature_model.expected_input_shape
    return 1 + (len(shape) if shape is not None else 3)


def compute_features(feature_model, dataset, batch_sizes=None):
    """One pass of `feature_model` in inference mode over a batched `dataset`.

    `batch_sizes`, a list, receives the size of every batch.
    """

    parts = None
    for element in dataset:
        element = element if isinstance(element, tuple) else (element,)
        if batch_sizes is not None:
            batch_sizes.append(int(element[0].shape[0]))
        values = (_features_of_batch(feature_model, element[0]),) + tuple(
            np.asarray(part) for part in element[1:]
        )
        if parts is None:
            parts = tuple([] for _ in values)
        for collected, value in zip(parts, values):
            collected.append(value)
    if parts is None:
        raise ValueError(
            f"{_OWNER}: `data` must hold at least one image. Received: an empty dataset. "
            "Check the data pipeline (a `take`, `filter` or `skip` that removes everything?)."
        )
    arrays = tuple(np.concatenate(collected) for collected in parts)
    return arrays[0] if len(arrays) == 1 else arrays


def _features_of_batch(feature_model, images):
    if isinstance(feature_model, keras.Model):
        # Keras' compiled predict step (traced once per model and input shape).
        return np.asarray(feature_model.predict_on_batch(images))
    # A FeatureExtractor alone: its SavedModel functions are graphs already.
    return keras.ops.convert_to_numpy(feature_model(images, training=False))
