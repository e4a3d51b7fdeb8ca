"""The ladder's budget: epochs, a duration, or a default derived from the baseline's cost."""

import math
import re
import time

import keras

_OWNER = "kit.improve"
#: Without a budget, the ladder may spend this many times the baseline's training time.
DEFAULT_BUDGET_MULTIPLE = 25
#: ... and at least this many seconds.
DEFAULT_MINIMUM_SECONDS = 60.0
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
#: Share of a time budget kept for building the best model after training.
FINISH_SHARE = 0.05


class Budget:
    """Epochs or seconds the ladder may spend, and how much of it is left.

    Args:
        budget: None, a positive int (epochs) or a duration string (`"90s"`, `"5min"`,
            `"1h"`).
        clock: Callable returning seconds. Defaults to `time.monotonic`.
    """

    def __init__(self, budget, clock=time.monotonic):
        self.clock = clock
        self.start = clock()
        self.epochs_total = self.epochs_left = math.inf
        self.seconds = None  # None: no time bound (yet)
        self.explicit = budget is not None
        self.reserve = 0.0  # seconds the work after training needs (measured by the ladder)
        if budget is None:
            return
        if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
            self.epochs_total = self.epochs_left = budget
            return
        match = isinstance(budget, str) and re.fullmatch(
            r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)\s*", budget
        )
        if not match or float(match.group(1)) <= 0:
            raise ValueError(
                f"{_OWNER}: `budget` must be a positive number of epochs (int) or a duration "
                f"such as '90s', '5min', '1h'. Received: budget={budget!r}."
            )
        self.seconds = float(match.group(1)) * _UNITS[match.group(2)]

    def default_from_baseline(self, baseline_seconds):
        """Without a budget, allows `DEFAULT_BUDGET_MULTIPLE` times the baseline's time."""
        if not self.explicit:
            self.seconds = max(DEFAULT_MINIMUM_SECONDS, DEFAULT_BUDGET_MULTIPLE * baseline_seconds)

    @property
    def deadline(self):
        """When training stops: the rest (`FINISH_SHARE`, or `reserve` when longer) is for
        the work after training (recording, judging, building the best model)."""
        if self.seconds is None:
            return math.inf
        return self.start + self.seconds - max(self.seconds * FINISH_SHARE, self.reserve)

    def deadline_at(self, share):
        """When training stops if it may use `share` of the budget (at most `deadline`)."""
        if self.seconds is None:
            return math.inf
        return min(self.deadline, self.start + share * self.seconds)

    def elapsed(self):
        return self.clock() - self.start

    def remaining_seconds(self):
        return math.inf if self.seconds is None else self.deadline - self.clock()

    def exhausted(self):
        return self.epochs_left <= 0 or self.clock() >= self.deadline

    def spend(self, epochs):
        self.epochs_left -= epochs

    def describe(self):
        if self.seconds is not None:
            return f"{self.elapsed():.0f}s of {self.seconds:.0f}s"
        if math.isfinite(self.epochs_total):
            return f"{self.epochs_total - self.epochs_left:.0f} of {self.epochs_total} epochs"
        return f"{self.elapsed():.0f}s"


class StopAtDeadline(keras.callbacks.Callback):
    """Stops `fit` at the batch that passes the deadline, or the epoch that ends the budget.

    Args:
        budget: The ladder's `Budget`.
        share: Optional float in (0, 1]: stop once this share of a time budget is spent
            (the rungs' steps leave the rest to the finish). Defaults to `None` (the
            budget's own deadline).
    """

    def __init__(self, budget, share=None):
        super().__init__()
        self.budget = budget
        self.share = share
        self.stopped = False
        self.epochs_run = 0

    @property
    def deadline(self):
        return self.budget.deadline if self.share is None else self.budget.deadline_at(self.share)

    def on_train_batch_end(self, batch, logs=None):
        if self.budget.clock() >= self.deadline:
            self.model.stop_training = True  # Keras 3 ends the epoch after this batch
            self.stopped = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run += 1
        if self.budget.clock() >= self.deadline or self.epochs_run >= self.budget.epochs_left:
            self.model.stop_training = True
            self.stopped = True
