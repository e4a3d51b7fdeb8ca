"""SizeSearch: every trial trains at its own input size, through kit.resize."""

import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit
from tests.search.helpers import RecordingDepthSearch, digits


def test_each_trial_runs_at_its_own_input_size(tmp_path):
    train, validation = digits()
    depth = RecordingDepthSearch("conv", min_blocks=1, max_blocks=2, input_shape=(8, 8, 1))
    search = kit.search.SizeSearch(sizes=(8, 12, 16), mode="pad", hypermodel=depth)
    result = kit.search.tune(
        search, train, validation, strategy="random", max_trials=3, epochs=1,
        directory=tmp_path, seed=1,
    )  # fmt: skip
    sizes = [row["values"]["image_size"] for row in result.trials]
    assert len(set(sizes)) >= 2
    for trained, size in zip(depth.trained, sizes):
        assert trained["input_shape"] == (size, size, 1)
        assert trained["batch_shape"] == (size, size, 1)
    best = result.best_values["image_size"]
    assert result.best_model.input_shape == (None, best, best, 1)


def test_pipeline_resizes_augments_training_only_and_converts_colour():
    search = kit.search.SizeSearch(
        sizes=(16,),
        mode="crop",
        hypermodel=kit.search.DepthSearch("conv", 1, 1, input_shape=(8, 8, 3)),
        color_spaces=("rgb", "lab"),
        augment_strengths=(0.0, 0.2),
        seed=5,
    )
    hp = keras_tuner.HyperParameters()
    hp.values.update({"image_size": 16, "color_space": "lab", "augment_strength": 0.2})
    model = search.build(hp)
    assert model.input_shape == (None, 16, 16, 3)
    training = [type(t).__name__ for t in search.pipeline(hp, training=True)]
    assert training == ["Resize", "Augment", "ToLab"]
    assert [type(t).__name__ for t in search.pipeline(hp, training=False)] == ["Resize", "ToLab"]

    images = np.random.default_rng(0).integers(0, 256, (4, 10, 6, 3)).astype("uint8")
    data = tf.data.Dataset.from_tensor_slices((images, np.arange(4))).batch(4)
    validation = search._map(hp, data, "validation_data", training=False)
    batch, labels = next(iter(validation))
    expected = kit.to_lab(output_range="unit")(kit.resize(16, 16, mode="crop")(images))
    np.testing.assert_allclose(batch.numpy(), expected.numpy(), atol=1e-6)
    assert labels.numpy().tolist() == [0, 1, 2, 3]


def test_size_search_composes_with_searched_learning_rate_colour_and_augmentation(tmp_path):
    train, validation = digits(num_train=128, num_validation=64, channels=3)
    depth = RecordingDepthSearch("conv_bn", 1, 2, input_shape=(8, 8, 3), learning_rate=(1e-3, 1e-2))
    search = kit.search.SizeSearch(
        sizes=(8, 16), hypermodel=depth, color_spaces=("rgb", "hsv"), augment_strengths=(0, 0.1)
    )
    result = kit.search.tune(
        search, train, validation, strategy="random", max_trials=1, epochs=1,
        directory=tmp_path,
    )  # fmt: skip
    # One trial ran and was trained once (a loop over zero trials would check nothing).
    assert len(result.trials) == len(depth.trained) == 1
    for row, trained in zip(result.trials, depth.trained):
        assert {"image_size", "color_space", "augment_strength", "learning_rate"} <= set(
            row["values"]
        )
        assert trained["batch_shape"] == (row["values"]["image_size"],) * 2 + (3,)


def test_sizes_must_be_positive():
    with pytest.raises(
        ValueError, match=r"`sizes` must be a non-empty list of positive.*Remove \[0\]"
    ):
        kit.search.SizeSearch(sizes=(32, 0, 64))
    with pytest.raises(ValueError, match=r"`sizes`.*sizes=\(\)"):
        kit.search.SizeSearch(sizes=())


def test_colour_spaces_are_checked():
    with pytest.raises(
        ValueError, match=r"`color_spaces` must be None or a non-empty list of \['grayscale'"
    ):
        kit.search.SizeSearch(sizes=(8,), color_spaces=("cmyk",))
    with pytest.raises(ValueError, match="needs RGB images"):
        kit.search.SizeSearch(
            sizes=(8,),
            hypermodel=kit.search.DepthSearch("conv", input_shape=(8, 8, 1)),
            color_spaces=("lab",),
        )


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"sizes": 0}, r"Received: sizes=0\. Remove \[0\], or pass e\.g\. sizes=\(28,"),
        ({"sizes": (32, True, 8.0)}, r"Remove \[True, 8\.0\], or pass"),
        ({"sizes": "32"}, r"`sizes` must be a non-empty list of positive integers \(pixels\)"),
        ({"color_spaces": ()}, r"`color_spaces` must be None or a non-empty list of \['gray"),
        ({"color_spaces": "cmyk"}, r"Remove \['cmyk'\], or pass e\.g\. color_spaces=\("),
        ({"color_spaces": ["rgb", None]}, r"Remove \[None\]"),
        ({"augment_strengths": ()}, r"`augment_strengths` must be None or a non-empty list"),
        ({"augment_strengths": (0, 1.5)}, r"of floats in \[0, 1\]\. .*Remove \[1\.5\]"),
        ({"augment_strengths": float("nan")}, r"Remove \[nan\], or pass e\.g\."),
        ({"augment_strengths": [False]}, r"Remove \[False\]"),
    ],
)
def test_each_bad_list_names_what_to_remove(arguments, match):
    with pytest.raises(ValueError, match=r"^SizeSearch: .*" + match):
        kit.search.SizeSearch(**{"sizes": (8,), **arguments})


def test_one_value_or_any_sequence_stands_for_a_list():
    search = kit.search.SizeSearch(
        sizes=range(16, 40, 8), color_spaces="lab", augment_strengths=np.array([0, 0.5])
    )
    assert search.sizes == (16, 24, 32)
    assert search.color_spaces == ["lab"]
    assert search.augment_strengths == [0.0, 0.5]
    single = kit.search.SizeSearch(sizes=np.int64(32), augment_strengths=0.1)
    assert single.sizes == (32,) and single.augment_strengths == [0.1]
    assert kit.search.SizeSearch(sizes=(8,)).color_spaces is None


def test_fit_needs_a_dataset():
    search = kit.search.SizeSearch(sizes=(8,))
    hp = keras_tuner.HyperParameters()
    hp.values["image_size"] = 8
    with pytest.raises(TypeError, match="`x` must be a tf.data.Dataset"):
        search.fit(hp, None, np.zeros((2, 8, 8, 3)))
