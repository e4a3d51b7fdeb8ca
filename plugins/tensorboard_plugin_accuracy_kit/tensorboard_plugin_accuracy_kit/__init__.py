"""The "Accuracy Kit" TensorBoard tab: the ladder of tricks a user tried, in order.

A separate distribution from keras-accuracy-kit: it needs TensorBoard only (no TensorFlow,
no kit), and reads what `kit.callbacks.AccuracyReport` writes.
"""

__version__ = "0.1.0.dev0"
