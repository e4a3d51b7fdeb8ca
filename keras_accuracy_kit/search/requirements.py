"""The `tuner` extra: keras-tuner, imported only when `kit.search` is used."""

import importlib

INSTALL_HINT = 'pip install "keras-accuracy-kit[tuner]"'


def import_keras_tuner():
    """Returns the `keras_tuner` module, or raises an ImportError that says how to get it.

    Returns:
        The `keras_tuner` module.
    """
    try:
        return importlib.import_module("keras_tuner")
    except ImportError as error:
        raise ImportError(
            "kit.search: `keras_tuner` must be installed to search depth and image size. "
            f"Received: ImportError({error}). Install the tuner extra: {INSTALL_HINT}"
        ) from error
