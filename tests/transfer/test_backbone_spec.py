"""Named keras.applications backbones and their spec registry (weights=None: no downloads)."""

import numpy as np
import pytest

import keras_accuracy_kit as kit


def test_list_backbones_names_the_registry_sorted():
    assert kit.transfer.list_backbones() == ["efficientnet_b0", "mobilenet_v2", "resnet50"]
    for name, spec in kit.transfer.BACKBONES.items():
        assert spec.name == name and spec.channels == 3 and spec.input_size == (224, 224)


def test_an_unknown_backbone_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"known backbones \['efficientnet_b0', 'mobilenet_v2', 'resnet50'\]"
    ):
        kit.transfer.backbone("vgg16", weights=None)


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenet_v2", "resnet50"])
def test_backbone_builds_frozen_with_the_spec_feature_size(name):
    spec = kit.transfer.get_backbone_spec(name)
    model = kit.transfer.backbone(name, weights=None, input_shape=(32, 32, 3))
    assert model.output_shape == (None, spec.num_features)
    assert not model.trainable and model.trainable_weights == []
    images = spec.preprocess(np.full((1, 32, 32, 3), 255.0, "float32"))
    assert model(images).shape == (1, spec.num_features)


def test_preprocess_follows_the_spec_value_range():
    resnet = kit.transfer.get_backbone_spec("resnet50")
    # caffe mode: RGB -> BGR, minus the ImageNet means (103.939, 116.779, 123.68).
    pixel = np.array([[[[255.0, 0.0, 0.0]]]], "float32")
    np.testing.assert_allclose(
        np.asarray(resnet.preprocess(pixel))[0, 0, 0], [-103.939, -116.779, 131.32], atol=1e-3
    )


def test_backbone_checks_its_arguments():
    with pytest.raises(ValueError, match=r"`pooling` must be 'avg', 'max' or None"):
        kit.transfer.backbone("mobilenet_v2", weights=None, pooling="mean")
