"""keras-accuracy-kit: the well-known accuracy tricks as drop-in parts for Keras 3.

Use it as::

    import keras_accuracy_kit as kit

    train = train.map(kit.resize(224, 224, mode="pad")).map(kit.to_lab(output_range="unit"))

The lower-case names (`kit.resize`, `kit.to_lab`, ...) are the transform classes
themselves (`kit.transforms.Resize`, `kit.transforms.ToLab`, ...), spelled as the verbs
they read like in a pipeline.
"""

from keras_accuracy_kit import (
    callbacks,
    generative,
    history,
    ladder,
    reporting,
    transfer,
    transforms,
)
from keras_accuracy_kit.callbacks import find_lr
from keras_accuracy_kit.history import History
from keras_accuracy_kit.ladder import improve, tta
from keras_accuracy_kit.reporting import Interpretation, interpret, show_batch
from keras_accuracy_kit.transforms import (
    Augment,
    Resize,
    ToGrayscale,
    ToHSV,
    ToLab,
    ToYUV,
    check_invariance,
)

__version__ = "0.1.0.dev0"

# `kit.callbacks` lists every callback of the kit, but `callbacks/` may not import the two
# owned by the packages above it (imports flow one way, see `tests/test_layering.py`): the
# facade places them. Importing any module of the kit runs this file first.
callbacks.CheckpointOnChange = history.CheckpointOnChange
callbacks.AccuracyReport = reporting.AccuracyReport


def __getattr__(name):
    # `kit.search` needs the `tuner` extra (keras-tuner): imported on first use, so that
    # `import keras_accuracy_kit` works without it.
    if name == "search":
        import importlib

        return importlib.import_module("keras_accuracy_kit.search")
    raise AttributeError(f"module 'keras_accuracy_kit' has no attribute {name!r}")


#: `kit.augment(rotation_range=..., width_shift_range=..., ...)`: see `transforms.Augment`.
augment = Augment
#: `kit.resize(height, width, mode="pad"|"crop"|"stretch", ...)`: see `transforms.Resize`.
resize = Resize
#: `kit.to_grayscale(keep_channels=1|3, ...)`: see `transforms.ToGrayscale`.
to_grayscale = ToGrayscale
#: `kit.to_hsv(...)`: see `transforms.ToHSV`.
to_hsv = ToHSV
#: `kit.to_lab(...)`: see `transforms.ToLab`.
to_lab = ToLab
#: `kit.to_yuv(...)`: see `transforms.ToYUV`.
to_yuv = ToYUV

__all__ = [
    "History",
    "Interpretation",
    "__version__",
    "augment",
    "callbacks",
    "check_invariance",
    "find_lr",
    "generative",
    "history",
    "improve",
    "interpret",
    "ladder",
    "resize",
    "search",
    "show_batch",
    "to_grayscale",
    "to_hsv",
    "to_lab",
    "to_yuv",
    "transfer",
    "transforms",
    "tta",
]
