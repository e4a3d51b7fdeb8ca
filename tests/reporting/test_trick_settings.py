"""Tricks and their non-default settings, as HParams."""

import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting.trick_settings import hparam_value, snake_case, trick_settings


@pytest.mark.parametrize(
    "tricks, names, settings",
    [
        ([], [], {}),
        ([kit.callbacks.ProgressiveEpochs()], ["progressive_epochs"], {}),
        (
            [kit.callbacks.ProgressiveEpochs(initial_epochs=5, extension=[5, 10])],
            ["progressive_epochs"],
            {"progressive_epochs.initial_epochs": 5, "progressive_epochs.extension": "[5, 10]"},
        ),
        (
            [kit.callbacks.ReduceLROnPlateau(factor=0.5, backup_dir="/tmp/x", verbose=1)],
            ["reduce_lr_on_plateau"],
            {"reduce_lr_on_plateau.factor": 0.5},  # bookkeeping arguments left out
        ),
        (
            [kit.augment(rotation_range=10, horizontal_flip=True, seed=3)],
            ["augment"],
            {"augment.rotation_range": 10, "augment.horizontal_flip": True, "augment.seed": 3},
        ),
        (
            [kit.to_grayscale(keep_channels=3), kit.to_grayscale()],
            ["to_grayscale", "to_grayscale_2"],
            {"to_grayscale.keep_channels": 3},
        ),
    ],
)
def test_trick_settings_table(tricks, names, settings):
    assert trick_settings(tricks) == (settings, names)


def test_a_class_with_required_arguments_keeps_all_settings():
    settings, names = trick_settings([kit.resize(32, 48, mode="crop")])
    assert names == ["resize"]
    assert settings["resize.height"] == 32 and settings["resize.width"] == 48
    assert settings["resize.mode"] == "crop" and settings["resize.interpolation"] == "bilinear"


def test_checkpoint_on_change_contributes_its_data_config_and_hparams(tmp_path):
    augment = kit.augment(zoom_range=0.1)
    checkpoint = kit.callbacks.CheckpointOnChange(
        tmp_path, hparams={"batch_size": 32}, data_config=[augment]
    )
    settings, names = trick_settings([checkpoint])
    assert names == ["augment"]
    assert settings == {"augment.zoom_range": 0.1, "batch_size": 32}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("LRFinder", "lr_finder"),
        ("ToLab", "to_lab"),
        ("CheckpointOnChange", "checkpoint_on_change"),
    ],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


def test_hparam_value_of_a_dict_is_sorted_json():
    assert hparam_value({"b": 1, "a": (2, 3)}) == '{"a": [2, 3], "b": 1}'
