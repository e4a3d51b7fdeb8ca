"""SearchResult: what `kit.search.tune` returns, and the records of its trials."""

import dataclasses

from keras_accuracy_kit._core import text_table


def active_values(hyperparameters):
    """The trial's values that configure the trained model: active ones, and `tuner/*`.

    Args:
        hyperparameters: `keras_tuner.HyperParameters`.

    Returns:
        Dict of name to value.
    """
    declared = {hp.name for hp in hyperparameters.space}
    return {
        name: value
        for name, value in hyperparameters.values.items()
        if name not in declared or hyperparameters.is_active(name)
    }


def trial_record(trial):
    """One row of the trials table: id, status, score, best epoch and active values."""
    return {
        "trial_id": trial.trial_id,
        "status": str(trial.status),
        "score": None if trial.score is None else float(trial.score),
        "best_step": trial.best_step,
        "values": active_values(trial.hyperparameters),
    }


@dataclasses.dataclass
class SearchResult:
    """What `tune` returns.

    Attributes:
        best_model: The best trial's model with its best epoch's weights, or `None`
            (worker processes, or no trial completed).
        best_values: Dict. The best trial's active hyper-parameter values, or `None`.
        trials: List of dicts, one per trial (`trial_id`, `status`, `score`,
            `best_step`, `values`): all trials of the search, or on a worker the trials
            it ran.
        objective: String. The objective's name.
        directory: String. The project directory (keras-tuner's trials, the kit's
            `history/`).
        tuner: The keras-tuner tuner, for anything else (`tuner.oracle`, ...).
    """

    best_model: object
    best_values: object
    trials: list
    objective: str
    directory: str
    tuner: object

    def table(self):
        """The trials as aligned text, best first (failed trials last)."""
        names = sorted({name for row in self.trials for name in row["values"]})
        header = ["trial", "status", self.objective, "best@"] + names
        direction = self.tuner.oracle.objective.direction if self.tuner else "max"

        def key(row):
            score = row["score"]
            if score is None:
                return (1, 0.0)
            return (0, -score if direction == "max" else score)

        rows = [header]
        for row in sorted(self.trials, key=key):
            rows.append(
                [
                    str(row["trial_id"]),
                    row["status"].lower(),
                    "-" if row["score"] is None else f"{row['score']:.4f}",
                    "-" if row["best_step"] is None else str(row["best_step"]),
                ]
                + [_format_value(row["values"].get(name, "-")) for name in names]
            )
        return text_table.format_table(rows)


def _format_value(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_values(values):
    """`name=value, ...` with floats to 4 significant digits (progress lines)."""
    return ", ".join(f"{name}={_format_value(value)}" for name, value in values.items())
