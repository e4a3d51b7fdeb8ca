"""`print(result)` and `print(step)` give one short line each, not the whole object."""

import keras

from keras_accuracy_kit.ladder.result import ImproveResult, Step


def steps():
    return [
        Step("baseline", "your model as it is", 0.9721, None, True, 10, 10.1, version=1),
        Step(
            "augment", "kit.augment", 0.9750, 0.0028, False, 20, 12.34,
            version=2, low=-0.002, high=0.008, note="x" * 500,
        ),
        Step("color", "colour space lab", None, None, False, 0, 0.0, note="grayscale data"),
    ]


def test_step_repr_is_one_line_with_accuracy_gain_interval_and_kept():
    baseline, augment, color = steps()
    assert repr(baseline) == (
        "Step('baseline', accuracy=0.9721, kept=yes, epochs=10, 10.1s, version=1)"
    )
    assert repr(augment) == (
        "Step('augment', accuracy=0.9750, gain=+0.0028 [-0.002, +0.008], kept=no, "
        "epochs=20, 12.3s, version=2)"
    )
    assert repr(color) == "Step('color', kept=no, epochs=0, 0.0s)"


def test_improve_result_repr_names_the_kept_steps_and_the_time_not_the_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    result = ImproveResult(
        best_model=model, best_accuracy=0.97214, best_transforms=[], steps=steps(),
        logdir="runs/demo", directory="runs/demo/history", evidence="359 images",
        seconds=115.2, budget_seconds=120.0,
    )
    text = str(result)
    assert text == (
        "ImproveResult(best_accuracy=0.9721, steps=3, kept=[baseline], "
        "time=115s of a 120s budget, logdir='runs/demo')"
    )
    assert "\n" not in text and "Sequential" not in text
    result.budget_seconds = None
    assert "time=115s, logdir" in repr(result)
