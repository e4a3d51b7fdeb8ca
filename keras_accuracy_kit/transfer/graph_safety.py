"""find_unsafe_ops: the ops outside `SAFE_OPS` a SavedModel would run, and where they are.

A SavedModel is a set of TensorFlow graphs that `tf.saved_model.load` restores and the
caller then runs. This module reads its `saved_model.pb` as the loader does
(`tf.__internal__.saved_model.parse_saved_model`) and walks, without running anything:

- for a TF2 SavedModel (one MetaGraph with an object graph), every function the loader
  restores: the object graph's functions (`__call__`, `serve`, the signatures, resource
  initialisers, which the loader itself runs) and the gradient functions registered in
  the file, then every function they call, transitively: through function-call ops
  (`PartitionedCall`, `StatefulPartitionedCall`), the function attributes of any op
  (`If`/`While` branches and bodies, `tf.data` map functions, ...), nested ones included,
  and ops named after a library function. The checkpoint save / restore functions that
  `tf.saved_model.save` adds for TF1 tools (`SaveV2`, `RestoreV2`) are not entry points:
  TF2 loading reads variables with its own code.
- for a TF1 SavedModel (no object graph), its main graphs and every function they call:
  the TF1 loader runs their restore and init ops.

Every op type met must be in `SAFE_OPS`. A function attribute naming something that is
not a library function is taken as an op of that name (as `SymbolicGradient` would run
it), and an op this TensorFlow does not register is refused as a custom op.

Example:

```python
unsafe = find_unsafe_ops(tf.__internal__.saved_model.parse_saved_model("path/to/model"))
for item in unsafe:
    print(item)  # WriteFile (reads or writes files): in __inference___call___16, reached from ...
```
"""

import dataclasses

import tensorflow as tf

from keras_accuracy_kit.transfer.safe_ops import SAFE_OPS, refusal_reason

#: How many function names / entry points one finding lists before "and N more".
_MAX_LISTED = 3
_MAIN_GRAPH = "the main graph"


@dataclasses.dataclass(frozen=True)
class UnsafeOp:
    """One op type outside `SAFE_OPS` that a SavedModel uses, where, and why it is refused.

    Attributes:
        op: String. The op type, e.g. `"WriteFile"`.
        reason: String. Why it is refused, in words (`safe_ops.refusal_reason`).
        functions: Tuple of strings. The SavedModel functions that use it (or
            `"the main graph"` of a TF1 SavedModel), sorted.
        entry_points: Tuple of strings. What runs those functions: object paths of the
            SavedModel (`"__call__"`, `"signatures.serving_default"`), gradients
            (`"gradient of ..."`) or the TF1 main graph, sorted.
    """

    op: str
    reason: str
    functions: tuple
    entry_points: tuple

    def __str__(self):
        return (
            f"{self.op} ({self.reason}): in {_listed(self.functions)}, "
            f"reached from {_listed(self.entry_points)}"
        )


def find_unsafe_ops(saved_model, is_registered=None):
    """Returns the op types outside `SAFE_OPS` that loading or calling `saved_model` runs.

    Pure: reads the protocol buffer only, runs nothing.

    Args:
        saved_model: A `saved_model_pb2.SavedModel` (e.g. from
            `tf.__internal__.saved_model.parse_saved_model(directory)`).
        is_registered: Optional callable `op -> bool`, whether TensorFlow knows an op
            type. Defaults to this TensorFlow's op registry.

    Returns:
        A list of `UnsafeOp`, sorted by op type; empty when everything is allowed.
    """
    is_registered = is_registered or _is_registered_op
    meta_graphs = list(saved_model.meta_graphs)
    scopes = {}  # a scope: a library function name, or a TF1 main graph
    entries = {}  # scope -> labels of what runs it
    libraries = []
    if len(meta_graphs) == 1 and meta_graphs[0].HasField("object_graph_def"):
        library = meta_graphs[0].graph_def.library
        functions = {function.signature.name: function for function in library.function}
        for name, labels in _tf2_entry_points(meta_graphs[0]).items():
            entries[name] = labels
        libraries.append(functions)
    else:
        for index, meta_graph in enumerate(meta_graphs):
            functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
            scope = _MAIN_GRAPH if len(meta_graphs) == 1 else f"{_MAIN_GRAPH} {index}"
            scopes[scope] = (meta_graph.graph_def.node, functions)
            entries[scope] = {f"{scope} (the TF1 loader runs its restore and init ops)"}
            libraries.append(functions)
    # Function names are unique within a library; TF1 MetaGraphs may each have one.
    for functions in libraries:
        for name, function in functions.items():
            scopes.setdefault(name, (function.node_def, functions))

    scanned = {}
    found = {}  # op -> (functions, entry points)
    for entry, labels in entries.items():
        for scope in _reachable(entry, scopes, scanned):
            for op in scanned[scope][0]:
                if op in SAFE_OPS:
                    continue
                where, reached_from = found.setdefault(op, (set(), set()))
                where.add(scope)
                reached_from.update(labels)
    return [
        UnsafeOp(
            op=op,
            reason=refusal_reason(op, registered=is_registered(op)),
            functions=tuple(sorted(where)),
            entry_points=tuple(sorted(_shortest_labels(reached_from))),
        )
        for op, (where, reached_from) in sorted(found.items())
    ]


