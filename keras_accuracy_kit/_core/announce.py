"""One line of progress, printed the way Keras' own callbacks print theirs."""

from keras_accuracy_kit._core import keras_compat


def announce(message, logger_name=__name__):
    """Prints `message` like Keras' callbacks (honouring its interactive-logging switch).

    Falls back to `logging` (logger `logger_name`, level INFO) if Keras moves its helper
    (`keras_compat.print_message`).
    """
    keras_compat.print_message(message, logger_name)
