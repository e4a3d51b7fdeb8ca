"""The benchmark scripts run (in a quick mode) and end with their `name=value` ratio line."""

import re

from tests.conftest import load_script


def test_bench_transforms_quick_run_prints_ratios(capsys):
    ratios = load_script("benchmarks", "bench_transforms").main(["--quick"])
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    pairs = dict(pair.split("=") for pair in last_line.split())
    assert (
        sorted(pairs)
        == sorted(ratios)
        == sorted(
            [
                "lab_vs_skimage",
                "lab_vs_cast_floor",
                "resize_vs_stretch_per_image",
                "resize_vs_stretch_batched",
                "resize_vs_keras_pad_per_image",
                "resize_vs_keras_pad_batched",
            ]
        )
    )
    assert all(re.fullmatch(r"\d+\.\d\d", value) and float(value) > 0 for value in pairs.values())


def test_bench_callbacks_quick_run_prints_the_ratio(capsys):
    ratios = load_script("benchmarks", "bench_callbacks").main(["--quick"])
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    name, value = last_line.split("=")
    assert name == "fit_with_kit_callbacks" and list(ratios) == [name]
    assert float(value) > 0


def test_bench_history_quick_run_prints_the_ratio(capsys):
    ratios = load_script("benchmarks", "bench_history").main(["--quick"])
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    name, value = last_line.split("=")
    assert name == "fit_with_checkpoint_on_change" and list(ratios) == [name]
    assert float(value) > 0


def test_bench_augment_quick_run_prints_ratios(capsys):
    ratios = load_script("benchmarks", "bench_augment").main(["--quick"])
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    pairs = dict(pair.split("=") for pair in last_line.split())
    expected = ["fit_with_vs_without"]
    for size in (224, 32):
        expected += [
            f"vs_keras_layers_{size}_batched",
            f"vs_keras_layers_{size}_per_image",
            f"vs_keras_layers_{size}_batched_map",
            f"vs_keras_layers_{size}_per_image_map",
            f"vs_one_resampling_{size}",
            f"vs_cast_floor_{size}",
        ]
    assert sorted(pairs) == sorted(ratios) == sorted(expected)
    assert all(re.fullmatch(r"\d+\.\d\d", value) and float(value) > 0 for value in pairs.values())


def test_bench_accuracy_quick_run_prints_the_ratios(capsys):
    ratios = load_script("benchmarks", "bench_accuracy").main(["--quick"])
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    pairs = dict(pair.split("=") for pair in last_line.split())
    assert (
        sorted(pairs)
        == sorted(ratios)
        == sorted(
            [
                "kit_test_accuracy",
                "keras_test_accuracy",
                "naive_test_accuracy",
                "kit_norefit_test_accuracy",
                "kit_time_vs_keras",
            ]
        )
    )
    assert all(0 < float(value) for value in pairs.values())
    assert 0 <= ratios["kit_test_accuracy"] <= 1
