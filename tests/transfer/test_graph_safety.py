"""find_unsafe_ops on hand-built SavedModel protos (the walk) and on real tiny SavedModels."""

import os

import pytest
import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2, function_pb2
from tensorflow.core.protobuf import saved_model_pb2

from keras_accuracy_kit.transfer.graph_safety import (
    UnsafeOp,
    describe_unsafe_ops,
    find_unsafe_ops,
    saved_model_unsafe_ops,
)
from tests.transfer import savedmodels

# Hand-built graphs -------------------------------------------------------------------------


def _function(name, *nodes):
    """A FunctionDef named `name`; nodes are `(op, {attr: function name or [names]})`."""
    function = function_pb2.FunctionDef()
    function.signature.name = name
    for index, (op, attrs) in enumerate(nodes):
        node = function.node_def.add(name=f"n{index}", op=op)
        for key, value in attrs.items():
            if isinstance(value, list):
                node.attr[key].list.func.extend(attr_value_pb2.NameAttrList(name=v) for v in value)
            else:
                node.attr[key].func.name = value
    return function


def _saved_model(functions, objects=(), registered_gradients=(), gradients=()):
    """A TF2 SavedModel proto: `objects` are `(path, function name)` children of the root."""
    saved_model = saved_model_pb2.SavedModel()
    meta_graph = saved_model.meta_graphs.add()
    library = meta_graph.graph_def.library
    library.function.extend(functions)
    graph = meta_graph.object_graph_def
    root = graph.nodes.add()
    root.user_object.identifier = "_generic_user_object"
    for path, name in objects:
        root.children.add(node_id=len(graph.nodes), local_name=path)
        graph.nodes.add().bare_concrete_function.concrete_function_name = name
    for name, op_type in registered_gradients:
        library.registered_gradients.add(gradient_func=name, registered_op_type=op_type)
    for function_name, gradient_name in gradients:
        library.gradient.add(function_name=function_name, gradient_func=gradient_name)
    return saved_model


def _ops(unsafe):
    return {item.op: (item.functions, item.entry_points) for item in unsafe}


def test_a_safe_graph_has_no_finding():
    saved_model = _saved_model(
        [_function("call", ("MatMul", {}), ("Relu", {}), ("ReadVariableOp", {}))],
        objects=[("__call__", "call")],
    )
    assert find_unsafe_ops(saved_model) == []


@pytest.mark.parametrize(
    "caller",
    [
        ("StatefulPartitionedCall", {"f": "inner"}),
        ("PartitionedCall", {"f": "inner"}),
        ("If", {"then_branch": "safe", "else_branch": "inner"}),
        ("StatelessWhile", {"cond": "safe", "body": "inner"}),
        ("Case", {"branches": ["safe", "inner"]}),
        ("inner", {}),  # a node whose op is a library function: a direct call
    ],
    ids=["stateful_call", "call", "if", "while", "case", "direct"],
)
def test_ops_are_found_through_every_kind_of_call(caller):
    saved_model = _saved_model(
        [
            _function("call", ("MatMul", {}), caller),
            _function("inner", ("Identity", {}), ("WriteFile", {})),
            _function("safe", ("Identity", {})),
        ],
        objects=[("__call__", "call")],
    )
    assert _ops(find_unsafe_ops(saved_model)) == {"WriteFile": (("inner",), ("__call__",))}


def test_nested_function_attributes_are_followed():
    function = _function("call", ("MapDataset", {}))
    node = function.node_def[0]
    node.attr["f"].func.name = "outer"
    node.attr["f"].func.attr["inner_fn"].func.name = "deep"  # an attr of the function attr
    saved_model = _saved_model(
        [function, _function("outer", ("Identity", {})), _function("deep", ("ReadFile", {}))],
        objects=[("serve", "call")],
    )
    found = _ops(find_unsafe_ops(saved_model))
    assert found == {
        "MapDataset": (("call",), ("serve",)),
        "ReadFile": (("deep",), ("serve",)),
    }


def test_a_function_attribute_naming_an_op_is_that_op():
    # SymbolicGradient instantiates `f`: naming an op there runs the op.
    saved_model = _saved_model(
        [_function("call", ("SymbolicGradient", {"f": "WriteFile"}))],
        objects=[("__call__", "call")],
    )
    assert sorted(_ops(find_unsafe_ops(saved_model))) == ["WriteFile"]
    safe = _saved_model(
        [_function("call", ("SymbolicGradient", {"f": "MatMul"}))],
        objects=[("__call__", "call")],
    )
    assert find_unsafe_ops(safe) == []


