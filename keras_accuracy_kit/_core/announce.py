"""One line of progress, printed the way Keras' own callbacks print theirs."""

import logging


def announce(message, logger_name=__name__):
    """Prints `message` like Keras' callbacks (honouring its interactive-logging switch).

    Falls back to `logging` (logger `logger_name`, level INFO) if Keras moves its helper.
    """
    try:
        from keras.src.utils.io_utils import print_msg
    except ImportError:  # Keras moved it: fall back to logging.
        logging.getLogger(logger_name).info(message)
        return
    print_msg(message)
