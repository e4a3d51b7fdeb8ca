"""Constants shared with the writer, `keras_accuracy_kit.reporting.summary_schema`.

The plugin must not import the kit (nor TensorFlow), so these are copies;
`tests/plugin/test_contract.py` checks that the two copies are equal.
"""

PLUGIN_NAME = "accuracy_kit"
SCHEMA_VERSION = 1
SUMMARY_TAG = "accuracy_kit/summary"
WORST_IMAGES_TAG = "accuracy_kit/worst_predictions"

KEY_SCHEMA_VERSION = "schema_version"
KEY_CHANGE = "change"
KEY_ORDER = "order"
KEY_START_TIME = "start_time"
KEY_WALL_TIME = "wall_time"
KEY_MONITOR = "monitor"
KEY_MODE = "mode"
KEY_BEST = "best"
KEY_BEST_EPOCH = "best_epoch"
KEY_EPOCHS = "epochs"
KEY_VERSION = "version"
KEY_PARENT_VERSION = "parent_version"
KEY_CHANGES = "changes"
KEY_DELTA_VS_PARENT = "delta_vs_parent"
KEY_CLASS_NAMES = "class_names"
KEY_CONFUSION_MATRIX = "confusion_matrix"
KEY_PER_CLASS_ACCURACY = "per_class_accuracy"
KEY_WORST = "worst"
KEY_HPARAMS = "hparams"
KEY_DECISION = "decision"
KEY_TRUE = "true"
KEY_PREDICTED = "predicted"
KEY_TRUE_PROBABILITY = "true_probability"
KEY_PREDICTED_PROBABILITY = "predicted_probability"
KEY_KEPT = "kept"
KEY_VALUE = "value"
KEY_GAIN = "gain"
KEY_LOW = "low"
KEY_HIGH = "high"
KEY_RULE = "rule"
KEY_NOTE = "note"

SUMMARY_KEYS = (
    KEY_SCHEMA_VERSION,
    KEY_CHANGE,
    KEY_ORDER,
    KEY_START_TIME,
    KEY_WALL_TIME,
    KEY_MONITOR,
    KEY_MODE,
    KEY_BEST,
    KEY_BEST_EPOCH,
    KEY_EPOCHS,
    KEY_VERSION,
    KEY_PARENT_VERSION,
    KEY_CHANGES,
    KEY_DELTA_VS_PARENT,
    KEY_CLASS_NAMES,
    KEY_CONFUSION_MATRIX,
    KEY_PER_CLASS_ACCURACY,
    KEY_WORST,
    KEY_HPARAMS,
    KEY_DECISION,
)
WORST_KEYS = (KEY_TRUE, KEY_PREDICTED, KEY_TRUE_PROBABILITY, KEY_PREDICTED_PROBABILITY)
DECISION_KEYS = (KEY_KEPT, KEY_VALUE, KEY_GAIN, KEY_LOW, KEY_HIGH, KEY_RULE, KEY_NOTE)
