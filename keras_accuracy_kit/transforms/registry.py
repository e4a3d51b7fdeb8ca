"""The registry of the kit's transforms: one decorator registers a class with Keras
serialization and with the kit, so that one test can round-trip every transform."""

import keras

_TRANSFORMS = {}
_LABEL_MIXING = {}


def register_transform(cls):
    """Class decorator: registers `cls` with Keras serialization and the kit's registry.

    Args:
        cls: An `ImageTransform` subclass (a layer), or a transform that mixes images and
            labels (`MixingTransform`: `label_mixing = True`, not a layer).

    Returns:
        `cls`, unchanged.
    """
    keras.saving.register_keras_serializable(package="keras_accuracy_kit")(cls)
    registry = _LABEL_MIXING if getattr(cls, "label_mixing", False) else _TRANSFORMS
    registry[cls.__name__] = cls
    return cls


def registered_transforms(label_mixing=False):
    """Returns a dict of every registered transform class, by class name.

    Args:
        label_mixing: Bool. False: the image transforms (Keras layers, which map images
            and sit in a model). True: the transforms that mix images AND labels within a
            batch (`MixUp`, `CutMix`), which take `(images, labels)` batches. Defaults to
            `False`.

    Example:

    >>> import keras_accuracy_kit as kit
    >>> "ToLab" in kit.transforms.registered_transforms()
    True
    >>> sorted(kit.transforms.registered_transforms(label_mixing=True))
    ['CutMix', 'MixUp']
    """
    return dict(_LABEL_MIXING if label_mixing else _TRANSFORMS)