def test_unknown_ops_and_missing_functions_are_custom_ops():
    saved_model = _saved_model(
        [_function("call", ("MyCustomOp", {}), ("PartitionedCall", {"f": "not_in_library"}))],
        objects=[("__call__", "call")],
    )
    unsafe = find_unsafe_ops(saved_model)
    assert [item.op for item in unsafe] == ["MyCustomOp", "not_in_library"]
    assert {item.reason for item in unsafe} == {"not an op this TensorFlow knows: a custom op"}


def test_functions_nothing_runs_are_not_checked():
    # `_traced_restore` (RestoreV2) is in every library; only the TF1 main graph calls it.
    saved_model = _saved_model(
        [
            _function("call", ("MatMul", {})),
            _function("__inference__traced_restore_9", ("RestoreV2", {}), ("WriteFile", {})),
        ],
        objects=[("__call__", "call")],
    )
    assert find_unsafe_ops(saved_model) == []


def test_gradient_functions_are_entry_points():
    saved_model = _saved_model(
        [
            _function("call", ("MatMul", {})),
            _function("custom_gradient", ("PrintV2", {})),
            _function("function_gradient", ("EagerPyFunc", {})),
        ],
        objects=[("__call__", "call")],
        registered_gradients=[("custom_gradient", "CustomGradient-7")],
        gradients=[("call", "function_gradient")],
    )
    assert _ops(find_unsafe_ops(saved_model)) == {
        "EagerPyFunc": (("function_gradient",), ("gradient of call",)),
        "PrintV2": (("custom_gradient",), ("gradient of CustomGradient-7",)),
    }


def test_every_function_the_loader_restores_is_an_entry_point():
    # Listed in the object graph's `concrete_functions` only (no object node names it).
    saved_model = _saved_model(
        [_function("call", ("MatMul", {})), _function("loose", ("MatchingFiles", {}))],
        objects=[("__call__", "call")],
    )
    saved_model.meta_graphs[0].object_graph_def.concrete_functions["loose"].SetInParent()
    assert _ops(find_unsafe_ops(saved_model)) == {"MatchingFiles": (("loose",), ("loose",))}


def test_the_function_of_a_captured_tensor_is_an_entry_point():
    saved_model = _saved_model(
        [_function("call", ("MatMul", {})), _function("producer", ("ReadFile", {}))],
        objects=[("__call__", "call")],
    )
    graph = saved_model.meta_graphs[0].object_graph_def
    graph.nodes[0].children.add(node_id=len(graph.nodes), local_name="constant")
    graph.nodes.add().captured_tensor.concrete_function = "producer"
    assert _ops(find_unsafe_ops(saved_model)) == {"ReadFile": (("producer",), ("constant",))}


def test_every_place_and_entry_point_is_listed_once():
    saved_model = _saved_model(
        [
            _function("call", ("WriteFile", {}), ("PartitionedCall", {"f": "helper"})),
            _function("signature", ("PartitionedCall", {"f": "call"})),
            _function("helper", ("WriteFile", {})),
        ],
        objects=[("__call__", "call"), ("serving_default", "signature")],
    )
    (item,) = find_unsafe_ops(saved_model)
    assert item == UnsafeOp(
        op="WriteFile",
        reason="reads or writes files",
        functions=("call", "helper"),
        entry_points=("__call__", "serving_default"),
    )
    assert str(item) == (
        "WriteFile (reads or writes files): in call, helper, reached from __call__, "
        "serving_default"
    )


def test_a_long_list_is_shortened_in_words():
    functions = [_function(f"f{index}", ("ReadFile", {})) for index in range(5)]
    saved_model = _saved_model(functions, objects=[(f"f{i}", f"f{i}") for i in range(5)])
    (item,) = find_unsafe_ops(saved_model)
    assert len(item.functions) == 5
    assert "in f0, f1, f2 and 2 more, reached from f0, f1, f2 and 2 more" in str(item)
    two = _saved_model(
        [_function("a", ("ReadFile", {}), ("WriteFile", {}))], objects=[("__call__", "a")]
    )
    assert describe_unsafe_ops(find_unsafe_ops(two)).count("; ") == 1


