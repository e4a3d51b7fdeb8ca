"""The base of every kit transform: one object that works in `dataset.map` and in a model."""

import keras
import tensorflow as tf

from keras_accuracy_kit._core import checks, elements


class ImageTransform(keras.layers.Layer):
    """Base class of the kit's image transforms.

    A transform is a Keras layer (so it can sit inside a model, be saved in a `.keras` file
    and be rebuilt from `get_config()`) that can also be mapped over a `tf.data` pipeline
    directly. It accepts every element layout a Keras user has:

    - bare images: `dataset.map(t)`;
    - `(image, label)` pairs (and longer tuples): the first item is transformed, the rest
      passes through;
    - dicts with an `"images"` key (the Keras preprocessing convention): that entry is
      transformed, the other keys pass through.

    A Python list is read as images, as `np.array` would read it: `t([image0, image1])`
    transforms both.

    Images are single `(H, W, C)` or batched `(N, H, W, C)`. uint8 (and uint16) images are
    scaled to [0, 1] by their full scale; float images are mapped from `value_range` to
    [0, 1]. Outputs are float32 (float64 stays float64). Bad input raises a `ValueError`
    when the pipeline or model is built, not mid-training. Float pixels that are NaN, inf
    or outside `value_range` by more than its width (images in [0, 255] under the default
    `(0, 1)`, as `keras.utils.image_dataset_from_directory` yields them) fail on the first
    batch with the fix, never silently (`checks.check_image_values`).

    Subclasses implement `transform_images(images)` on float images in [0, 1] and
    `compute_output_shape(input_shape)`, and may override `check_input_shape(shape)`.

    Args:
        value_range: Pair of floats. The range of float inputs, mapped to [0, 1].
            Ignored for integer inputs. Defaults to `(0.0, 1.0)`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(self, value_range=(0.0, 1.0), **kwargs):
        super().__init__(**kwargs)
        self.value_range = checks.check_value_range(type(self).__name__, value_range)
        self.trainable = False
        # Images may be uint8; Keras must not cast them to the layer's float dtype.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True

    # -- element handling ------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if "inputs" in kwargs:
            args = (kwargs.pop("inputs"),) + args
        if any(isinstance(arg, keras.KerasTensor) for arg in keras.tree.flatten(args)):
            # Building a model: Keras computes the output spec via compute_output_spec.
            return super().__call__(*args, **kwargs)
        # Data pipelines and model execution: plain TensorFlow, no Keras bookkeeping.
        # `training` and other call-context arguments do not change a deterministic
        # transform.
        return self.apply_to_element(*args)

    def apply_to_element(self, *element):
        """Transforms the images in one dataset element, passing everything else through.

        Args:
            *element: What `dataset.map` passes: one tensor, one dict or tuple, or the
                unpacked items of a tuple element.

        Returns:
            The element with the same structure, images transformed.
        """
        if not element:
            raise ValueError(
                f"{self._owner}: `element` must hold images. Received: no arguments. "
                "Call the transform on images, `(images, labels)` or "
                '`{"images": ..., "labels": ...}`.'
            )
        if len(element) == 1:
            element = element[0]
        return self.map_images(element, self.call)

    def map_images(self, element, function):
        """Applies `function` to the images of one element, passing everything else through.

        Args:
            element: One tensor, one dict with an `"images"` key, or a tuple whose first
                item is the images. A list is images (a batch, as `np.array` reads it),
                not an `(image, label)` pair: `dataset.map` passes tuples.
            function: Callable. Takes and returns images.

        Returns:
            The element with the same structure, images replaced by `function(images)`.
        """
        return elements.map_images(element, function, self._owner)

    def call(self, inputs):
        images = checks.as_image_tensor(self._owner, inputs)
        self.check_input_shape(images.shape)
        images = checks.check_image_values(self._owner, images, self.value_range)
        return self.transform_images(checks.to_unit_float(images, self.value_range))

    # -- what subclasses provide -----------------------------------------------------

    def transform_images(self, images):
        """Transforms float images in [0, 1] of shape `(H, W, C)` or `(N, H, W, C)`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `transform_images(images)`."
        )

    def check_input_shape(self, shape):
        """Raises a ValueError if images of static `shape` cannot be transformed."""

    # -- Keras plumbing --------------------------------------------------------------

    @property
    def _owner(self):
        return type(self).__name__

    def compute_output_spec(self, inputs, **kwargs):
        if not isinstance(inputs, keras.KerasTensor):
            raise ValueError(
                f"{self._owner}: in a model, the transform takes one image tensor. "
                f"Received: inputs={inputs!r}. Map it over the dataset instead to "
                "transform `(image, label)` pairs or dicts."
            )
        checks.check_image_shape(self._owner, inputs.shape)
        checks.check_image_dtype(self._owner, inputs.dtype)
        self.check_input_shape(tf.TensorShape(inputs.shape))
        dtype = checks.output_float_dtype(inputs.dtype).name
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": list(self.value_range)})
        return config
