"""`safe_mode=True` means safe: a `.keras` file's SavedModel runs no file, Python or custom op.

Each hostile SavedModel is wrapped in a FeatureExtractor, saved in a `.keras` file and its
directory deleted; a fresh process then loads every file with `safe_mode=True` (refused,
nothing written), then again with `safe_mode=False` (today's behaviour: it loads and runs).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from keras_accuracy_kit.transfer import FeatureExtractor, get_backbone_spec, list_backbones
from tests.conftest import ROOT
from tests.transfer import savedmodels
from tests.transfer.test_feature_extractor import SHAPES

INPUTS = np.arange(2 * savedmodels.INPUT_DIM, dtype="float32").reshape(2, -1) / 10
UNKNOWN_OP = "KakNotARegisteredOp"


class _Base(tf.Module):
    """`x @ w + side_effect(x)`: the hostile part hides next to an honest matmul."""

    def __init__(self, side_effect):
        super().__init__()
        self.kernel = tf.Variable(tf.ones([savedmodels.INPUT_DIM, savedmodels.FEATURE_DIM]))
        self.side_effect = side_effect

    @tf.function(input_signature=[tf.TensorSpec([None, savedmodels.INPUT_DIM], tf.float32)])
    def __call__(self, inputs):
        return tf.matmul(inputs, self.kernel) + self.side_effect(inputs)


class _WriteOnLoad(tf.saved_model.experimental.TrackableResource):
    """A resource whose initialiser `tf.saved_model.load` itself runs: it writes a file."""

    def __init__(self, path):
        self.path = path
        super().__init__()

    def _create_resource(self):
        return tf.raw_ops.HashTableV2(key_dtype=tf.string, value_dtype=tf.int64)

    def _initialize(self):
        return tf.io.write_file(self.path, "written while loading")


def _write(paths):
    def side_effect(inputs):
        tf.io.write_file(paths["written"], "written while predicting")
        return 0.0

    return _Base(side_effect)


def _write_on_load(paths):
    module = _Base(lambda inputs: 0.0)
    module.resource = _WriteOnLoad(paths["written_on_load"])
    return module


def _read(paths):
    def side_effect(inputs):
        return tf.cast(tf.strings.length(tf.io.read_file(paths["secret"])), "float32")

    return _Base(side_effect)


def _glob(paths):
    pattern = os.path.join(paths["private"], "*")
    return _Base(lambda inputs: tf.cast(tf.size(tf.io.matching_files(pattern)), "float32"))


def _dataset(paths):
    def side_effect(inputs):
        lines = tf.data.TextLineDataset(paths["secret"])
        return tf.cast(lines.reduce(0, lambda count, line: count + 1), "float32")

    return _Base(side_effect)


def _py_function(paths):
    return _Base(lambda inputs: tf.reshape(tf.py_function(lambda: 0.0, [], tf.float32), []))


def _numpy_function(paths):
    def side_effect(inputs):
        return tf.reshape(tf.numpy_function(lambda: np.float32(0.0), [], tf.float32), [])

    return _Base(side_effect)


# case -> (build, the op the refusal must name)
CASES = {
    "write": (_write, "WriteFile"),
    "write_on_load": (_write_on_load, "WriteFile"),
    "read": (_read, "ReadFile"),
    "glob": (_glob, "MatchingFiles"),
    "dataset": (_dataset, "TextLineDataset"),
    "py_function": (_py_function, "EagerPyFunc"),
    "numpy_function": (_numpy_function, "PyFunc"),
    "unknown_op": (None, UNKNOWN_OP),
}


def _rename_op_in_keras_file(path, old, new):
    """Hand-edits the SavedModel inside a `.keras` file: every `old` op becomes `new`."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    (member,) = [name for name in members if name.endswith("saved_model/saved_model.pb")]
    proto = saved_model_pb2.SavedModel.FromString(members[member])
    renamed = 0
    for function in proto.meta_graphs[0].graph_def.library.function:
        for node in function.node_def:
            if node.op == old:
                node.op = new
                renamed += 1
    assert renamed, f"no {old} op to rename"
    members[member] = proto.SerializeToString()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Builds the `.keras` files (sources deleted); returns the paths the scripts use."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {
        "folder": str(folder),
        "private": str(folder / "private"),
        "secret": str(folder / "private" / "secret.txt"),
        "written": str(folder / "written.txt"),
        "written_on_load": str(folder / "written_on_load.txt"),
    }
    os.makedirs(paths["private"])
    with open(paths["secret"], "w") as file:
        file.write("line one\nline two\nline three\n")
    np.save(folder / "inputs.npy", INPUTS)
    for case, (build, op) in CASES.items():
        source = str(folder / f"{case}_savedmodel")
        if build is None:  # the unknown op is edited into a `.keras` file afterwards
            tf.saved_model.save(_Base(lambda inputs: tf.nn.relu(inputs[:, :1])), source)
            extractor = FeatureExtractor(source)
        else:
            tf.saved_model.save(build(paths), source)
            with pytest.warns(UserWarning, match=rf"outside the safe-mode allowlist.*{op} \("):
                extractor = FeatureExtractor(source)
        inputs = keras.Input((savedmodels.INPUT_DIM,))
        keras.Model(inputs, extractor(inputs)).save(folder / f"{case}.keras")
        shutil.rmtree(source)
    _rename_op_in_keras_file(folder / "unknown_op.keras", "Relu", UNKNOWN_OP)
    for name in ("written", "written_on_load"):  # loading the handle above ran the resource
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    return paths


