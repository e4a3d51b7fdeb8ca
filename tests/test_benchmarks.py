"""The benchmark scripts run (in a quick mode) and end with their `name=value` ratio line."""

import json
import re

import numpy as np
import pytest

from tests.conftest import load_script


def checks(output):
    """The `check <what>: max |kit - reference| = d <= atol` lines a benchmark printed."""
    found = re.findall(r"^check (.+): max \|kit - reference\| = (\S+) <= (\S+)$", output, re.M)
    for what, difference, atol in found:
        assert float(difference) <= float(atol), what
    return [what for what, _, _ in found]


def test_check_equal_stops_a_benchmark_whose_output_is_wrong(capsys):
    timing = load_script("benchmarks", "timing")
    assert timing.check_equal("same", np.ones(3), np.ones(3), 1e-6) == 0.0
    with pytest.raises(ValueError, match=r"wrong: .*must equal the reference.*= 0\.5 > atol"):
        timing.check_equal("wrong", np.ones(3), np.ones(3) + 0.5, 1e-3)
    with pytest.raises(ValueError, match="must equal the reference"):
        timing.check_equal("nan", [np.nan], [0.0], 1e-3)
    with pytest.raises(ValueError, match="shape"):
        timing.check_equal("shape", np.ones(3), np.ones(4), 1e-3)
    assert checks(capsys.readouterr().out) == ["same"]


def test_bench_transforms_quick_run_prints_ratios(capsys):
    ratios = load_script("benchmarks", "bench_transforms").main(["--quick"])
    output = capsys.readouterr().out
    assert checks(output) == [
        "kit.to_lab vs skimage.color.rgb2lab",
        "kit.resize(pad) batched vs resize + pad",
        "kit.resize(pad) per image vs resize + pad",
    ]
    last_line = output.strip().splitlines()[-1]
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
    output = capsys.readouterr().out
    assert checks(output) == [
        "kit vs keras ReduceLROnPlateau: loss",
        "kit vs keras ReduceLROnPlateau: val_loss",
        "kit vs keras ReduceLROnPlateau: learning_rate",
        "ProgressiveEpochs restored val_accuracy vs the best epoch's",
    ]
    last_line = output.strip().splitlines()[-1]
    name, value = last_line.split("=")
    assert name == "fit_with_kit_callbacks" and list(ratios) == [name]
    assert float(value) > 0


def test_bench_history_quick_run_prints_the_ratio(capsys):
    ratios = load_script("benchmarks", "bench_history").main(["--quick"])
    output = capsys.readouterr().out
    assert checks(output) == ["History best model vs keras ModelCheckpoint(save_best_only)"]
    last_line = output.strip().splitlines()[-1]
    name, value = last_line.split("=")
    assert name == "fit_with_checkpoint_on_change" and list(ratios) == [name]
    assert float(value) > 0


def test_bench_augment_quick_run_prints_ratios(capsys):
    ratios = load_script("benchmarks", "bench_augment").main(["--quick"])
    output = capsys.readouterr().out
    assert checks(output) == [
        f"{what} {size}x{size} vs {reference}"
        for size in (224, 32)
        for what, reference in (
            ("kit.augment", "the same on TensorFlow's kernels"),
            ("kit apply_projective", "ImageProjectiveTransformV3"),
        )
    ]
    last_line = output.strip().splitlines()[-1]
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
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    bench = load_script("benchmarks", "bench_accuracy")
    ratios = bench.main(["--quick"])
    output = capsys.readouterr().out
    last_line = output.strip().splitlines()[-1]
    pairs = dict(pair.split("=") for pair in last_line.split())
    tasks = {"digits": 16.0, "scenes": 255.0, "textures": 255.0}  # pixel value ranges
    contenders = ["naive", "keras", "hand", "svm", "kit"]
    summaries = [
        "best_other", "kit_minus_best_other", "kit_time_vs_hand", "kit_with_test_time_vs_hand"
    ]
    expected = [f"{task}_{name}" for task in tasks for name in contenders + summaries]
    assert sorted(pairs) == sorted(ratios) == sorted(expected)
    for key, value in pairs.items():
        decimals = 2 if key.endswith("_time_vs_hand") else 4
        assert re.fullmatch(rf"-?\d+\.\d{{{decimals}}}", value), (key, value)
        assert float(value) == pytest.approx(ratios[key], abs=0.51 * 10**-decimals)
    for task, max_value in tasks.items():
        train, validation, test = bench.TASKS[task].splits(0, True)  # --quick: seed 0
        accuracies = {name: ratios[f"{task}_{name}"] for name in contenders}
        for name, accuracy in accuracies.items():
            assert 0 <= accuracy <= 1
            # one seed: a count of correct test images over the test set's size
            assert accuracy * len(test[1]) == pytest.approx(round(accuracy * len(test[1])))
            row = re.search(rf"^  {name} +(\d\.\d{{4}}) ", section(output, task), re.M)
            assert float(row.group(1)) == pytest.approx(accuracy, abs=5.1e-5)
        best_other = max(accuracy for name, accuracy in accuracies.items() if name != "kit")
        assert ratios[f"{task}_best_other"] == best_other
        assert ratios[f"{task}_kit_minus_best_other"] == pytest.approx(
            accuracies["kit"] - best_other
        )
        assert 0 < ratios[f"{task}_kit_time_vs_hand"]
        assert ratios[f"{task}_kit_with_test_time_vs_hand"] > 0
        # The SVM, recomputed with scikit-learn alone: fit on train + validation, pixels in
        # [0, 1], C and gamma (multiples of the "scale" gamma) by stratified 5-fold search.
        images = np.concatenate([train[0], validation[0]])
        images = images.reshape(len(images), -1) / max_value
        labels = np.concatenate([train[1], validation[1]])
        scale = 1.0 / (images.shape[1] * images.var())
        search = GridSearchCV(
            SVC(),
            {"C": [1.0, 10.0, 100.0], "gamma": [0.3 * scale, scale, 3 * scale]},
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
        ).fit(images, labels)
        predictions = search.predict(test[0].reshape(len(test[0]), -1) / max_value)
        assert accuracies["svm"] == pytest.approx(accuracy_score(test[1], predictions))
    assert ratios["digits_svm"] > 0.8  # chance is 0.1


