"""DepthSearch: each trial's record describes exactly the model it trained."""

import re

import keras_tuner
import numpy as np
import pytest

import keras_accuracy_kit as kit
from tests.search.helpers import RecordingDepthSearch, built_blocks, dense_block, digits


@pytest.mark.parametrize("strategy", ["random", "bayesian"])
def test_every_trial_builds_num_blocks_and_records_only_built_blocks(tmp_path, strategy):
    train, validation = digits()
    depth = RecordingDepthSearch(
        dense_block, min_blocks=1, max_blocks=4, input_shape=(8, 8, 1), num_classes=10
    )
    result = kit.search.tune(
        depth, train, validation, strategy=strategy, max_trials=4, epochs=1,
        directory=tmp_path, keep_best=None, seed=3,
    )  # fmt: skip
    assert len(result.trials) == 4 == len(depth.trained)
    assert len({row["values"]["num_blocks"] for row in result.trials}) >= 2
    for trained, row in zip(depth.trained, result.trials):
        num_blocks = row["values"]["num_blocks"]
        assert trained["values"] == row["values"]
        assert trained["blocks"] == list(range(num_blocks))
        named = {
            int(m.group(1)) for m in map(re.compile(r"block_(\d+)/").match, row["values"]) if m
        }
        assert named == set(range(num_blocks))
        assert trained["units"] == [row["values"][f"block_{i}/units"] for i in range(num_blocks)]


def test_naive_idiom_would_list_unbuilt_layers():
    # The failure DepthSearch avoids: the loop idiom samples units for layers not built.
    hp = keras_tuner.HyperParameters()
    hp.values["num_layers"] = 1
    for index in range(3):
        hp.Int(f"units_{index}", 8, 32, step=8)
    hp.Int("num_layers", 1, 3)
    assert all(hp.is_active(f"units_{index}") for index in range(3))

    depth = kit.search.DepthSearch(dense_block, 1, 3, input_shape=(8, 8, 1))
    hp = keras_tuner.HyperParameters()
    hp.values["num_blocks"] = 1
    model = depth.build(hp)
    assert built_blocks(model) == [0]
    assert sorted(kit.search.active_values(hp)) == ["block_0/units", "num_blocks"]


@pytest.mark.parametrize("block", sorted(kit.search.BLOCKS))
@pytest.mark.parametrize("num_blocks", [1, 3])
def test_named_blocks_build_the_requested_depth(block, num_blocks):
    depth = kit.search.DepthSearch(block, min_blocks=1, max_blocks=3, input_shape=(16, 16, 3))
    hp = keras_tuner.HyperParameters()
    hp.values["num_blocks"] = num_blocks
    model = depth.build(hp)
    assert built_blocks(model) == list(range(num_blocks))
    assert {name.split("/")[0] for name in kit.search.active_values(hp)} == {
        "num_blocks",
        *(f"block_{i}" for i in range(num_blocks)),
    }
    logits = model.predict(np.zeros((2, 16, 16, 3), "float32"), verbose=0)
    assert logits.shape == (2, 10)


def test_searched_learning_rate_reaches_the_optimizer():
    depth = kit.search.DepthSearch("dense", 1, 1, input_shape=(8, 8, 1), learning_rate=(1e-4, 1e-2))
    hp = keras_tuner.HyperParameters()
    hp.values["learning_rate"] = 3e-3
    model = depth.build(hp)
    assert float(model.optimizer.learning_rate) == pytest.approx(3e-3)


def test_min_blocks_above_max_blocks_is_an_error():
    with pytest.raises(
        ValueError, match=r"`min_blocks` must be at most `max_blocks`.*min_blocks=5"
    ):
        kit.search.DepthSearch("conv", min_blocks=5, max_blocks=2)


def test_unknown_block_name_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"\['conv', 'conv_bn', 'dense', 'residual'\].*block='resnet'"
    ):
        kit.search.DepthSearch("resnet")


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"min_blocks": 5, "max_blocks": 2}, r"Swap them, e\.g\. min_blocks=2, max_blocks=5\.$"),
        ({"min_blocks": -1}, r"`min_blocks` must be a non-negative integer.*e\.g\. min_blocks=1"),
        ({"input_shape": "32x32"}, r"Received: input_shape='32x32'\. E\.g\. input_shape=\(32,"),
        ({"input_shape": ()}, r"`input_shape` must be a tuple of positive integers"),
        ({"input_shape": (8, 8.0, 1)}, r"Received: input_shape=\(8, 8\.0, 1\)"),
        ({"input_shape": (8, None, 1)}, r"Received: input_shape=\(8, None, 1\)"),
        ({"learning_rate": (1e-2, 1e-4)}, r"0 < low < high\. .*Swap an inverted pair"),
        ({"learning_rate": (1e-3, 1e-3)}, r"0 < low < high\. .*E\.g\. learning_rate=\(1e-4"),
        ({"learning_rate": (0, 1e-2)}, r"Received: learning_rate=\(0, 0\.01\)\. E\.g\."),
        ({"learning_rate": (1e-4, float("inf"))}, r"a positive float or a pair"),
        ({"learning_rate": (1e-4, 1e-3, 1e-2)}, r"a positive float or a pair"),
        ({"learning_rate": 0.0}, r"Received: learning_rate=0\.0\. E\.g\. learning_rate=\("),
        ({"learning_rate": float("nan")}, r"a positive float or a pair"),
        ({"learning_rate": True}, r"Received: learning_rate=True"),
        ({"learning_rate": "1e-3"}, r"a positive float or a pair"),
    ],
)
def test_each_bad_argument_gets_its_own_message(arguments, match):
    with pytest.raises(ValueError, match=r"^DepthSearch: .*" + match):
        kit.search.DepthSearch("dense", **arguments)


def test_valid_arguments_are_kept_as_given():
    depth = kit.search.DepthSearch(
        "dense", 0, 1, input_shape=[np.int64(8), 8, 1], learning_rate=[1e-4, 1e-2]
    )
    assert (depth.min_blocks, depth.max_blocks) == (0, 1)
    assert depth.input_shape == (8, 8, 1) and type(depth.input_shape[0]) is int
    assert depth.learning_rate == (1e-4, 1e-2)
    assert kit.search.DepthSearch("dense", learning_rate=np.float32(0.5)).learning_rate == 0.5


def test_bad_input_shape_and_learning_rate_are_errors():
    with pytest.raises(ValueError, match="`input_shape` must be a tuple of positive integers"):
        kit.search.DepthSearch("conv", input_shape=(0, 8, 1))
    with pytest.raises(ValueError, match="`learning_rate` must be a positive float or a pair"):
        kit.search.DepthSearch("conv", learning_rate=(1e-2, 1e-4))