def test_a_tf1_savedmodel_checks_its_main_graph():
    saved_model = saved_model_pb2.SavedModel()
    meta_graph = saved_model.meta_graphs.add()  # no object graph: the TF1 loader
    meta_graph.graph_def.node.add(name="restore", op="RestoreV2")
    meta_graph.graph_def.node.add(name="call", op="PartitionedCall").attr["f"].func.name = "f"
    meta_graph.graph_def.library.function.extend([_function("f", ("PyFunc", {}))])
    found = _ops(find_unsafe_ops(saved_model))
    main = ("the main graph (the TF1 loader runs its restore and init ops)",)
    assert found == {"RestoreV2": (("the main graph",), main), "PyFunc": (("f",), main)}


# Real SavedModels --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "save",
    [
        savedmodels.save_hub_style,
        savedmodels.save_plain_module,
        lambda path: savedmodels.save_plain_module(path, with_call=False),
        savedmodels.save_keras_export,
    ],
    ids=["hub_style", "module_call", "module_signature", "keras_export"],
)
def test_the_test_savedmodels_are_safe(tmp_path, save):
    directory = save(tmp_path / "model")
    saved_model = tf.__internal__.saved_model.parse_saved_model(directory)
    library_ops = {
        node.op
        for function in saved_model.meta_graphs[0].graph_def.library.function
        for node in function.node_def
    }
    assert "RestoreV2" in library_ops  # the restore function is there, and not checked
    assert saved_model_unsafe_ops(directory) == []


def test_a_tf_module_writing_a_file_inside_a_cond_is_found(tmp_path):
    target = str(tmp_path / "written.txt")

    class Writer(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.ones([savedmodels.INPUT_DIM, 2]))

        @tf.function(input_signature=[tf.TensorSpec([None, savedmodels.INPUT_DIM])])
        def __call__(self, inputs):
            def write():
                tf.io.write_file(target, "x")
                return tf.constant(0.0)

            extra = tf.cond(tf.reduce_sum(inputs) > 0, write, lambda: tf.constant(0.0))
            return inputs @ self.kernel + extra

    tf.saved_model.save(Writer(), str(tmp_path / "writer"))
    (item,) = saved_model_unsafe_ops(str(tmp_path / "writer"))
    assert item.op == "WriteFile" and item.functions[0].startswith("cond_true")
    assert item.entry_points == ("__call__", "signatures.serving_default")
    assert not os.path.exists(target)  # nothing ran


def test_a_resource_initialiser_the_loader_runs_is_checked(tmp_path):
    # `tf.saved_model.load` itself runs a resource's `_initialize`: it must be an entry.
    class Table(tf.Module):
        def __init__(self, path):
            super().__init__()
            initializer = tf.lookup.TextFileInitializer(
                path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
            )  # fmt: skip
            self.table = tf.lookup.StaticHashTable(initializer, -1)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, keys):
            return self.table.lookup(keys)

    vocabulary = tmp_path / "vocabulary.txt"
    vocabulary.write_text("a\nb\n")
    tf.saved_model.save(Table(str(vocabulary)), str(tmp_path / "table"))
    (item,) = saved_model_unsafe_ops(str(tmp_path / "table"))
    assert item.op == "InitializeTableFromTextFileV2"
    assert any(point.endswith("_initialize") for point in item.entry_points), item


def test_a_real_tf1_savedmodel_is_refused_for_its_restore_ops(tmp_path):
    with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, [None, savedmodels.INPUT_DIM])
        kernel = tf.compat.v1.get_variable("kernel", [savedmodels.INPUT_DIM, 2])
        outputs = tf.matmul(inputs, kernel)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            builder = tf.compat.v1.saved_model.Builder(str(tmp_path / "tf1"))
            signature = tf.compat.v1.saved_model.predict_signature_def(
                {"inputs": inputs}, {"outputs": outputs}
            )
            builder.add_meta_graph_and_variables(
                session, ["serve"], signature_def_map={"serving_default": signature}
            )
            builder.save()
    unsafe = {item.op: item for item in saved_model_unsafe_ops(str(tmp_path / "tf1"))}
    assert {"RestoreV2", "SaveV2"} <= set(unsafe)
    assert unsafe["RestoreV2"].functions == ("the main graph",)
