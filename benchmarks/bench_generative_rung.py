"""The `generative` rung on the few-shot digits task of `bench_accuracy.py`: kept only when it pays?

For each seed, on `few_shot_digits(per_class=10, seed)` (100 digits to train, 100 to
validate, about 1600 to test), two ladders with the same budget, seed and build function
(`tutorial_cnn`, as `bench_accuracy.py` gives it): `kit.improve` with its default tricks,
and with the opt-in `generative` rung added. Prints per seed the rung's decision (kept or
not, the gain and its interval on the judged images, or why it was skipped), the time its
GANs and its step took, and both ladders' test accuracies (test digits scored once, at the
end); then the means and one line of `name=value` pairs: `with_generative`,
`without_generative`, `kept` (seeds where the rung was kept), `generative_minus_without`.

What to expect: the rung is kept only where its gain on the judged images is beyond noise;
on this task the generated digits cost a point when mixed in by hand
(`examples/gan_augmentation.py`, README), so a rung that pays nothing should be rejected
and the two ladders should then score about the same (the rung's time is not spent on
ensemble members).

    python benchmarks/bench_generative_rung.py --seeds 3          # budget 5min per ladder
    python benchmarks/bench_generative_rung.py --quick            # a smoke run
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras_accuracy_kit as kit  # noqa: E402
from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn  # noqa: E402
from keras_accuracy_kit.ladder.rungs import OPT_IN, TRICKS  # noqa: E402


def ladder(train, validation, test, seed, budget, tricks, logdir):
    start = time.perf_counter()
    result = kit.improve(
        tutorial_cnn, train, validation, tricks=tricks, budget=budget, logdir=logdir,
        seed=seed, verbose=0,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    predictions = result.best_model.predict(test[0], batch_size=256, verbose=0).argmax(-1)
    return result, float(np.mean(predictions == test[1])), seconds


def describe(step):
    if step is None:
        return "not reached"
    if step.val_accuracy is None:
        return f"skipped ({step.note})"
    verdict = "kept" if step.kept else "not kept"
    return f"{verdict}: gain {step.delta:+.3f} [{step.low:+.3f}, {step.high:+.3f}], {step.seconds:.0f}s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0, 1, ...")
    parser.add_argument("--budget", default="5min", help="each ladder's budget")
    parser.add_argument(
        "--quick", action="store_true",
        help="1 seed, 4 digits/class, budget 20s, the generative rung alone vs the baseline",
    )  # fmt: skip
    args = parser.parse_args(argv)
    seeds, budget, per_class = (1, "20s", 4) if args.quick else (args.seeds, args.budget, 10)
    default = [] if args.quick else [trick for trick in TRICKS if trick not in OPT_IN]
    rows, steps = [], []
    print(f"{'seed':>4} {'without':>8} {'with':>8}  the generative rung")
    with tempfile.TemporaryDirectory() as scratch:
        for seed in range(seeds):
            train, validation, test = few_shot_digits(per_class=per_class, seed=seed)
            _, without, _ = ladder(
                train, validation, test, seed, budget, default, f"{scratch}/{seed}/without"
            )
            result, with_generative, _ = ladder(
                train, validation, test, seed, budget, default + ["generative"],
                f"{scratch}/{seed}/with",
            )  # fmt: skip
            step = next((s for s in result.steps if s.name == "generative"), None)
            rows.append((without, with_generative, bool(step is not None and step.kept)))
            steps.append(step)
            print(f"{seed:>4} {without:>8.4f} {with_generative:>8.4f}  {describe(step)}", flush=True)
    without, with_generative, kept = (np.array(column) for column in zip(*rows))
    print(
        f"mean over {seeds} seed(s): without {without.mean():.4f}, with the generative rung "
        f"{with_generative.mean():.4f}; kept on {int(kept.sum())} of {seeds}"
    )
    figures = {
        "with_generative": round(float(with_generative.mean()), 4),
        "without_generative": round(float(without.mean()), 4),
        "kept": int(kept.sum()),
        "generative_minus_without": round(float(with_generative.mean() - without.mean()), 4),
    }
    print(" ".join(f"{name}={value}" for name, value in figures.items()))
    return {"figures": figures, "steps": steps}


if __name__ == "__main__":
    main()