def section(output, task):
    """The part of the benchmark's output that belongs to `task`'s table."""
    return output.split(f"\n{task}: ", 1)[1].split("\n\n", 1)[0]


def test_bench_transfer_quick_run_checks_agreement_and_prints_the_ratios(capsys):
    ratios = load_script("benchmarks", "bench_transfer").main(["--quick"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("max |head(cached features) - classifier(images)| = ")
    pairs = dict(pair.split("=") for pair in lines[-1].split())
    assert sorted(pairs) == sorted(ratios) == [
        "caching_vs_backbone_epoch",
        "head_epoch_cached_vs_backbone",
    ]
    assert all(re.fullmatch(r"\d+\.\d\d", value) and float(value) > 0 for value in pairs.values())


def test_bench_safe_load_quick_run_checks_outputs_then_prints_the_ratios(capsys):
    script = load_script("benchmarks", "bench_safe_load")
    ratios = script.main(["--quick"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == (
        "outputs equal: safe_mode=True and safe_mode=False give the original outputs"
    )
    assert [line.split(", ", 1)[1].rsplit(" ", 2)[0].strip() for line in lines[1:-1]] == [
        "keras safe_mode=True",
        "keras safe_mode=False",
        "check + tf.saved_model.load",
        "tf.saved_model.load",
        "check alone",
    ]
    pairs = dict(pair.split("=") for pair in lines[-1].split())
    assert sorted(pairs) == sorted(ratios) == [
        "keras_load_with_check",
        "savedmodel_load_vs_check_alone",
        "savedmodel_load_with_check",
    ]
    assert all(re.fullmatch(r"\d+\.\d\d\d", value) and float(value) > 0 for value in pairs.values())


def test_bench_safe_load_stops_when_the_outputs_differ():
    script = load_script("benchmarks", "bench_safe_load")

    class Model:
        def __init__(self, outputs):
            self.outputs = outputs

        def predict(self, data, verbose=0):
            return self.outputs

    expected = np.zeros((2, 3), "float32")
    script.check_same_outputs(expected, {"a": Model(expected.copy())}, data=None)
    with pytest.raises(ValueError, match=r"loaded b must give the original outputs.*0\.5"):
        models = {"a": Model(expected), "b": Model(expected + 0.5)}
        script.check_same_outputs(expected, models, data=None)


def test_bench_repeated_fit_quick_run_checks_and_prints_the_ratio(capsys):
    ratios = load_script("benchmarks", "bench_repeated_fit").main(["--quick"])
    output = capsys.readouterr().out
    assert checks(output) == ["same losses"]
    name, value = output.strip().splitlines()[-1].split("=")
    assert name == "repeated_fit_time" and list(ratios) == [name] and float(value) > 0


def test_bench_generative_rung_quick_run_reports_the_rung_s_decision(capsys, monkeypatch):
    from keras_accuracy_kit.ladder import generated_data

    monkeypatch.setattr(generated_data, "GAN_STEPS", 5)  # the decision, not the GANs' quality
    output = load_script("benchmarks", "bench_generative_rung").main(["--quick"])
    printed = capsys.readouterr().out
    (step,) = output["steps"]
    assert step is not None and step.val_accuracy is not None  # the rung trained
    verdict = "kept" if step.kept else "not kept"
    assert f"  {verdict}: gain {step.delta:+.3f}" in printed
    figures = output["figures"]
    assert figures["kept"] == int(step.kept)
    assert figures["generative_minus_without"] == pytest.approx(
        figures["with_generative"] - figures["without_generative"], abs=2e-4
    )
    assert printed.strip().splitlines()[-1].startswith("with_generative=")


def test_bench_distributed_ladder_timeline_tells_where_the_time_went(tmp_path, capsys):
    # Hand-made records: step a (w0, 0-4 s, asked at 0), step b (w1, 1-7 s, asked at 5),
    # step c trained ahead and never asked (w1, 7.5-8 s); times offset by 1000 s.
    def step(key, worker, started, finished):
        folder = tmp_path / "steps" / key
        folder.mkdir(parents=True)
        payload = {"tuner_id": worker, "started": 1000 + started, "finished": 1000 + finished}
        (folder / "result.json").write_text(json.dumps(payload))

    step("b" * 20, "w1", 1.0, 7.0)
    step("a" * 20, "w0", 0.0, 4.0)
    step("c" * 20, "w1", 7.5, 8.0)
    (tmp_path / "steps" / ("d" * 20)).mkdir()  # published, never trained: no row
    # w0 trained e ahead from 4.5 to 6 s, when the chief cancelled it.
    folder = tmp_path / "steps" / ("e" * 20)
    folder.mkdir()
    (folder / "abandoned-w0-1004500.json").write_text(
        json.dumps({"tuner_id": "w0", "started": 1004.5, "finished": 1006.0})
    )
    (tmp_path / "asked.json").write_text(json.dumps({"a" * 20: 1000.0, "b" * 20: 1005.0}))
    bench = load_script("benchmarks", "bench_distributed_ladder")
    rows = bench.timeline(str(tmp_path))
    assert rows == [
        ["a" * 20, "w0", 0.0, 4.0, 0.0],
        ["b" * 20, "w1", 1.0, 7.0, 5.0],
        ["e" * 20, "w0 (x)", 4.5, 6.0, None],
        ["c" * 20, "w1", 7.5, 8.0, None],
    ]
    assert bench.trained_ahead(rows) == (1, 2)  # b started before it was asked; a did not
    bench.print_timeline("2 workers", rows)
    summary = capsys.readouterr().out.splitlines()[-1]
    # Busy: w0 4 + 1.5 s (1.5 cancelled), w1 6 + 0.5 s; the chief asked for b 1 s after
    # a's result (at 4 s).
    assert summary == (
        "2 workers: longest step 6.0 s; busy w0 5.5 s (1.5 s cancelled), w1 6.5 s (0.0 s "
        "cancelled); chief between a result and the next request 1.0 s"
    )


def test_bench_distributed_ladder_times_the_median_run():
    bench = load_script("benchmarks", "bench_distributed_ladder")
    runs = [{"seconds": 80.0}, {"seconds": 71.0}, {"seconds": 85.0}]
    assert bench.median_run(runs) is runs[0]
    assert bench.median_run(runs[1:]) is runs[1]  # even count: the lower middle
    assert bench.median_run(runs[:1]) is runs[0]


def test_bench_gan_quality_grades_the_same_images_with_each_judge():
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    from keras_accuracy_kit.generative import QualityJudge

    bench = load_script("benchmarks", "bench_gan_quality")
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., None]
    order = np.random.default_rng(0).permutation(len(images))
    train = order[:1400]
    # "Generated" images that are one real training digit per class: each judge's class
    # consistency is then its accuracy on those 10 digits (each repeated 100 times).
    chosen = np.array([train[digits.target[train] == c][0] for c in range(10)])

    generated_labels = np.arange(1000) % 10
    generated = (images[chosen[generated_labels]], generated_labels)
    first = QualityJudge((8, 8, 1), 10, seed=0)
    first.fit(images[train], digits.target[train])
    held_out = order[1400:]  # the bench's held-out digits, which the accuracy column grades
    graded = bench.grade_by_judges(
        generated, first, (images[train], digits.target[train]),
        (images[held_out], digits.target[held_out]), count=2, seed=0,
    )  # fmt: skip
    assert [seed for seed, _, _ in graded] == [0, 1000]
    accuracy = np.mean(first.predict(images[held_out]) == digits.target[held_out])
    assert graded[0][1] == pytest.approx(accuracy)
    second = QualityJudge((8, 8, 1), 10, seed=1000)
    second.fit(images[train], digits.target[train])
    for (_, _, value), judge in zip(graded, (first, second)):
        assert value == pytest.approx(np.mean(judge.predict(images[chosen]) == np.arange(10)))
    svm_accuracy, svm_consistency = bench.grade_by_svm(
        generated, (images[train], digits.target[train]),
        (images[held_out], digits.target[held_out]),
    )  # fmt: skip
    svm = SVC().fit(images[train].reshape(len(train), -1), digits.target[train])
    flat = images[held_out].reshape(len(held_out), -1)
    assert svm_accuracy == pytest.approx(np.mean(svm.predict(flat) == digits.target[held_out]))
    own = np.mean(svm.predict(images[chosen].reshape(10, -1)) == np.arange(10))
    assert svm_consistency == pytest.approx(own)
