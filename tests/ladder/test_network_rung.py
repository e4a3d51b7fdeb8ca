"""The ladder's network rung (`reference_cnn`) and the evidence and refit rules of "auto"."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_accuracy_kit.ladder import accuracy_ladder, few_shot_digits, reference_cnn
from keras_accuracy_kit.ladder.rungs import (
    RUNGS,
    Augmentation,
    Config,
    Depth,
    InputScale,
    MoreEpochs,
    Network,
)


def _ladder(tmp_path, model, budget=None, folds="auto", refit="auto", per_class=3):
    train, validation = few_shot_digits(per_class=per_class, seed=0)[:2]
    return accuracy_ladder._Ladder(
        model=model, train=train, validation=validation, tricks="auto", budget=budget,
        logdir=str(tmp_path), directory=None, epochs=1, backbone=None, batch_size=32,
        min_delta="auto", class_names=None, refit=refit, folds=folds, ensemble=False,
        tta=False, seed=0, verbose=0,
    )  # fmt: skip


def _dense(input_shape, num_classes):
    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(num_classes)]
    )


def test_reference_cnn_is_batchnorm_blocks_and_global_pooling():
    model = reference_cnn((32, 32, 3), num_classes=6, depth=3)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 3 and kinds.count("BatchNormalization") == 3
    assert kinds.count("MaxPooling2D") == 3 and "GlobalAveragePooling2D" in kinds
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [32, 64, 128]
    assert model.output_shape == (None, 6)
    assert model.compiled and model.loss == "sparse_categorical_crossentropy"
    # Pooling stops at 2x2: deep variants still build on 8x8 images.
    deep = reference_cnn((8, 8, 1), num_classes=10, depth=5)
    assert sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in deep.layers) == 2
    probabilities = deep.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def test_reference_cnn_predicts_as_well_on_inputs_in_0_1_as_in_0_16():
    """Inference-mode accuracy does not depend on the input scale: with Keras' default
    batch-norm momentum (0.99) the moving variance, initialised at 1, is still far from
    that of [0, 1] inputs after 240 updates and the model predicts near chance (0.15)."""
    (train_images, train_labels), (val_images, val_labels), _ = few_shot_digits(10, seed=0)
    accuracies = []
    for scale in (1.0, 16.0):
        keras.utils.set_random_seed(0)
        model = reference_cnn((8, 8, 1), num_classes=10)
        model.fit(train_images / 16 * scale, train_labels, epochs=60, batch_size=32, verbose=0)
        predicted = model.predict(val_images / 16 * scale, verbose=0).argmax(-1)
        accuracies.append(float(np.mean(predicted == val_labels)))
    assert min(accuracies) >= 0.8, accuracies
    assert abs(accuracies[0] - accuracies[1]) <= 0.08, accuracies


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"depth": 0}, "`depth` must be an int >= 1"),
        ({"depth": True}, "`depth` must be an int >= 1"),
        ({"width": 0}, "`width` must be an int >= 1"),
        ({"num_classes": 1}, "`num_classes` must be an int >= 2"),
        ({"dropout": 1.0}, r"`dropout` must be a float in \[0, 1\)"),
        ({"input_shape": (8, 8)}, "`input_shape` must be"),
    ],
)
def test_reference_cnn_checks_its_arguments(arguments, match):
    with pytest.raises(ValueError, match=match):
        reference_cnn(**{"input_shape": (8, 8, 1), "num_classes": 10, **arguments})


def test_the_network_rung_comes_first_and_replaces_the_model(tmp_path):
    assert RUNGS[0].name == "network"
    ladder = _ladder(tmp_path, _dense, folds=1)
    base = Config(epochs=1)
    candidates = Network().candidates(ladder, base)
    change, config = next(candidates)
    assert ladder._guarded is None  # the guard runs only if the network alone did not pay
    ladder._guarded = ({"rotation_range": 10}, ["horizontal_flip"])  # what the guard kept
    augmented_change, augmented, note = next(candidates)
    # Alone first, then trained with the guarded augmentation too.
    assert augmented == Config(
        epochs=1, network="reference", progressive=True, augment={"rotation_range": 10}
    )
    assert "rotation_range=10" in augmented_change and note == "guard removed horizontal_flip"
    assert config.network == "reference" and config.progressive and not config.augment
    assert "reference_cnn" in change
    ladder._guarded = ({}, list(ladder._guarded[0]))  # nothing left to augment with
    assert [c[1] for c in Network().candidates(ladder, base)] == [config]
    model = ladder._model(config)
    assert model.name == "reference_cnn_depth3"
    assert model.loss == "sparse_categorical_crossentropy"  # the data's labels are sparse
    # The depth rung then deepens the reference network, not your build function.
    assert Depth().skip_reason(ladder, base) == "needs a build function with a `depth` argument"
    (_, deeper), = Depth().candidates(ladder, config)
    assert deeper.depth == 4 and ladder._model(deeper).name == "reference_cnn_depth4"
    # "More epochs" has nothing to add to a configuration that already has them.
    assert MoreEpochs().skip_reason(ladder, config) is not None
    assert MoreEpochs().skip_reason(ladder, base) is None
    # Nor the input scale to a network that normalizes after its first convolution.
    assert InputScale().skip_reason(ladder, config) is not None
    assert InputScale().skip_reason(ladder, base) is None
    # Augmentation has nothing to add to an augmented configuration.
    assert Augmentation().skip_reason(ladder, augmented) is not None
    # Transfer learning replaces the network: nothing to compare.
    assert Network().skip_reason(ladder, Config(epochs=1, transfer=True)) is not None


def test_a_model_instance_also_gets_the_reference_network(tmp_path):
    model = _dense((8, 8, 1), 10)
    model.compile("sgd", "sparse_categorical_crossentropy")
    ladder = _ladder(tmp_path, model, folds=1)
    reference = ladder._model(Config(epochs=1, network="reference"))
    assert reference.name.startswith("reference_cnn")
    assert isinstance(reference.optimizer, keras.optimizers.Adam)  # the recipe's, not yours
    assert isinstance(ladder._model(Config(epochs=1)).optimizer, keras.optimizers.SGD)


@pytest.mark.parametrize(
    "budget, folds",
    [(None, 3), (200, 3), ("4min", 1), ("299s", 1), ("5min", 3), ("1h", 3)],
)
def test_auto_folds_need_a_budget_that_affords_them(tmp_path, budget, folds):
    # 30 validation images: cross-validation unless a short time budget rules it out.
    assert _ladder(tmp_path, _dense, budget=budget).evidence.num_folds == folds


def test_auto_refit_when_the_validation_set_is_data_that_counts(tmp_path):
    assert _ladder(tmp_path, _dense).refit  # cross-validation: always
    assert _ladder(tmp_path, _dense, folds=1).refit  # 30 validation / 30 training images
    assert not _ladder(tmp_path, _dense, folds=1, refit=False).refit
    ladder = _ladder(tmp_path, _dense, folds=1)
    ladder.facts = dataclasses.replace(
        ladder.facts, num_train=10 * ladder.facts.num_validation + 1
    )
    assert not ladder._refit_pays()  # validation under a tenth of the training set


@pytest.mark.parametrize("folds", [1, 3])
def test_the_network_rung_trains_on_one_hot_labels(tmp_path, folds):
    import keras_accuracy_kit as kit

    (x, y), (vx, vy) = few_shot_digits(per_class=3, seed=0)[:2]
    result = kit.improve(
        _dense, (x, keras.utils.to_categorical(y, 10)), (vx, keras.utils.to_categorical(vy, 10)),
        tricks=["network"], epochs=1, budget=60, folds=folds, ensemble=False, tta=False,
        refit=False, logdir=str(tmp_path), verbose=0,
    )  # fmt: skip
    network = result.steps[1]
    assert network.name == "network" and network.val_accuracy is not None
    assert network.epochs >= 20  # its own progressive epochs: a first stage of 20
    probabilities = result.best_model.predict(vx, verbose=0)
    assert probabilities.shape == (len(vx), 10)
    if network.kept:
        assert any("reference_cnn" in layer.name for layer in result.best_model.layers) or (
            result.best_model.name.startswith("reference_cnn")
        )
    if folds == 1:  # judged on your split: the table's accuracy is the best model's
        assert result.best_accuracy == pytest.approx(np.mean(probabilities.argmax(-1) == vy))


def test_hparams_show_the_values_in_effect_not_zero(tmp_path):
    from keras_accuracy_kit.ladder import tutorial_cnn

    ladder = _ladder(tmp_path, tutorial_cnn, folds=1)
    baseline = ladder._hparams(Config(epochs=1))
    assert (baseline["depth"], baseline["image_size"], baseline["network"]) == (2, 8, "yours")
    resized = ladder._hparams(Config(epochs=1, image_size=16, depth=3))
    assert (resized["depth"], resized["image_size"]) == (3, 16)
    reference = ladder._hparams(Config(epochs=1, network="reference"))
    assert (reference["depth"], reference["network"]) == (3, "reference")  # reference_cnn's
    # A build function without `depth`: nothing to show.
    assert _ladder(tmp_path, _dense, folds=1)._hparams(Config(epochs=1))["depth"] == 0
