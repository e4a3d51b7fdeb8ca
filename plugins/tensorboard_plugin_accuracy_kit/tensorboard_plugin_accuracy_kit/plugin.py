"""AccuracyKitPlugin: the TensorBoard side of the "Accuracy Kit" tab.

Routes (under `/data/plugin/accuracy_kit/`):

- `static/<file>`: the frontend (`index.js`, `style.css`), read once at start-up; only
  those names are served, so no path can reach outside the package.
- `ladder`: every run with a kit summary, in ladder order, each with its kept mark and
  its gain over the best so far (the ladder's own decision when it recorded one, else the
  tab's: better than the best kept run before it, in the direction of `mode`).
- `run?run=<name>`: one run's summary (confusion matrix, per-class accuracy, worst
  predictions).
- `worst_image?run=<name>&index=<i>`: the PNG of one worst prediction.

Each route is a thin WSGI handler over a `*_impl` method that takes plain values and
returns plain data or raises `tensorboard.errors.PublicError` (400 for bad parameters,
404 for unknown runs, 422 for a run whose summary is malformed), which the handler turns
into a JSON `{"error": message}`. Data comes from `context.data_provider`, so it works
with `--load_fast` on and off.

One run's malformed summary (not UTF-8, not JSON, a field of the wrong type) never breaks
the others: the ladder leaves it out and lists it under `bad_runs` with the reason. JSON
answers are strict (no bare `NaN`/`Infinity`, which browsers refuse): a non-finite number
is sent as `null`.
"""

import json
import math
import mimetypes
import numbers
import os

from tensorboard import errors, plugin_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tensorboard_plugin_accuracy_kit import metadata

STATIC_DIRECTORY = os.path.join(os.path.dirname(__file__), "static")
_STATIC_ROUTE = f"/plugin/{metadata.PLUGIN_NAME}/static/"
#: How many summaries of one run to read: the latest is used.
_DOWNSAMPLE = 100


class MalformedSummaryError(errors.PublicError):
    """A run's summary cannot be read (422: the request is fine, the data is not)."""

    error_code = "Unprocessable entity"
    http_code = 422


