"""GeneratedSamples: per-class grids of a GAN's samples in TensorBoard, one per epoch."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from keras_accuracy_kit.reporting import GeneratedSamples, image_grid
from keras_accuracy_kit.reporting.generated_samples import TAG
from tests.generative.test_conditional_gan import tiny_data, tiny_gan


def written_grids(logdir):
    events = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    grids = {}
    for event in events.Tensors(TAG):
        png = event.tensor_proto.string_val[2]  # width, height, then the encoded image
        grids[event.step] = tf.io.decode_png(png).numpy()
    return grids


def test_each_epoch_writes_the_per_class_rows_of_the_generator_as_it_is(tmp_path):
    images, labels = tiny_data(count=24)  # 3 classes
    gan = tiny_gan(value_range=(0.0, 1.0))
    gan.compile()
    samples = GeneratedSamples(tmp_path, per_class=4, seed=5, class_names=["a", "b", "c"])
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    gan.fit(data, epochs=2, callbacks=[samples], verbose=0)
    grids = written_grids(tmp_path)
    assert sorted(grids) == [0, 1] == samples.steps
    # The last grid is the EMA generator's images, row c = class c, from the seeded noise:
    # rebuilt here from `generate` and `image_grid` alone.
    generated = gan.generate(np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]), seed=5).numpy()
    rows = [generated[0:4], generated[4:8], generated[8:12]]
    expected = image_grid(rows, cell_size=(48, 48))[0].numpy()
    np.testing.assert_allclose(grids[1] / 255.0, expected, atol=1 / 255 + 1e-6)
    assert grids[1].shape == expected.shape  # 3 rows of 4 cells
    assert not np.array_equal(grids[0], grids[1])  # training changed the generator


def test_every_writes_every_nth_epoch_and_the_last(tmp_path):
    images, labels = tiny_data(count=9)
    gan = tiny_gan()
    gan.compile()
    samples = GeneratedSamples(tmp_path, per_class=2, every=2)
    gan.fit(images, labels, batch_size=9, epochs=3, callbacks=[samples], verbose=0)
    assert sorted(written_grids(tmp_path)) == [1, 2]


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"per_class": 0}, ValueError, r"`per_class` must be a positive integer.*per_class=8"),
        ({"every": 1.5}, ValueError, r"`every` must be a positive integer"),
        ({"seed": None}, ValueError, r"`seed`"),
        ({"class_names": "abc"}, ValueError, r"`class_names`"),
        ({"logdir": ""}, TypeError, r"`logdir`"),
    ],
)
def test_bad_arguments_say_what_and_how(tmp_path, arguments, error, match):
    full = {"logdir": str(tmp_path)} | arguments
    with pytest.raises(error, match=match):
        GeneratedSamples(**full)


def test_a_model_that_is_not_a_conditional_generator_is_refused_at_train_begin(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match=r"class-conditional generator.*'generate'"):
        model.fit(
            np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0,
            callbacks=[GeneratedSamples(tmp_path)],
        )  # fmt: skip


def test_class_names_must_name_every_class(tmp_path):
    images, labels = tiny_data(count=9)
    gan = tiny_gan()
    gan.compile()
    with pytest.raises(ValueError, match=r"2 names for 3 classes"):
        gan.fit(
            images, labels, epochs=1, verbose=0,
            callbacks=[GeneratedSamples(tmp_path, class_names=["a", "b"])],
        )  # fmt: skip