def saved_model_unsafe_ops(directory):
    """Reads the SavedModel at `directory` as `tf.saved_model.load` does; `find_unsafe_ops` of it.

    Nothing of the SavedModel runs: only its protocol buffer is parsed.

    Args:
        directory: String. A SavedModel directory (holding `saved_model.pb`).

    Returns:
        A list of `UnsafeOp` (see `find_unsafe_ops`).
    """
    return find_unsafe_ops(tf.__internal__.saved_model.parse_saved_model(directory))


def describe_unsafe_ops(unsafe):
    """One line per `UnsafeOp`, for error messages and warnings."""
    return "; ".join(str(item) for item in unsafe)


# Walking -----------------------------------------------------------------------------------


def _reachable(entry, scopes, scanned):
    """Yields `entry` and every scope it calls, transitively (each once)."""
    if entry not in scopes:
        return
    seen, stack = {entry}, [entry]
    while stack:
        scope = stack.pop()
        if scope not in scanned:
            nodes, functions = scopes[scope]
            scanned[scope] = _scan(nodes, functions)
        yield scope
        for callee in scanned[scope][1]:
            if callee not in seen and callee in scopes:
                seen.add(callee)
                stack.append(callee)


def _scan(nodes, functions):
    """Returns `(op types, called functions)` of one graph's nodes."""
    ops, callees = set(), set()
    for node in nodes:
        (callees if node.op in functions else ops).add(node.op)
        for value in node.attr.values():
            for name in _attr_function_names(value):
                (callees if name in functions else ops).add(name)
    return ops, callees


def _attr_function_names(value):
    """The function names an `AttrValue` holds (`func`, `list.func`, nested attributes)."""
    if value.HasField("func"):
        yield from _function_names(value.func)
    for function in value.list.func:
        yield from _function_names(function)


def _function_names(name_attr_list):
    if name_attr_list.name:
        yield name_attr_list.name
    for value in name_attr_list.attr.values():
        yield from _attr_function_names(value)


def _tf2_entry_points(meta_graph):
    """Function name -> labels of what runs it: object paths, gradients, the loader."""
    graph = meta_graph.object_graph_def
    paths = _object_paths(graph)
    entries = {}
    for node_id, node in enumerate(graph.nodes):
        kind = node.WhichOneof("kind")
        if kind == "function":
            names = list(node.function.concrete_functions)
        elif kind == "bare_concrete_function":
            names = [node.bare_concrete_function.concrete_function_name]
        elif kind == "captured_tensor":  # a tensor the loader takes from a function's graph
            names = [node.captured_tensor.concrete_function]
        else:
            continue
        label = paths.get(node_id, f"object {node_id}")
        for name in names:
            entries.setdefault(name, set()).add(label)
    library = meta_graph.graph_def.library
    for gradient in library.gradient:
        entries.setdefault(gradient.gradient_func, set()).add(
            f"gradient of {gradient.function_name}"
        )
    for gradient in library.registered_gradients:
        entries.setdefault(gradient.gradient_func, set()).add(
            f"gradient of {gradient.registered_op_type}"
        )
    for name in graph.concrete_functions:  # every function the loader restores
        entries.setdefault(name, {name})
    return entries


def _object_paths(graph):
    """Node id -> its shortest dotted path from the root object (`signatures.serving_default`)."""
    paths, queue = {0: ""}, [0]
    for node_id in queue:
        if node_id >= len(graph.nodes):
            continue
        for child in graph.nodes[node_id].children:
            if child.node_id not in paths:
                prefix = paths[node_id] + "." if paths[node_id] else ""
                paths[child.node_id] = prefix + child.local_name
                queue.append(child.node_id)
    paths[0] = "the root object"
    return paths


def _shortest_labels(labels):
    """Drops `a.b.c` when `a` or `a.b` is there too."""
    return {
        label
        for label in labels
        if not any(label.startswith(other + ".") for other in labels if other != label)
    }


def _listed(names):
    names = list(names)
    if len(names) <= _MAX_LISTED:
        return ", ".join(names)
    return ", ".join(names[:_MAX_LISTED]) + f" and {len(names) - _MAX_LISTED} more"


def _is_registered_op(op):
    from tensorflow.python.framework import op_def_registry

    return op_def_registry.get(op) is not None