def json_safe(value):
    """`value` with every non-finite float (NaN, inf) replaced by None, for strict JSON.

    Example:

    >>> json_safe({"best": float("nan"), "matrix": [[1.0, float("inf")]], "name": "a"})
    {'best': None, 'matrix': [[1.0, None]], 'name': 'a'}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_NUMBER_KEYS = (
    metadata.KEY_ORDER,
    metadata.KEY_START_TIME,
    metadata.KEY_WALL_TIME,
    metadata.KEY_BEST,
    metadata.KEY_BEST_EPOCH,
    metadata.KEY_EPOCHS,
    metadata.KEY_VERSION,
    metadata.KEY_PARENT_VERSION,
    metadata.KEY_DELTA_VS_PARENT,
)
_STRING_KEYS = (metadata.KEY_CHANGE, metadata.KEY_MONITOR, metadata.KEY_MODE)
_STRING_LIST_KEYS = (metadata.KEY_CHANGES, metadata.KEY_CLASS_NAMES)


def summary_problem(summary):
    """None if `summary` has the types the routes rely on, else what is wrong (a string).

    Fields may be missing or None; present ones must have their type.

    Example:

    >>> summary_problem({"schema_version": 1, "best": 0.5, "order": 2}) is None
    True
    >>> summary_problem({"schema_version": 1, "order": "first"})
    "`order` must be a number or null; received 'first'"
    """
    if not isinstance(summary, dict):
        return f"the summary must be a JSON object; received {type(summary).__name__}"
    version = summary.get(metadata.KEY_SCHEMA_VERSION, 0)
    if not isinstance(version, int) or isinstance(version, bool):
        return f"`schema_version` must be an integer; received {version!r}"
    for key in _NUMBER_KEYS:
        value = summary.get(key)
        if value is not None and not _is_number(value):
            return f"`{key}` must be a number or null; received {value!r}"
    for key in _STRING_KEYS:
        value = summary.get(key)
        if value is not None and not isinstance(value, str):
            return f"`{key}` must be a string or null; received {value!r}"
    for key in _STRING_LIST_KEYS:
        value = summary.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            return f"`{key}` must be a list of strings; received {value!r}"
    matrix = summary.get(metadata.KEY_CONFUSION_MATRIX)
    if matrix is not None and not (
        isinstance(matrix, list)
        and all(isinstance(row, list) and all(map(_is_number, row)) for row in matrix)
    ):
        return "`confusion_matrix` must be a list of lists of numbers"
    accuracies = summary.get(metadata.KEY_PER_CLASS_ACCURACY)
    if accuracies is not None and not (
        isinstance(accuracies, list)
        and all(value is None or _is_number(value) for value in accuracies)
    ):
        return "`per_class_accuracy` must be a list of numbers (or nulls)"
    worst = summary.get(metadata.KEY_WORST)

    def numbers_or_null(item):
        return isinstance(item, dict) and all(
            item.get(key) is None or _is_number(item.get(key)) for key in metadata.WORST_KEYS
        )

    if worst is not None and not (isinstance(worst, list) and all(map(numbers_or_null, worst))):
        return f"`worst` must be a list of objects with numbers {list(metadata.WORST_KEYS)}"
    hparams = summary.get(metadata.KEY_HPARAMS)
    if hparams is not None and not isinstance(hparams, dict):
        return f"`hparams` must be an object; received {type(hparams).__name__}"
    return _decision_problem(summary.get(metadata.KEY_DECISION))


def _decision_problem(decision):
    if decision is None:
        return None
    if not isinstance(decision, dict):
        return f"`decision` must be an object or null; received {decision!r}"
    kept = decision.get(metadata.KEY_KEPT)
    if kept is not None and not isinstance(kept, bool):
        return f"`decision.kept` must be true, false or null; received {kept!r}"
    for key in (metadata.KEY_VALUE, metadata.KEY_GAIN, metadata.KEY_LOW, metadata.KEY_HIGH):
        value = decision.get(key)
        if value is not None and not _is_number(value):
            return f"`decision.{key}` must be a number or null; received {value!r}"
    for key in (metadata.KEY_RULE, metadata.KEY_NOTE):
        value = decision.get(key)
        if value is not None and not isinstance(value, str):
            return f"`decision.{key}` must be a string or null; received {value!r}"
    return None


def load_static_files(directory=STATIC_DIRECTORY):
    """`{file name: (bytes, content type)}` of the frontend, read once."""
    files = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
                if name.endswith(".js"):
                    content_type = "text/javascript"
                files[name] = (handle.read(), content_type)
    return files


def static_file_impl(files, name):
    """The `(bytes, content type)` of a frontend file, by exact name only.

    Raises:
        errors.NotFoundError: for any other name, `../` paths included.
    """
    if name not in files:
        raise errors.NotFoundError(
            f"no static file {name!r}; the plugin serves only {sorted(files)}"
        )
    return files[name]


def monitor_mode(summary):
    """`"min"` or `"max"`: the summary's `mode`, else guessed from the monitor's name as the
    kit does (losses and errors are minimised).

    Example:

    >>> monitor_mode({"monitor": "val_loss"}), monitor_mode({"monitor": "val_accuracy"})
    ('min', 'max')
    >>> monitor_mode({"monitor": "val_loss", "mode": "max"})
    'max'
    """
    mode = summary.get(metadata.KEY_MODE)
    if mode in ("min", "max"):
        return mode
    name = summary.get(metadata.KEY_MONITOR) or ""
    return "min" if name.endswith("loss") or "error" in name else "max"


def is_better(gain, mode):
    """Whether a gain goes the right way for `mode` (None when there is none, or it is 0).

    Example:

    >>> is_better(-0.1, "min"), is_better(-0.1, "max"), is_better(0.1, "max")
    (True, False, True)
    >>> is_better(0.0, "max") is None and is_better(None, "min") is None
    True
    """
    if gain is None or gain == 0:
        return None
    return gain < 0 if mode == "min" else gain > 0


#: The tab's own rule for runs without a recorded decision.
TAB_RULE = "kept when better than the best kept run before it"


def ladder_rows(summaries):
    """The ladder: runs in order, each with its kept mark and gain over the best so far.

    Runs are ordered by their `order` (runs without one come after), then by start time,
    then by name. A run's `value` is the value its decision compared (the ladder's judged
    accuracy) or else its best `monitor` value. When the writer recorded a decision
    (`AccuracyReport.record_decision`; `kit.improve` does for every step) its `kept`,
    `gain`, interval and `rule` are shown as they are: the numbers of the ladder's own
    table. Otherwise the tab decides: the first run is the baseline (kept), and a later
    run is kept when its value beats the best kept run before it in the direction of its
    `mode`; its gain is taken against that best so far. `better` says whether the gain
    goes the right way for `mode` (colours follow it, not the sign).

    Args:
        summaries: Dict `{run name: summary dict}` as `AccuracyReport` writes them.

    Returns:
        List of dicts: `run`, `rank` (0-based position), `order`, `change`, `value`,
        `best`, `monitor`, `mode`, `kept` (None: pending), `gain`, `low`, `high`, `rule`,
        `note`, `better`, `decided_by` (`"writer"` or `"tab"`), `delta_baseline`,
        `delta_vs_parent`, `wall_time`, `start_time`, `epochs`, `version`,
        `parent_version`, `changes`.

    Example:

    >>> rows = ladder_rows({"b": {"order": 1, "best": 0.75}, "a": {"order": 0, "best": 0.5},
    ...                     "c": {"order": 2, "best": 0.625}})
    >>> [(r["run"], r["kept"], r["gain"]) for r in rows]
    [('a', True, None), ('b', True, 0.25), ('c', False, -0.125)]
    """

    def sort_key(item):
        run, summary = item
        order = summary.get(metadata.KEY_ORDER)
        start = summary.get(metadata.KEY_START_TIME)
        return (order is None, order or 0, start is None, start or 0.0, run)

    rows = []
    baseline = best_so_far = None
    for rank, (run, summary) in enumerate(sorted(summaries.items(), key=sort_key)):
        best = summary.get(metadata.KEY_BEST)
        mode = monitor_mode(summary)
        decision = summary.get(metadata.KEY_DECISION)
        if decision is not None:
            value = decision.get(metadata.KEY_VALUE)
            value = best if value is None else value
            kept = decision.get(metadata.KEY_KEPT)
            gain = decision.get(metadata.KEY_GAIN)
            low, high = decision.get(metadata.KEY_LOW), decision.get(metadata.KEY_HIGH)
            rule = decision.get(metadata.KEY_RULE) or ""
            note = decision.get(metadata.KEY_NOTE) or ""
            decided_by = "writer"
        else:
            value, low, high, note, decided_by = best, None, None, "", "tab"
            gain = _delta(value, best_so_far)
            if best_so_far is None:
                kept = value is not None
                rule = "the baseline" if kept else "no value"
            else:
                kept = bool(is_better(gain, mode))
                rule = TAB_RULE
        if rank == 0:
            baseline = value
        if kept and value is not None:
            best_so_far = value
        rows.append(
            {
                "run": run,
                "rank": rank,
                "order": summary.get(metadata.KEY_ORDER),
                "change": summary.get(metadata.KEY_CHANGE) or run,
                "value": value,
                "best": best,
                "monitor": summary.get(metadata.KEY_MONITOR),
                "mode": mode,
                "kept": kept,
                "gain": gain,
                "low": low,
                "high": high,
                "rule": rule,
                "note": note,
                "better": is_better(gain, mode),
                "decided_by": decided_by,
                "delta_baseline": _delta(value, baseline) if rank else None,
                "delta_vs_parent": summary.get(metadata.KEY_DELTA_VS_PARENT),
                "wall_time": summary.get(metadata.KEY_WALL_TIME),
                "start_time": summary.get(metadata.KEY_START_TIME),
                "epochs": summary.get(metadata.KEY_EPOCHS),
                "version": summary.get(metadata.KEY_VERSION),
                "parent_version": summary.get(metadata.KEY_PARENT_VERSION),
                "changes": summary.get(metadata.KEY_CHANGES) or [],
            }
        )
    return rows


def best_run(rows):
    """The run the tab opens on: the last kept run (the best so far at the end of the
    ladder), else the best value in the direction of its `mode`; None without rows.

    Example:

    >>> best_run(ladder_rows({"a": {"order": 0, "best": 0.5, "monitor": "val_loss"},
    ...                       "b": {"order": 1, "best": 0.25, "monitor": "val_loss"},
    ...                       "c": {"order": 2, "best": 0.75, "monitor": "val_loss"}}))
    'b'
    """
    kept = [row for row in rows if row["kept"] and row["value"] is not None]
    if kept:
        return kept[-1]["run"]
    valued = [row for row in rows if row["value"] is not None]
    if not valued:
        return rows[0]["run"] if rows else None
    sign = -1 if valued[0]["mode"] == "min" else 1
    return max(valued, key=lambda row: sign * row["value"])["run"]


def _delta(value, reference):
    if value is None or reference is None:
        return None
    return value - reference


def parse_index(value):
    """A non-negative int from a query parameter, or InvalidArgumentError.

    Example:

    >>> parse_index("3")
    3
    """
    if value is None:
        raise errors.InvalidArgumentError("missing query parameter `index` (an integer >= 0)")
    try:
        index = int(value)
    except ValueError:
        raise errors.InvalidArgumentError(
            f"query parameter `index` must be an integer >= 0; received index={value!r}"
        ) from None
    if index < 0:
        raise errors.InvalidArgumentError(
            f"query parameter `index` must be an integer >= 0; received index={value!r}"
        )
    return index


def require_run(value):
    """The `run` query parameter, or InvalidArgumentError when it is missing or empty."""
    if not value:
        raise errors.InvalidArgumentError(
            "missing query parameter `run`; the `ladder` route lists the runs"
        )
    return value


class AccuracyKitPlugin(base_plugin.TBPlugin):
    """The "Accuracy Kit" tab: the ladder of tricks, and what each run got wrong."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._data_provider = context.data_provider
        self._static_files = load_static_files()

    def get_plugin_apps(self):
        return {
            "/static/*": self._serve_static,
            "/ladder": self._serve_ladder,
            "/run": self._serve_run,
            "/worst_image": self._serve_worst_image,
        }

    def is_active(self):
        return False  # TensorBoard's `list_plugins` on the data provider decides.

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(
            es_module_path="/static/index.js", tab_name="Accuracy Kit"
        )

    # -- pure routes -------------------------------------------------------------------

    def read_summaries_impl(self, ctx, experiment):
        """`({run: summary}, {run: problem})`: the readable summaries and why others are not.

        Each run is decoded and checked on its own, so one malformed summary never hides
        the healthy runs.
        """
        if self._data_provider is None:
            return {}, {}
        data = self._data_provider.read_tensors(
            ctx,
            experiment_id=experiment,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=_DOWNSAMPLE,
            run_tag_filter=provider.RunTagFilter(tags=[metadata.SUMMARY_TAG]),
        )
        summaries, problems = {}, {}
        for run, tags in data.items():
            points = tags.get(metadata.SUMMARY_TAG)
            if not points:
                continue
            try:
                summaries[run] = _decode_summary(points[-1].numpy)
            except ValueError as error:
                problems[run] = str(error)
        return summaries, problems

    def summaries_impl(self, ctx, experiment):
        """`{run: summary dict}` of every run with a readable kit summary (latest step)."""
        return self.read_summaries_impl(ctx, experiment)[0]

    def ladder_impl(self, ctx, experiment):
        """The ladder: `{"runs": ladder_rows(...), "best_run", "mode", "bad_runs": [...],
        "schema_version": int}`.

        `best_run` is the run to open (`best_run(...)`), `mode` the first run's (`"min"`
        or `"max"`, what the value columns sort best-first by). `bad_runs` lists
        `{"run", "error"}` for runs whose summary could not be read.
        """
        summaries, problems = self.read_summaries_impl(ctx, experiment)
        rows = ladder_rows(summaries)
        return {
            "runs": rows,
            "best_run": best_run(rows),
            "mode": rows[0]["mode"] if rows else "max",
            "bad_runs": [{"run": run, "error": problems[run]} for run in sorted(problems)],
            "schema_version": metadata.SCHEMA_VERSION,
        }

    def run_impl(self, ctx, experiment, run):
        """One run's summary, plus `run` and `num_images` (worst images stored)."""
        run = require_run(run)
        summaries, problems = self.read_summaries_impl(ctx, experiment)
        if run in problems:
            raise MalformedSummaryError(
                f"the Accuracy Kit summary of run {run!r} cannot be read: {problems[run]}. "
                f"The other runs are fine: {sorted(summaries)}"
            )
        if run not in summaries:
            raise errors.NotFoundError(
                f"no Accuracy Kit summary for run {run!r}; runs with one: {sorted(summaries)}"
            )
        summary = dict(summaries[run])
        summary["run"] = run
        summary["num_images"] = len(self._worst_blobs(ctx, experiment, run))
        return summary

    def worst_image_impl(self, ctx, experiment, run, index):
        """The PNG bytes of worst prediction `index` of `run`."""
        run = require_run(run)
        index = parse_index(index)
        blobs = self._worst_blobs(ctx, experiment, run)
        if not blobs:
            known = sorted(self.summaries_impl(ctx, experiment))
            raise errors.NotFoundError(
                f"no worst-prediction images for run {run!r}; runs with a summary: {known}"
            )
        if index >= len(blobs):
            raise errors.NotFoundError(
                f"run {run!r} has {len(blobs)} worst-prediction images (index 0 to "
                f"{len(blobs) - 1}); received index={index}"
            )
        return self._data_provider.read_blob(ctx, blob_key=blobs[index].blob_key)

    def _worst_blobs(self, ctx, experiment, run):
        if self._data_provider is None:
            return ()
        data = self._data_provider.read_blob_sequences(
            ctx,
            experiment_id=experiment,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=_DOWNSAMPLE,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[metadata.WORST_IMAGES_TAG]),
        )
        points = data.get(run, {}).get(metadata.WORST_IMAGES_TAG)
        return points[-1].values if points else ()

    # -- thin WSGI handlers ------------------------------------------------------------

    @wrappers.Request.application
    def _serve_static(self, request):
        _, _, name = request.path.partition(_STATIC_ROUTE)
        return _respond(lambda: static_file_impl(self._static_files, name))

    @wrappers.Request.application
    def _serve_ladder(self, request):
        ctx, experiment = _context(request)
        return _respond(lambda: self.ladder_impl(ctx, experiment))

    @wrappers.Request.application
    def _serve_run(self, request):
        ctx, experiment = _context(request)
        return _respond(lambda: self.run_impl(ctx, experiment, request.args.get("run")))

    @wrappers.Request.application
    def _serve_worst_image(self, request):
        ctx, experiment = _context(request)
        return _respond(
            lambda: (
                self.worst_image_impl(
                    ctx, experiment, request.args.get("run"), request.args.get("index")
                ),
                "image/png",
            )
        )


