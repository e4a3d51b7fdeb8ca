"""The registry of the kit's transforms: one decorator registers a class with Keras
serialization and with the kit, so that one test can round-trip every transform."""

import keras

_TRANSFORMS = {}


def register_transform(cls):
    """Class decorator: registers `cls` with Keras serialization and the kit's registry.

    Args:
        cls: An `ImageTransform` subclass.

    Returns:
        `cls`, unchanged.
    """
    keras.saving.register_keras_serializable(package="keras_accuracy_kit")(cls)
    _TRANSFORMS[cls.__name__] = cls
    return cls


def registered_transforms():
    """Returns a dict of every registered transform class, by class name.

    Example:

    >>> import keras_accuracy_kit as kit
    >>> "ToLab" in kit.transforms.registered_transforms()
    True
    """
    return dict(_TRANSFORMS)
