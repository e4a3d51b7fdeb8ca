"""DiscriminativeOptimizer: one step equals plain optimizers at the scaled rates."""

import keras
import numpy as np
import pytest

from keras_accuracy_kit.transfer import DiscriminativeOptimizer


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="body")(inputs)
    outputs = keras.layers.Dense(2, name="head")(hidden)
    return keras.Model(inputs, outputs)


def _data():
    rng = np.random.default_rng(0)
    return rng.random((8, 4)).astype("float32"), rng.random((8, 2)).astype("float32")


def _one_step(model, optimizer):
    model.compile(optimizer, "mse")
    before = {w.path: w.numpy().copy() for w in model.weights}
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0, shuffle=False)
    return {w.path: w.numpy() - before[w.path] for w in model.weights}


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_one_step_matches_plain_optimizers_at_the_scaled_rates(name):
    model = _model()
    initial = model.get_weights()
    multipliers = {v.path: 0.1 for v in model.get_layer("body").weights}
    discriminative = _one_step(
        model,
        DiscriminativeOptimizer(
            keras.optimizers.get({"class_name": name, "config": {"learning_rate": 0.5}}),
            multipliers,
        ),
    )
    for rate, layer in ((0.5, "head"), (0.05, "body")):
        reference = _model()
        reference.set_weights(initial)
        plain = _one_step(
            reference, keras.optimizers.get({"class_name": name, "config": {"learning_rate": rate}})
        )
        for weight in reference.get_layer(layer).weights:
            np.testing.assert_allclose(
                discriminative[weight.path], plain[weight.path], rtol=1e-5, atol=1e-7
            )


def test_setting_the_learning_rate_keeps_the_ratios_and_survives_saving(tmp_path):
    model = _model()
    optimizer = DiscriminativeOptimizer(
        keras.optimizers.SGD(0.5), {v.path: 0.1 for v in model.get_layer("body").weights}
    )
    _one_step(model, optimizer)
    optimizer.learning_rate = 0.2
    rates = sorted(float(group.learning_rate) for group in optimizer._groups.values())
    np.testing.assert_allclose(rates, [0.02, 0.2], rtol=1e-6)
    assert float(optimizer.learning_rate) == pytest.approx(0.2)
    assert int(optimizer.iterations) == 1
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(restored.optimizer, DiscriminativeOptimizer)
    assert restored.optimizer.lr_multipliers == optimizer.lr_multipliers
    assert float(restored.optimizer.learning_rate) == pytest.approx(0.2)
    restored.fit(*_data(), epochs=1, verbose=0)


def test_keras_reduce_lr_on_plateau_lowers_every_group():
    model = _model()
    optimizer = DiscriminativeOptimizer(
        keras.optimizers.SGD(0.5), {v.path: 0.1 for v in model.get_layer("body").weights}
    )
    model.compile(optimizer, "mse")
    callback = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=0, min_delta=10
    )
    model.fit(*_data(), epochs=2, verbose=0, callbacks=[callback])
    rates = sorted(float(group.learning_rate) for group in optimizer._groups.values())
    # Epoch 1 sets the best, epoch 2 misses it by `min_delta`: one halving.
    np.testing.assert_allclose(rates, [0.025, 0.25], rtol=1e-6)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (
            {
                "optimizer": keras.optimizers.SGD(
                    keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
                ),
                "lr_multipliers": {},
            },
            "float learning rate",
        ),
        ({"optimizer": "sgd", "lr_multipliers": [("a", 0.1)]}, "must be a dict"),
        ({"optimizer": "sgd", "lr_multipliers": {"a": 0}}, "positive factors"),
        ({"optimizer": "sgd", "lr_multipliers": {"a": "x"}}, "positive factors"),
    ],
)
def test_bad_arguments_say_what_and_how(arguments, match):
    with pytest.raises(ValueError, match=match):
        DiscriminativeOptimizer(**arguments)
