"""What `kit.improve` returns: one `Step` per rung tried, and the `ImproveResult`."""

import dataclasses

import keras

from keras_accuracy_kit._core.text_table import format_table


@dataclasses.dataclass
class Step:
    """One rung of the ladder: what was tried and what it gave.

    Args:
        name: String. The trick (`"baseline"`, `"epochs"`, ..., `"ensemble"`, `"tta"`,
            `"refit"`).
        change: String. What this step changed, in words.
        val_accuracy: Float or None. Accuracy on the judged images (out-of-fold under
            cross-validation; None when skipped).
        delta: Float or None. Gain over the best so far, on the same images.
        kept: Bool. Whether the ladder kept the change.
        epochs: Int. Epochs trained.
        seconds: Float. Wall time of the step.
        version: Int or None. The `kit.History` version the step was recorded as.
        note: String. Why it was skipped or dropped, or what the guard removed.
        low: Float or None. Lower end of the gain's 95 % interval.
        high: Float or None. Upper end of the gain's 95 % interval.
        rule: String. The decision rule and its evidence (e.g. the McNemar p-value).
    """

    name: str
    change: str
    val_accuracy: float = None
    delta: float = None
    kept: bool = False
    epochs: int = 0
    seconds: float = 0.0
    version: int = None
    note: str = ""
    low: float = None
    high: float = None
    rule: str = ""

    def __repr__(self):
        """One line: `Step('augment', accuracy=0.9750, gain=+0.0028 [...], kept=no, ...)`."""
        parts = [repr(self.name)]
        if self.val_accuracy is not None:
            parts.append(f"accuracy={self.val_accuracy:.4f}")
        if self.delta is not None:
            gain = f"gain={self.delta:+.4f}"
            if self.low is not None and self.high is not None:
                gain += f" [{self.low:+.3f}, {self.high:+.3f}]"
            parts.append(gain)
        parts += [
            f"kept={'yes' if self.kept else 'no'}",
            f"epochs={self.epochs}",
            f"{self.seconds:.1f}s",
        ]
        if self.version is not None:
            parts.append(f"version={self.version}")
        return f"Step({', '.join(parts)})"


@dataclasses.dataclass
class ImproveResult:
    """What `kit.improve` returns: the best model and the table of steps.

    Args:
        best_model: The `keras.Model` of the best configuration. It takes your images as
            they are: the input transforms the ladder kept (resize, colour space) are
            layers at its front, and the ensemble members and test-time augmentation it
            kept are inside, so `best_model.predict(images)` just works.
        best_accuracy: Float. Its accuracy on the judged images.
        best_transforms: List of the kit transforms at the front of `best_model` (their
            configs describe the data pipeline); empty when none.
        steps: List of `Step`, in the order they ran.
        logdir: String. The TensorBoard log directory.
        directory: String. The `kit.History` directory of the versions.
        evidence: String. What the steps were judged on.
        seconds: Float. Wall time of the whole ladder.
        budget_seconds: Float or None. The time budget (None: epochs or no bound).
    """

    best_model: keras.Model
    best_accuracy: float
    best_transforms: list
    steps: list
    logdir: str
    directory: str
    evidence: str = ""
    seconds: float = 0.0
    budget_seconds: float = None

    def __repr__(self):
        """A short summary (`print(result)`); `result.table()` has every step."""
        kept = [step.name for step in self.steps if step.kept]
        time = f"{self.seconds:.0f}s"
        if self.budget_seconds:
            time += f" of a {self.budget_seconds:.0f}s budget"
        return (
            f"ImproveResult(best_accuracy={self.best_accuracy:.4f}, "
            f"steps={len(self.steps)}, kept=[{', '.join(kept)}], time={time}, "
            f"logdir={self.logdir!r})"
        )

    def table(self):
        """The ladder as a text table: step, accuracy, gain [95 % interval], kept, epochs, time."""
        rows = [
            [
                "#", "step", "accuracy", "gain vs best [95% interval]", "kept", "epochs", "time",
                "change / note",
            ]
        ]  # fmt: skip
        for index, step in enumerate(self.steps):
            gain = "-"
            if step.delta is not None:
                gain = f"{step.delta:+.4f}"
                if step.low is not None:
                    gain += f" [{step.low:+.3f}, {step.high:+.3f}]"
            rows.append(
                [
                    str(index),
                    step.name,
                    "-" if step.val_accuracy is None else f"{step.val_accuracy:.4f}",
                    gain,
                    "yes" if step.kept else "no",
                    str(step.epochs),
                    f"{step.seconds:.1f}s",
                    step.change + (f" ({step.note})" if step.note else ""),
                ]
            )
        footer = []
        if self.evidence:
            footer.append(f"judged on {self.evidence}; kept: a gain beyond noise (McNemar)")
        if self.budget_seconds:
            footer.append(
                f"time: {self.seconds:.0f}s of a {self.budget_seconds:.0f}s budget "
                f"({self.seconds / self.budget_seconds:.0%})"
            )
        return "\n".join([format_table(rows)] + footer)
