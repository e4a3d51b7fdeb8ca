"""The ladder across machines: wall time with 2 workers vs 1 worker, in one run (issue 23).

Runs the same `kak improve --dataset digits` ladder (2-fold cross-validation, an epoch
budget: no decision depends on the clock) as a chief with 1 worker, then as a chief with
2 workers, every worker limited to one intra-op thread, all on 127.0.0.1. Prints each
run's ladder time (the chief's `seconds`: from the ladder's start to its result; the
workers are started first and have imported TensorFlow by then) and, last, the ratio as
`name=value` (2 workers / 1 worker, medians of `--repeat` runs of each, alternated: 3
by default, as single runs on a shared 2-core machine scatter by +-0.05; the issue
expects <= 0.65).

Before the ratio, a `check` line: both runs must reach the same decisions and the same
judged accuracy at every step (a faster cluster that decides otherwise stops the script).

Where the speed comes from: a step's members (its folds) train together on one worker,
as in one process; a second worker trains, meanwhile, the steps the ladder is likeliest
to ask for next (kept or not, by the run's keep rate so far; then the ensemble's seeds),
so the gain depends on how well the ladder's decisions are guessed.

Where the time goes: for each run, the steps the workers trained (which worker, when it
started and ended, when the ladder asked for it, relative to the first; trainings the
chief cancelled marked `(x)`) and a summary: the longest step, each worker's busy
seconds (and how many of them went to cancelled trainings), and the chief's seconds
between a step's result and the ladder's next request (judging and recording, on the
critical path).

`--quick` makes a smoke run (fewer epochs and tricks).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
#: One intra-op thread per process (TensorFlow and oneDNN read these at start-up).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def ladder_arguments(quick):
    tricks = "input_scale,learning_rate" if quick else "input_scale,learning_rate,depth,image_size"
    return [
        "improve", "--dataset", "digits", "--budget", "400", "--epochs", "2" if quick else "4",
        "--folds", "2", "--tricks", tricks, "--refit", "no", "--no-tta", "--seed", "0",
        "--verbose", "0",
    ]  # fmt: skip


def kak(arguments):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    environment.update(ONE_THREAD, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(
        [sys.executable, "-m", "keras_accuracy_kit.cli.main", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def cpu_seconds(process):
    """User + system CPU seconds of `process` (Linux `/proc`), or None elsewhere."""
    try:
        with open(f"/proc/{process.pid}/stat") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_until_idle(process, timeout=300):
    """Waits until `process` (a worker waiting for the chief's address) stops using CPU."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(process)
    if last is None:
        time.sleep(30)  # no /proc: give TensorFlow's import time
        return
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(2.0)
        now = cpu_seconds(process)
        if now is None or now - last < 0.1:
            return
        last = now


def run_cluster(num_workers, quick, scratch):
    """Runs the ladder as a chief with `num_workers` workers; returns the chief's JSON."""
    folder = os.path.join(scratch, f"{num_workers}_workers")
    shared = os.path.join(folder, "shared")
    output = os.path.join(folder, "chief.json")
    arguments = ladder_arguments(quick)
    # The workers start first: their start-up (TensorFlow, the data) is not the ladder's.
    workers = [
        kak(arguments + ["--worker", "--directory", shared, "--tuner-id", f"w{i}"])
        for i in range(num_workers)
    ]
    for worker in workers:
        wait_until_idle(worker)
    started = time.perf_counter()
    chief = kak(
        arguments + ["--chief", "--directory", shared, "--logdir", os.path.join(folder, "runs"),
                     "--json", output]
    )  # fmt: skip
    try:
        for process in [chief, *workers]:
            _, stderr = process.communicate(timeout=1800)
            if process.returncode != 0:
                raise RuntimeError(f"a ladder process failed:\n{stderr[-3000:]}")
    finally:
        for process in [chief, *workers]:
            if process.poll() is None:
                process.kill()
    with open(output) as stream:
        result = json.load(stream)
    result["process_seconds"] = time.perf_counter() - started
    result["timeline"] = timeline(shared)
    result["ahead"], result["asked"] = trained_ahead(result["timeline"])
    return result


#: Marks a worker's training that the chief cancelled (in `timeline` rows).
ABANDONED = " (x)"


def trained_ahead(rows):
    """`(steps whose training started before the ladder asked for them, steps asked)`,
    from a run's `timeline`."""
    asked = [(started, when) for _, _, started, _, when in rows if when is not None]
    return sum(started < when for started, when in asked), len(asked)


def timeline(shared):
    """The trained steps as `(key, worker, started, finished, asked or None)`, in seconds
    from the first event, ordered by start; a training the chief cancelled is a row of
    its own, its worker marked `ABANDONED` and its `asked` None."""
    with open(os.path.join(shared, "asked.json")) as stream:
        asked = json.load(stream)
    rows = []
    for key in sorted(os.listdir(os.path.join(shared, "steps"))):
        path = os.path.join(shared, "steps", key, "result.json")
        if os.path.exists(path):
            with open(path) as stream:
                payload = json.load(stream)
            rows.append([key, payload["tuner_id"], payload["started"], payload["finished"],
                         asked.get(key)])  # fmt: skip
        for name in sorted(os.listdir(os.path.join(shared, "steps", key))):
            if name.startswith("abandoned-"):  # trained ahead, then cancelled
                with open(os.path.join(shared, "steps", key, name)) as stream:
                    payload = json.load(stream)
                rows.append([key, payload["tuner_id"] + ABANDONED, payload["started"],
                             payload["finished"], None])  # fmt: skip
    origin = min([row[2] for row in rows] + list(asked.values()))
    for row in rows:
        row[2:] = [None if value is None else value - origin for value in row[2:]]
    return sorted(rows, key=lambda row: row[2])


def print_timeline(name, rows):
    """Prints a run's `timeline` and where its time went (a worker's busy seconds, of
    which on trainings the chief cancelled)."""
    print(f"{name}: step      worker  started  ended  asked")
    for key, worker, started, finished, asked in rows:
        when = "   -  " if asked is None else f"{asked:6.1f}"
        print(f"  {key[:8]}  {worker:>6}  {started:6.1f}  {finished:6.1f}  {when}")
    busy, wasted = {}, {}
    for _, worker, started, finished, _ in rows:
        owner = worker.removesuffix(ABANDONED)
        busy[owner] = busy.get(owner, 0.0) + finished - started
        if owner != worker:
            wasted[owner] = wasted.get(owner, 0.0) + finished - started
    asked = sorted((row[4], row[3]) for row in rows if row[4] is not None)
    # The chief's work between a step's result (or its request, if later) and the next request.
    chief = sum(max(0.0, nxt - max(ask, done)) for (ask, done), (nxt, _) in zip(asked, asked[1:]))
    longest = max(
        finished - started
        for _, worker, started, finished, _ in rows
        if not worker.endswith(ABANDONED)
    )
    print(
        f"{name}: longest step {longest:.1f} s; busy " + ", ".join(
            f"{worker} {seconds:.1f} s ({wasted.get(worker, 0.0):.1f} s cancelled)"
            for worker, seconds in sorted(busy.items())
        ) + f"; chief between a result and the next request {chief:.1f} s"
    )  # fmt: skip


def check_same_ladder(one, two):
    """Stops the benchmark unless both runs decided alike, step by step."""
    steps = [[(s["name"], s["kept"], s["val_accuracy"]) for s in r["steps"]] for r in (one, two)]
    if steps[0] != steps[1] or one["best_accuracy"] != two["best_accuracy"]:
        raise ValueError(
            "bench_distributed_ladder: 2 workers must reach the decisions of 1 worker before "
            f"they are timed. Received: {steps[1]} vs {steps[0]}. Nothing was timed."
        )
    kept = sum(1 for _, kept, _ in steps[0][1:] if kept)
    print(
        f"check same ladder: {len(steps[0])} steps ({kept} kept after the baseline), best "
        f"accuracy {one['best_accuracy']:.4f} with 1 and 2 workers"
    )


def median_run(results):
    """The run of median ladder time (the lower middle one of an even count)."""
    ordered = sorted(results, key=lambda result: result["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument(
        "--repeat", type=int, default=None,
        help="runs of each cluster, alternated; the ratio of the medians (default 3, 1 "
        "with --quick)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    runs = {"1 worker": [], "2 workers": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            runs["1 worker"].append(run_cluster(1, args.quick, scratch))
            runs["2 workers"].append(run_cluster(2, args.quick, scratch))
        check_same_ladder(runs["1 worker"][-1], runs["2 workers"][-1])
    for name, results in runs.items():
        for result in results:
            print(
                f"{name}: ladder {result['seconds']:.1f} s (processes "
                f"{result['process_seconds']:.1f} s); {result['ahead']} of {result['asked']} "
                "steps trained ahead of the ladder"
            )
    medians = {name: median_run(results) for name, results in runs.items()}
    for name, result in medians.items():
        print_timeline(name + (" (median run)" if repeat > 1 else ""), result["timeline"])
    ratio = medians["2 workers"]["seconds"] / medians["1 worker"]["seconds"]
    print(f"two_workers_vs_one={ratio:.3f}")
    return {"two_workers_vs_one": ratio}


if __name__ == "__main__":
    main()
