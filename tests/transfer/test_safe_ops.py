"""The safe-mode op allowlist: derived from TensorFlow's op modules, minus what reaches outside."""

import importlib

import pytest
import tensorflow as tf
from tensorflow.python.framework import op_def_registry

from keras_accuracy_kit.transfer import safe_ops
from keras_accuracy_kit.transfer.safe_ops import SAFE_OPS, refusal_reason


def _module_ops(module):
    """The `tf.raw_ops` names TensorFlow's `gen_<module>.py` defines (the reference)."""
    generated = importlib.import_module(f"tensorflow.python.ops.gen_{module}")
    return {
        name
        for name in dir(generated)
        if name[:1].isupper() and getattr(generated, name) is getattr(tf.raw_ops, name, None)
    }


def test_every_allowed_op_is_registered_and_in_a_module_of_its_category():
    for category, names in safe_ops.SAFE_OP_CATEGORIES.items():
        modules = safe_ops.CATEGORY_MODULES[category]
        available = set().union(*(_module_ops(module) for module in modules))
        assert names <= available, (category, sorted(names - available))
        assert all(op_def_registry.get(name) is not None for name in names), category


def test_whole_modules_are_taken_whole_except_the_ops_left_out_with_a_reason():
    for category, modules in safe_ops.CATEGORY_MODULES.items():
        for module in modules:
            if module in safe_ops.PARTIAL_MODULES:
                continue
            missing = _module_ops(module) - safe_ops.SAFE_OP_CATEGORIES[category]
            assert missing <= set(safe_ops.LEFT_OUT), (module, sorted(missing))
    assert not set(safe_ops.LEFT_OUT) & SAFE_OPS


def test_partial_modules_take_only_what_they_say():
    assert _module_ops("logging_ops") & SAFE_OPS == {"Assert"}
    data_flow = _module_ops("data_flow_ops")
    tensor_arrays = {name for name in data_flow if name.startswith("TensorArray")}
    stitches = {"DynamicPartition", "DynamicStitch", "ParallelDynamicStitch"}
    assert data_flow & SAFE_OPS == tensor_arrays | stitches
    lookup = _module_ops("lookup_ops")
    assert lookup & SAFE_OPS == {
        name
        for name in lookup
        if (name.endswith("V2") or name.startswith("Anonymous")) and name not in safe_ops.LEFT_OUT
    }
    assert "HashTableV2" in SAFE_OPS and "HashTable" not in SAFE_OPS


# Modules of TensorFlow ops that reach files, Python, other processes or the process itself:
# none of their ops may be allowed (an independent reference: TensorFlow's own grouping).
REFUSED_MODULES = [
    "io_ops",
    "filesystem_ops",
    "script_ops",
    "dataset_ops",
    "experimental_dataset_ops",
    "summary_ops",
    "debug_ops",
    "collective_ops",
    "nccl_ops",
    "sendrecv_ops",
    "checkpoint_ops",
    "batch_ops",
    "state_ops",
    "training_ops",
    "tpu_ops",
    "decode_proto_ops",
    "encode_proto_ops",
]


@pytest.mark.parametrize("module", REFUSED_MODULES)
def test_no_op_of_a_module_that_reaches_outside_the_tensors_is_allowed(module):
    assert not _module_ops(module) & SAFE_OPS


@pytest.mark.parametrize(
    "op, reason",
    [
        ("WriteFile", "reads or writes files"),
        ("ReadFile", "reads or writes files"),
        ("MatchingFiles", "reads or writes files"),
        ("SaveV2", "reads or writes files"),
        ("RestoreV2", "reads or writes files"),
        ("MergeV2Checkpoints", "reads or writes files"),
        ("TextLineReaderV2", "reads or writes files"),
        ("ImmutableConst", "reads or writes files"),
        ("InitializeTableFromTextFileV2", "reads or writes files"),
        ("PyFunc", "runs Python code"),
        ("PyFuncStateless", "runs Python code"),
        ("EagerPyFunc", "runs Python code"),
        ("TextLineDataset", "a tf.data pipeline, whose sources read files"),
        ("TFRecordDataset", "a tf.data pipeline, whose sources read files"),
        ("MapDataset", "a tf.data pipeline, whose sources read files"),
        ("IteratorGetNext", "a tf.data pipeline, whose sources read files"),
        ("PrintV2", "prints, and PrintV2 can write to any file"),
        ("Print", "prints, and PrintV2 can write to any file"),
        ("WriteScalarSummary", "writes summaries or debug data to files or the network"),
        ("DebugIdentityV2", "writes summaries or debug data to files or the network"),
        ("RemoteCall", "reaches other processes or ends this one"),
        ("CollectiveReduceV2", "reaches other processes or ends this one"),
        ("Abort", "reaches other processes or ends this one"),
        ("VariableV2", "outside the tensor-only allowlist"),
        ("Conv2D", None),
        ("StatefulPartitionedCall", None),
        ("ReadVariableOp", None),
    ],
)
def test_refusal_reasons_by_op(op, reason):
    assert op_def_registry.get(op) is not None
    assert refusal_reason(op) == reason


def test_an_unregistered_op_is_a_custom_op():
    assert op_def_registry.get("NotARealTensorFlowOp") is None
    assert refusal_reason("NotARealTensorFlowOp", registered=False) == (
        "not an op this TensorFlow knows: a custom op"
    )
    # An allowed name is allowed whatever the registry says.
    assert refusal_reason("MatMul", registered=False) is None
