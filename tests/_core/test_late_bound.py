import pytest

from keras_accuracy_kit._core import late_bound


def test_a_registered_function_is_called_with_the_arguments():
    late_bound.register("tests.fake_module.add", lambda a, b=0: a + b)
    assert late_bound.call("tests.fake_module.add", "Owner.method", 2, b=3) == 5


def test_a_missing_registration_names_the_module_to_import():
    with pytest.raises(
        RuntimeError,
        match=r"Owner\.method: needs `tests\.nowhere\.f`, which `tests\.nowhere` registers",
    ):
        late_bound.call("tests.nowhere.f", "Owner.method")


def test_the_kit_registers_what_its_lower_layers_call():
    import keras_accuracy_kit  # noqa: F401  (the facade imports every registering module)

    for name in (
        "keras_accuracy_kit.transforms.invariance.check_invariance",
        "keras_accuracy_kit.transforms.invariance.without_flagged_steps",
        "keras_accuracy_kit.reporting.previews.write_augment_preview",
        "keras_accuracy_kit.reporting.previews.write_invariance_report",
    ):
        module, function = name.rsplit(".", 1)
        assert late_bound._FUNCTIONS[name].__module__ == module
        assert late_bound._FUNCTIONS[name].__name__ == function
