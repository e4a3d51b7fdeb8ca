"""SizeSearch on float images in [0, 255] (Keras' `image_dataset_from_directory` data)."""

import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

import keras_accuracy_kit as kit


def _search(**kwargs):
    return kit.search.SizeSearch(
        sizes=(12,),
        hypermodel=kit.search.DepthSearch("conv", 1, 1, input_shape=(8, 8, 3)),
        color_spaces=("hsv",),
        **kwargs,
    )


def _hp():
    hp = keras_tuner.HyperParameters()
    hp.values.update({"image_size": 12, "color_space": "hsv"})
    return hp


def test_float_0_255_images_are_read_with_value_range():
    images = np.random.default_rng(0).uniform(0, 255, (4, 10, 6, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, np.arange(4))).batch(4)
    search = _search(value_range=(0, 255))
    batch, _ = next(iter(search._map(_hp(), data, "validation_data", training=False)))
    # The reference: the same images as uint8-range floats scaled to [0, 1] first.
    expected = kit.to_hsv()(kit.resize(12, 12, mode="pad")(images / 255.0))
    np.testing.assert_allclose(batch.numpy(), expected.numpy(), atol=1e-5)
    assert search.get_config()["value_range"] == [0.0, 255.0]


def test_without_value_range_0_255_floats_fail_naming_it():
    images = np.full((2, 10, 6, 3), 200.0, "float32")
    data = tf.data.Dataset.from_tensor_slices((images, np.arange(2))).batch(2)
    mapped = _search()._map(_hp(), data, "x", training=False)
    with pytest.raises(Exception, match="value_range"):
        next(iter(mapped))


def test_bad_value_range_is_refused_at_construction():
    with pytest.raises(ValueError, match=r"SizeSearch: `value_range` must be a pair"):
        _search(value_range=(5, 5))