_LOAD_EVERY_FILE = """
import json, os, sys, traceback
import keras, numpy as np
import keras_accuracy_kit  # registers FeatureExtractor

folder, cases, written = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
inputs = np.load(folder + "/inputs.npy")
for safe_mode in (True, False):  # the safe pass first, in a process that loaded nothing yet
    results = {}
    for case in cases:
        result = results[case] = {"loaded": False, "error": None, "outputs": None}
        try:
            model = keras.models.load_model(folder + f"/{case}.keras", safe_mode=safe_mode)
            result["loaded"] = True
            result["outputs"] = model.predict(inputs, verbose=0).tolist()
        except Exception as error:  # noqa: BLE001 - reported to the test
            result["error"] = f"{type(error).__name__}: {error}"
    exists = [os.path.exists(path) for path in written]  # after this pass, before the next
    print("RESULTS " + json.dumps({"safe_mode": safe_mode, "results": results, "written": exists}))
"""


@pytest.fixture(scope="module")
def load_results(hostile):
    """One fresh process loads every file with safe_mode=True, then with safe_mode=False.

    Returns `{True: (results, [written, written_on_load] exist after the safe pass),
    False: (results, ...)}`.
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_LOAD_EVERY_FILE),
            hostile["folder"],
            ",".join(CASES),
            ",".join(hostile[name] for name in ("written", "written_on_load")),
        ],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    passes = [
        json.loads(line[len("RESULTS ") :])
        for line in result.stdout.splitlines()
        if line.startswith("RESULTS ")
    ]
    assert [p["safe_mode"] for p in passes] == [True, False]
    return {p["safe_mode"]: (p["results"], p["written"]) for p in passes}


@pytest.fixture(scope="module")
def safe_results(load_results):
    return load_results[True]


@pytest.fixture(scope="module")
def unsafe_results(load_results):
    return load_results[False][0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_safe_mode_refuses_before_anything_runs_naming_the_op(safe_results, case):
    results, written = safe_results
    result = results[case]
    op = CASES[case][1]
    assert not result["loaded"], result
    assert f"{op} (" in result["error"], result["error"]
    assert "Loading stopped before any of it ran" in result["error"]
    assert "keras.models.load_model(path, safe_mode=False)" in result["error"]
    assert written == [False, False]  # nothing written, not even by the loader


def test_the_refusal_says_where_the_op_is(safe_results):
    error = safe_results[0]["write"]["error"]
    assert "WriteFile (reads or writes files): in __inference___call___" in error
    assert "reached from __call__, signatures.serving_default" in error
    assert "reached from resource._initialize" in safe_results[0]["write_on_load"]["error"]
    unknown = safe_results[0]["unknown_op"]["error"]
    assert f"{UNKNOWN_OP} (not an op this TensorFlow knows: a custom op)" in unknown


def test_safe_mode_false_keeps_todays_behaviour(hostile, unsafe_results):
    base = INPUTS @ np.ones((savedmodels.INPUT_DIM, savedmodels.FEATURE_DIM), "float32")
    expected = {
        "write": base,
        "write_on_load": base,
        "read": base + len("line one\nline two\nline three\n"),
        "glob": base + 1,  # one file in the private directory
        "dataset": base + 3,  # three lines
    }
    for case, outputs in expected.items():
        result = unsafe_results[case]
        assert result["loaded"] and result["error"] is None, (case, result)
        np.testing.assert_allclose(result["outputs"], outputs, rtol=1e-6, err_msg=case)
    with open(hostile["written"]) as file:
        assert file.read() == "written while predicting"
    with open(hostile["written_on_load"]) as file:
        assert file.read() == "written while loading"
    # The Python functions are not in the file: they load, and fail when called.
    for case in ("py_function", "numpy_function"):
        assert unsafe_results[case]["loaded"], unsafe_results[case]
    # TensorFlow itself cannot load an op it does not know.
    assert not unsafe_results["unknown_op"]["loaded"]
    assert UNKNOWN_OP in unsafe_results["unknown_op"]["error"]


# What still loads ---------------------------------------------------------------------------


def _export_backbone(name, path):
    spec = get_backbone_spec(name)
    spec.build(weights=None, input_shape=(32, 32, 3)).export(str(path), verbose=False)
    return str(path), (32, 32, 3), {}


def _test_shape(shape, path):
    save, arguments = SHAPES[shape]
    return save(path), (savedmodels.INPUT_DIM,), arguments


BACKBONES = [pytest.param("shape", shape, id=shape) for shape in sorted(SHAPES)] + [
    pytest.param("backbone", name, id=name, marks=pytest.mark.slow) for name in list_backbones()
]


@pytest.mark.parametrize("kind, name", BACKBONES)
def test_every_backbone_the_kit_builds_loads_under_safe_mode(tmp_path, kind, name):
    build = _test_shape if kind == "shape" else _export_backbone
    source, input_shape, arguments = build(name, tmp_path / name)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*safe-mode allowlist")
        extractor = FeatureExtractor(source, **arguments)
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, extractor(inputs))
    data = np.random.default_rng(0).random((2,) + input_shape).astype("float32")
    expected = keras.ops.convert_to_numpy(model(data))  # a call: no predict function to trace
    model.save(tmp_path / "model.keras")
    shutil.rmtree(source)
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(data)), expected)


# The other ways a SavedModel gets loaded ----------------------------------------------------


def test_deserializing_a_config_under_safe_mode_checks_the_handle(tmp_path):
    source = str(tmp_path / "write")
    tf.saved_model.save(_write({"written": str(tmp_path / "written.txt")}), source)
    with pytest.warns(UserWarning, match="WriteFile"):
        config = keras.layers.serialize(FeatureExtractor(source))
    with pytest.raises(ValueError, match=r"under `safe_mode=True`.*WriteFile \(reads or writes"):
        keras.saving.deserialize_keras_object(config)  # safe_mode=True by default
    assert keras.saving.deserialize_keras_object(config, safe_mode=False).handle == source
    # Outside a load (`clone_model`, as the ladder does): the user's own handle, a warning.
    with pytest.warns(UserWarning, match="WriteFile"):
        inputs = keras.Input((savedmodels.INPUT_DIM,))
        model = keras.Model(inputs, FeatureExtractor(source)(inputs))
    with pytest.warns(UserWarning, match="WriteFile"):
        clone = keras.models.clone_model(model)
    expected = model.predict(INPUTS, verbose=0)
    np.testing.assert_array_equal(clone.predict(INPUTS, verbose=0), expected)
