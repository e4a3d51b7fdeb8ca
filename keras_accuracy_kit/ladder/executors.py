"""Who trains a ladder step's members: this process, or keras-tuner workers.

The ladder decides (which step comes next, which candidate is kept) and records (the
history, the TensorBoard runs); an executor only trains. A step's training is described
by a `StepRequest` (the configuration, how many members, their seeds, the epoch and time
bounds) and is a pure function of it and of the ladder's data and arguments: the same
request gives the same members wherever it runs. `LocalExecutor` trains in this process
(the members of a step together, in one `fit`); `kit.ladder.distributed`'s executor hands
requests to keras-tuner workers and reads their results back.
"""

import dataclasses
import hashlib
import json
import math

from keras_accuracy_kit.ladder.rungs import Config


@dataclasses.dataclass(frozen=True)
class StepRequest:
    """One step's training: what `_Ladder.train_members` needs besides the data.

    `key()` names the training (not the moment it runs): two requests with the same key
    give the same members. The time bounds (`budget_*`) are left out of it: they only cut
    a step that runs out of time. Of the epoch bounds it keeps what training sees: the
    step ends after `max_epochs` or when the budget's `epochs_left` are spent, whichever
    comes first.
    """

    config: Config
    num_members: int
    seed_offset: int
    finishing: bool
    max_epochs: int
    epochs_left: float
    budget_seconds: float = None  # the ladder's time budget, or None
    budget_start: float = 0.0  # wall-clock time (`time.time()`) the budget started
    budget_reserve: float = 0.0

    def key(self, fingerprint=""):
        """A stable name of the training (hex), given the ladder's own `fingerprint`."""
        identity = {
            "config": dataclasses.asdict(self.config),
            "num_members": self.num_members,
            "seed_offset": self.seed_offset,
            "finishing": self.finishing,
            "epochs": min(self.max_epochs, self.epochs_left),
            "ladder": fingerprint,
        }
        text = json.dumps(identity, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def to_json(self):
        values = dataclasses.asdict(self)
        values["epochs_left"] = _finite_or_none(self.epochs_left)
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        values["config"] = Config(**values["config"])
        if values["epochs_left"] is None:
            values["epochs_left"] = math.inf
        return cls(**values)


@dataclasses.dataclass
class TrainedStep:
    """What training a `StepRequest` gave.

    Args of the dataclass: `joint` and `members` are Keras models holding the trained
    weights (the joint model of the members, or the one member); `member_logs` is the
    step's `MemberLogs` (epoch logs, epoch times, `params`); `stopped` whether the
    budget cut the step; `refit_arguments` the transfer recipe's decisions (or None);
    `probabilities` the judged images' out-of-fold class probabilities;
    `predict_seconds` the time spent predicting them.
    """

    joint: object
    members: list
    member_logs: object
    stopped: bool
    refit_arguments: dict
    probabilities: object
    predict_seconds: float = 0.0


class LocalExecutor:
    """Trains each step in this process, as `kit.improve` always has.

    Args:
        ladder: The `_Ladder`.
    """

    speculates = False

    def __init__(self, ladder):
        self.ladder = ladder

    def train(self, request, observers=()):
        """Trains `request`; `observers` are callbacks placed last in its `fit` (the step's
        report)."""
        return self.ladder.train_members(request, observers=list(observers))

    def expect(self, requests):
        """Hint of the requests likely to come next: nothing to do in one process."""

    def close(self):
        pass


def speculation_order(base, rejected, candidate, kept, keep_rate, seeds=()):
    """The steps a ladder may ask for next, most likely first (what idle workers train).

    The step about to train (`candidate`, tried on `base`) is kept with chance
    `keep_rate`. If it is not, the ladder tries `rejected` in turn (the rest of its rung's
    candidates, then the later rungs' on `base`): the i-th only if the i before it are
    not kept either, a chance of `(1 - keep_rate) ** (i + 1)`. If it is, it tries `kept`
    in turn (the later rungs' on `candidate`): `keep_rate * (1 - keep_rate) ** i`. When
    every one of a chain is rejected, the finish trains the ensemble's `seeds` of its
    configuration (`base`, or `candidate`), with the chain's last chance. With no
    `candidate` (the baseline trains), the first of `rejected` comes for sure.

    Args:
        base: The best configuration so far.
        rejected: List of configurations tried if the step is not kept.
        candidate: The configuration about to train, or None.
        kept: List of configurations tried if it is kept.
        keep_rate: Float in (0, 1). The chance a step is kept.
        seeds: Ensemble seed offsets the finish trains (empty: no ensemble).

    Returns:
        A list of `(config, seed_offset, finishing)`, most likely first; equal chances in
        the order above (`rejected` before `kept`), each step once.

    Example:

    >>> speculation_order("b", ["x", "y"], "c", ["z"], keep_rate=0.25)
    [('x', 0, False), ('y', 0, False), ('z', 0, False)]
    """
    chances = []
    miss = 1.0 - keep_rate
    chains = [(base, rejected, 1.0 if candidate is None else miss)]
    if candidate is not None:
        chains.append((candidate, kept, keep_rate))
    for final, chain, chance in chains:
        for config in chain:
            chances.append((chance, (config, 0, False)))
            chance *= miss
        chances.extend((chance, (final, seed, True)) for seed in seeds)
    order = []
    for _, step in sorted(chances, key=lambda item: -item[0]):  # stable: ties keep order
        if step not in order:
            order.append(step)
    return order


def _finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)
