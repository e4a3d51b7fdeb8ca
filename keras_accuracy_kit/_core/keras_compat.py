"""Every touch of a Keras or keras-tuner private, in one place.

The kit uses public APIs wherever they exist. Where it cannot (the `training` flag of the
enclosing Keras call, Keras' progress printer), the private access lives here, behind a
function that falls back to a safe answer when a new Keras release moves the private.
"""

import logging


def call_context_training():
    """`training` of the enclosing Keras call (e.g. a model called with `training=False`).

    Returns None when there is no enclosing call, or when this Keras has no such private.
    """
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # a Keras without this private module: treat as unknown
        return None
    context = global_state.get_global_attribute("current_call_ctx")
    return getattr(context, "training", None)


def print_message(message, logger_name=__name__):
    """Prints `message` like Keras' callbacks (honouring its interactive-logging switch).

    Falls back to `logging` (logger `logger_name`, level INFO) if Keras moves its helper.
    """
    try:
        from keras.src.utils.io_utils import print_msg
    except ImportError:  # Keras moved it: fall back to logging.
        logging.getLogger(logger_name).info(message)
        return
    print_msg(message)
