"""What the kit writes for the "Accuracy Kit" TensorBoard plugin: plugin name, tags, JSON keys.

The plugin (`plugins/tensorboard_plugin_accuracy_kit`) is its own distribution and never
imports the kit, so it keeps a copy of these constants in its `metadata.py`;
`tests/plugin/test_contract.py` pins the two copies together. Change both, and bump
`SCHEMA_VERSION` when a key changes meaning.
"""

#: `SummaryMetadata.plugin_data.plugin_name` of the kit's own summaries.
PLUGIN_NAME = "accuracy_kit"
#: Version of the JSON below; the plugin reads summaries up to its own version.
SCHEMA_VERSION = 1
#: A scalar string tensor holding the run's JSON summary (keys below), written at train end.
SUMMARY_TAG = "accuracy_kit/summary"
#: A blob sequence of PNGs: the worst-predicted validation images, in `WORST` order.
WORST_IMAGES_TAG = "accuracy_kit/worst_predictions"

#: Top-level keys of the JSON summary.
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
#: The ladder's decision on the run (`AccuracyReport.record_decision`): an object with
#: the keys below, `kept` null while it is pending; null for a run outside a ladder.
KEY_DECISION = "decision"
#: Keys of each item of `worst`: class indices and the predicted probabilities.
KEY_TRUE = "true"
KEY_PREDICTED = "predicted"
KEY_TRUE_PROBABILITY = "true_probability"
KEY_PREDICTED_PROBABILITY = "predicted_probability"
#: Keys of `decision`: kept, the judged value, the gain over the best so far and its 95 %
#: interval, the rule with its evidence (p-value, threshold), a note.
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