def _context(request):
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def _respond(compute):
    """Runs `compute()`: `(bytes, content type)` or JSON-able data; errors as JSON 4xx.

    JSON is strict: non-finite numbers become `null` (browsers refuse bare `NaN`).
    """
    try:
        result = compute()
    except errors.PublicError as error:
        return wrappers.Response(
            json.dumps({"error": str(error)}),
            status=error.http_code,
            content_type="application/json",
        )
    if isinstance(result, tuple):
        body, content_type = result
        return wrappers.Response(body, content_type=content_type)
    return wrappers.Response(
        json.dumps(json_safe(result), allow_nan=False), content_type="application/json"
    )


def _decode_summary(value):
    """The summary dict from a scalar string tensor, or ValueError saying what is wrong.

    Non-finite numbers (NaN) in it become None, so deltas and sorting treat them as
    missing values.
    """
    raw = value.item() if hasattr(value, "item") else value
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"the summary is not UTF-8 text ({error})") from None
    if not isinstance(raw, str):
        raise ValueError(f"the summary must be a JSON string; received {type(raw).__name__}")
    try:
        summary = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"the summary is not JSON ({error})") from None
    problem = summary_problem(summary)
    if problem is not None:
        raise ValueError(problem)
    version = summary.get(metadata.KEY_SCHEMA_VERSION, 0)
    if version > metadata.SCHEMA_VERSION:
        raise ValueError(
            f"written by a newer keras-accuracy-kit (summary schema {version}; this plugin "
            f"reads up to {metadata.SCHEMA_VERSION}): upgrade "
            "tensorboard-plugin-accuracy-kit"
        )
    return json_safe(summary)
