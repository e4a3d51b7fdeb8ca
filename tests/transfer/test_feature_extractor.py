"""FeatureExtractor on tiny SavedModels of the three common shapes, built in each test."""

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_accuracy_kit.transfer import FeatureExtractor
from keras_accuracy_kit.transfer import hub_source as hub_source_module
from tests.conftest import ROOT
from tests.transfer import savedmodels

SHAPES = {
    "hub_style": (savedmodels.save_hub_style, {}),
    "module_call": (savedmodels.save_plain_module, {}),
    "module_signature": (
        lambda path: savedmodels.save_plain_module(path, with_call=False),
        {"output_key": "features"},
    ),
    "keras_export": (savedmodels.save_keras_export, {}),
}


def _data(num_examples=16):
    rng = np.random.default_rng(0)
    inputs = rng.random((num_examples, savedmodels.INPUT_DIM)).astype("float32")
    targets = rng.random((num_examples, 2)).astype("float32")
    return inputs, targets


def _classifier(extractor):
    inputs = keras.Input((savedmodels.INPUT_DIM,))
    outputs = keras.layers.Dense(2)(extractor(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("trainable", [False, True])
def test_fit_updates_the_savedmodel_variables_only_when_trainable(tmp_path, shape, trainable):
    save, arguments = SHAPES[shape]
    extractor = FeatureExtractor(save(tmp_path / shape), trainable=trainable, **arguments)
    model = _classifier(extractor)
    assert extractor.output_shape_ == (savedmodels.FEATURE_DIM,)
    assert model.output_shape == (None, 2)
    before = [weight.numpy().copy() for weight in extractor.trainable_weights] or [
        weight.numpy().copy() for weight in extractor.weights
    ]
    watched = extractor.trainable_weights or extractor.weights
    assert len(extractor.trainable_weights) == (len(watched) if trainable else 0)
    model.fit(*_data(), epochs=2, verbose=0)
    changed = [not np.allclose(old, weight.numpy()) for old, weight in zip(before, watched)]
    assert all(changed) if trainable else not any(changed)


def test_training_reaches_a_hub_style_savedmodel_when_trainable(tmp_path):
    inputs, _ = _data(4)
    path = savedmodels.save_hub_style(tmp_path / "hub")
    trainable = FeatureExtractor(path, trainable=True)
    # The hub-style model doubles its features with training=True.
    np.testing.assert_allclose(
        trainable(inputs, training=True), 2.0 * trainable(inputs, training=False), rtol=1e-6
    )
    # A frozen extractor runs in inference mode (batch norm statistics stay put).
    frozen = FeatureExtractor(path)
    np.testing.assert_allclose(frozen(inputs, training=True), frozen(inputs, training=False))
    # Also through its serving signature, which takes `training` as a named input.
    signature = FeatureExtractor(path, trainable=True, signature="serving_default")
    np.testing.assert_allclose(
        signature(inputs, training=True), trainable(inputs, training=True), rtol=1e-6
    )
    np.testing.assert_allclose(
        signature(inputs, training=False), trainable(inputs, training=False), rtol=1e-6
    )
    # The non-trainable variable stays non-trainable.
    assert [w.trainable for w in trainable.weights] == [True, True, False]


def test_signature_and_output_key_pick_the_named_entries(tmp_path):
    path = savedmodels.save_plain_module(tmp_path / "sig", with_call=False)
    inputs, _ = _data(4)
    logits = FeatureExtractor(path, signature="serving_default", output_key="logits")
    features = FeatureExtractor(path, output_key="features")
    assert logits(inputs).shape == (4, 1)
    np.testing.assert_allclose(logits(inputs), features(inputs)[:, :1])


def test_missing_signature_or_output_key_lists_the_available_ones(tmp_path):
    path = savedmodels.save_plain_module(tmp_path / "sig", with_call=False)
    with pytest.raises(ValueError, match=r"signatures \['serving_default'\]\. Received: "):
        FeatureExtractor(path, signature="serve")
    with pytest.raises(ValueError, match=r"outputs \['features', 'logits'\]\. Received: "):
        _classifier(FeatureExtractor(path, output_key="embedding"))
    with pytest.raises(ValueError, match=r"output_key=None\. Pass e\.g\. output_key='features'"):
        _classifier(FeatureExtractor(path))


def test_accepts_file_urls(tmp_path):
    path = savedmodels.save_plain_module(tmp_path / "plain")
    inputs, _ = _data(4)
    np.testing.assert_allclose(
        FeatureExtractor(f"file://{path}")(inputs), FeatureExtractor(path)(inputs)
    )


def test_a_missing_directory_says_the_path_and_how_to_fix(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match=r"no directory at .*nowhere.*contains saved_model\.pb"):
        FeatureExtractor(missing)
    with pytest.raises(ValueError, match=r"holds \[\]\. Pass the directory written by"):
        os.makedirs(missing)
        FeatureExtractor(missing)


def test_config_round_trips(tmp_path):
    path = savedmodels.save_plain_module(tmp_path / "sig", with_call=False)
    extractor = FeatureExtractor(path, trainable=True, output_key="features", name="backbone")
    _classifier(extractor)
    config = extractor.get_config()
    assert {k: config[k] for k in ("handle", "trainable", "signature", "output_key")} == {
        "handle": path,
        "trainable": True,
        "signature": None,
        "output_key": "features",
    }
    clone = FeatureExtractor.from_config(config)
    assert clone.get_config() == config
    inputs, _ = _data(4)
    np.testing.assert_allclose(clone(inputs), extractor(inputs))
    shutil.rmtree(path)
    with pytest.raises(ValueError, match=r"does not exist here\. Load the whole model from"):
        FeatureExtractor.from_config(config)(inputs)


def test_keras_file_is_self_contained_with_fine_tuned_weights(tmp_path):
    source = savedmodels.save_hub_style(tmp_path / "hub")
    extractor = FeatureExtractor(source, trainable=True)
    model = _classifier(extractor)
    inputs, targets = _data()
    model.fit(inputs, targets, epochs=3, verbose=0)
    fine_tuned = FeatureExtractor(source)(inputs)
    assert not np.allclose(extractor(inputs), fine_tuned)  # differs from the files on disk
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "inputs.npy", inputs)
    np.save(tmp_path / "expected.npy", model.predict(inputs, verbose=0))
    shutil.rmtree(source)
    script = textwrap.dedent(
        f"""
        import keras, numpy as np, tensorflow as tf
        import keras_accuracy_kit  # registers FeatureExtractor
        folder = {str(tmp_path)!r}
        model = keras.saving.load_model(folder + "/model.keras", safe_mode=True)
        inputs = np.load(folder + "/inputs.npy")
        expected = np.load(folder + "/expected.npy")
        np.testing.assert_array_equal(model.predict(inputs, verbose=0), expected)
        model.save(folder + "/again.keras")
        again = keras.saving.load_model(folder + "/again.keras")
        np.testing.assert_array_equal(again.predict(inputs, verbose=0), expected)
        model.export(folder + "/exported", verbose=False)
        exported = tf.saved_model.load(folder + "/exported")  # keep a reference
        served = exported.serve(inputs).numpy()
        np.testing.assert_allclose(served, expected, rtol=1e-6)
        print("OK")
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == "OK"


HUB_HANDLE = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"


def test_an_offline_hub_handle_fails_at_once_with_the_cache_path(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_hub")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))

    def unreachable(address, timeout):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(hub_source_module.socket, "create_connection", unreachable)
    digest = hashlib.sha1(HUB_HANDLE.encode("utf8")).hexdigest()
    with pytest.raises(ValueError, match=rf"tfhub\.dev is unreachable .*cache/{digest}'.*local"):
        FeatureExtractor(HUB_HANDLE)


def test_a_cached_hub_handle_loads_from_tfhub_cache_dir(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow_hub")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    digest = hashlib.sha1(HUB_HANDLE.encode("utf8")).hexdigest()
    savedmodels.save_hub_style(tmp_path / "cache" / digest)
    extractor = FeatureExtractor(HUB_HANDLE)
    assert extractor(_data(2)[0]).shape == (2, savedmodels.FEATURE_DIM)


def test_a_missing_tensorflow_hub_says_which_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_hub", None)
    with pytest.raises(ValueError, match=r'pip install "keras-accuracy-kit\[hub\]"'):
        FeatureExtractor(HUB_HANDLE)


def test_mirrored_strategy_trains_when_built_inside_the_scope(tmp_path):
    path = savedmodels.save_hub_style(tmp_path / "hub")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        extractor = FeatureExtractor(path, trainable=True)
        model = _classifier(extractor)
    before = extractor.trainable_weights[0].numpy().copy()
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(before, extractor.trainable_weights[0].numpy())


def test_mirrored_strategy_outside_the_scope_says_to_build_inside(tmp_path):
    path = savedmodels.save_hub_style(tmp_path / "hub")
    extractor = FeatureExtractor(path, trainable=True)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with pytest.raises(ValueError, match=r"inside `with strategy\.scope\(\):`"):
        with strategy.scope():
            _classifier(extractor)


def test_keras_file_keeps_fine_tuned_weights_while_the_source_still_exists(tmp_path):
    source = savedmodels.save_keras_export(tmp_path / "exported")
    model = _classifier(FeatureExtractor(source, trainable=True))
    inputs, targets = _data()
    model.fit(inputs, targets, epochs=3, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )
    extractor = loaded.layers[1]
    assert extractor.trainable and len(extractor.trainable_weights) == 2
    assert not extractor._saved_model_dir.startswith(str(tmp_path))  # the .keras copy


def test_hub_cache_path_is_where_tensorflow_hub_caches(tmp_path, monkeypatch):
    resolver = pytest.importorskip("tensorflow_hub.compressed_module_resolver")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    assert hub_source_module.hub_cache_path(HUB_HANDLE) == resolver._module_dir(HUB_HANDLE)


# D32 (issue 15): every broken handle is a ValueError at construction naming it and the fix.


@pytest.fixture
def http_404_url():
    """A local HTTP server on 127.0.0.1 that answers 404 to everything (no network)."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server hook name
            self.send_error(404, "Not Found")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/models/missing/1"
    server.shutdown()
    server.server_close()


def test_d32_a_host_answering_404_names_the_handle_and_the_fix(tmp_path, monkeypatch, http_404_url):
    pytest.importorskip("tensorflow_hub")
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match=r"answered HTTP 404.*Check the URL") as caught:
        FeatureExtractor(http_404_url)
    assert repr(http_404_url) in str(caught.value)


@pytest.mark.parametrize(
    "handle, expected",
    [
        ("https://[::1/x", r"well-formed URL.*Invalid IPv6 URL.*in brackets"),
        ("https://tfhub.dev:99999/x", r"well-formed URL.*port is 0-65535"),
        ("https:///x", r"URL must name a host.*https://host/path"),
        ("ftp://example.com/model", r"scheme 'ftp'.*local SavedModel directory"),
    ],
)
def test_d32_a_malformed_url_fails_before_any_download(handle, expected, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("no connection may be tried for a malformed URL")

    monkeypatch.setattr(hub_source_module.socket, "create_connection", no_network)
    with pytest.raises(ValueError, match=expected) as caught:
        FeatureExtractor(handle)
    assert repr(handle) in str(caught.value)


def test_d32_an_empty_or_garbage_saved_model_pb_says_save_again(tmp_path):
    for name, content in (("empty", b""), ("garbage", b"\x00not a protobuf\xff" * 8)):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "saved_model.pb").write_bytes(content)
        with pytest.raises(ValueError, match=r"handle=.*(0 MetaGraphs|cannot be parsed).*again"):
            FeatureExtractor(directory)


def test_d32_an_untraced_call_is_refused_at_construction(tmp_path):
    class Untraced(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.ones([savedmodels.INPUT_DIM, 2]))

        @tf.function  # no input_signature and never called: nothing traced
        def __call__(self, inputs):
            return tf.matmul(inputs, self.kernel)

    tf.saved_model.save(Untraced(), str(tmp_path / "untraced"))
    with pytest.raises(ValueError, match=r"`__call__` was traced before saving.*input_signature"):
        FeatureExtractor(tmp_path / "untraced")
    # The same module traced once (for any batch size) loads and runs.
    traced = Untraced()
    traced.__call__.get_concrete_function(tf.TensorSpec([None, savedmodels.INPUT_DIM]))
    tf.saved_model.save(traced, str(tmp_path / "traced"))
    assert FeatureExtractor(tmp_path / "traced")(_data(2)[0]).shape == (2, 2)


@pytest.mark.parametrize("source_still_exists", [True, False])
def test_keras_file_keeps_the_optimizer_state_of_a_fine_tuned_savedmodel(
    tmp_path, source_still_exists
):
    # The known bug: the optimizer was built before `load_assets` made the SavedModel's
    # variables, so its state was skipped ("6 variables whereas the saved optimizer has
    # 10") or bound to replaced variables, and `fit` on the loaded model failed with
    # "Unknown variable".
    source = savedmodels.save_hub_style(tmp_path / "hub")
    model = _classifier(FeatureExtractor(source, trainable=True))
    model.compile(keras.optimizers.Adam(0.01), "mse")
    inputs, targets = _data()
    model.fit(inputs, targets, epochs=2, verbose=0)
    model.save(tmp_path / "model.keras")
    if not source_still_exists:
        shutil.rmtree(source)
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables):
        assert saved.path == restored.path
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    # Training on continues exactly where the original continues (Adam's moments included).
    model.fit(inputs, targets, epochs=1, shuffle=False, verbose=0)
    loaded.fit(inputs, targets, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0), rtol=1e-5
    )
    assert loaded.get_layer(index=1).get_config()["variable_specs"][0]["path"] == "root.kernel"


def test_variable_specs_of_a_config_are_checked_before_any_variable_is_made(tmp_path):
    source = savedmodels.save_hub_style(tmp_path / "hub")
    config = FeatureExtractor(source).get_config()
    assert [spec["path"] for spec in config["variable_specs"]] == [
        "root.kernel",
        "root.bias",
        "root.moving_scale",
    ]
    for bad in ({"path": "root.kernel"}, {**config["variable_specs"][0], "shape": [-1, 3]}):
        edited = {**config, "variable_specs": [bad]}
        with pytest.raises(ValueError, match=r"`variable_specs` must be a dict with keys"):
            FeatureExtractor.from_config(edited)
    # Specs of another layout than the SavedModel's are refused, not silently replaced.
    wrong = {**config, "variable_specs": [{**config["variable_specs"][0], "path": "root.bias"}]}
    with pytest.raises(ValueError, match=r"handle=.*failed to load.*incompatible tensor"):
        FeatureExtractor.from_config(wrong)
    fewer = {**config, "variable_specs": config["variable_specs"][:1]}
    with pytest.raises(ValueError, match=r"saved variables must be those of its SavedModel"):
        FeatureExtractor.from_config(fewer)
