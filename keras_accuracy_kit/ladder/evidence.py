"""The ladder's decision rule: keep a trick only when it beats the best beyond noise.

Two configurations are compared on the same images (the same validation split, or the
same cross-validation folds): for every image, each was right or wrong. Images both got
right or both got wrong say nothing about which is better; the images where they differ
(the discordant pairs) do. Under "the trick changes nothing" each discordant image is a
fair coin, so the number the trick wins is Binomial(discordant, 0.5): McNemar's exact
test. The trick is kept when that one-sided p-value is at most `1 - confidence` and the
net gain is positive, i.e. when we are `confidence` sure it helps on data like yours.

Pure NumPy: tested with tables of scripted correctness, no training.
"""

import dataclasses
import math

import numpy as np

_OWNER = "kit.improve"
#: One-sided confidence the ladder asks before it keeps a trick.
DEFAULT_CONFIDENCE = 0.9


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the rule concluded about one candidate against the best so far.

    Args:
        kept: Bool. Whether the candidate is kept.
        gain: Float. Accuracy of the candidate minus the best's, on the same images.
        low: Float. Lower end of the 95 % interval of the gain (paired, normal approximation).
        high: Float. Upper end of that interval.
        p_value: Float or None. One-sided exact McNemar p-value of "no gain" (None with a
            fixed `min_delta`).
        wins: Int. Images the candidate gets right and the best gets wrong.
        losses: Int. Images the best gets right and the candidate gets wrong.
        rule: String. The rule in words, for the table.
    """

    kept: bool
    gain: float
    low: float
    high: float
    p_value: float
    wins: int
    losses: int
    rule: str

    def interval(self):
        """The gain and its interval as text, e.g. `"+0.030 [-0.004, +0.064]"`."""
        return f"{self.gain:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def decide(candidate_correct, best_correct, min_delta="auto", confidence=DEFAULT_CONFIDENCE):
    """Decides whether a candidate beats the best configuration beyond noise.

    Args:
        candidate_correct: 1-D bool or 0/1 array. Per image, whether the candidate was right.
        best_correct: The same for the best configuration so far, on the same images.
        min_delta: `"auto"` (McNemar's exact test at `confidence`) or a non-negative
            float: keep when the accuracy gain is strictly above it. Defaults to `"auto"`.
        confidence: Float in (0.5, 1). One-sided confidence of the `"auto"` rule.
            Defaults to `0.9`.

    Returns:
        A `Decision`.

    Example:

    >>> import numpy as np
    >>> best = np.array([1] * 80 + [0] * 20)
    >>> candidate = best.copy(); candidate[80:92] = 1; candidate[:2] = 0   # +12, -2
    >>> decision = decide(candidate, best)
    >>> decision.kept, decision.wins, decision.losses, round(decision.gain, 2)
    (True, 12, 2, 0.1)
    >>> decide(best, best).kept   # a trick that changes nothing is never kept
    False
    """
    candidate = np.asarray(candidate_correct).astype(bool).reshape(-1)
    best = np.asarray(best_correct).astype(bool).reshape(-1)
    if candidate.shape != best.shape or candidate.size == 0:
        raise ValueError(
            f"{_OWNER}: the decision needs the same non-empty set of images for both "
            f"configurations. Received: {candidate.size} and {best.size} results."
        )
    if not 0.5 < confidence < 1:
        raise ValueError(
            f"{_OWNER}: `confidence` must be in (0.5, 1). Received: confidence={confidence!r}."
        )
    n = candidate.size
    wins = int(np.sum(candidate & ~best))
    losses = int(np.sum(best & ~candidate))
    gain = (wins - losses) / n
    differences = candidate.astype(float) - best.astype(float)
    standard_error = float(np.std(differences, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    low, high = gain - 1.96 * standard_error, gain + 1.96 * standard_error
    if min_delta == "auto":
        p_value = binomial_tail(wins, wins + losses)
        kept = gain > 0 and p_value <= 1 - confidence
        rule = f"McNemar p={p_value:.3f} (keep at <= {1 - confidence:.2f})"
    else:
        p_value = None
        kept = gain > float(min_delta)
        rule = f"gain > min_delta={float(min_delta):g}"
    return Decision(
        kept=bool(kept),
        gain=float(gain),
        low=float(low),
        high=float(high),
        p_value=p_value,
        wins=wins,
        losses=losses,
        rule=rule,
    )


def binomial_tail(wins, trials):
    """P(X >= wins) for X ~ Binomial(trials, 0.5): the one-sided exact McNemar p-value.

    Example:

    >>> binomial_tail(3, 3), binomial_tail(0, 0), round(binomial_tail(9, 10), 4)
    (0.125, 1.0, 0.0107)
    """
    if trials == 0:
        return 1.0
    total = sum(math.comb(trials, k) for k in range(wins, trials + 1))
    return float(total / 2**trials)


def stratified_folds(labels, num_folds, seed):
    """Assigns each example a fold in `[0, num_folds)`, balancing every class across folds.

    Args:
        labels: 1-D int array of class indices.
        num_folds: Int >= 2.
        seed: Int. Seeds the assignment.

    Returns:
        1-D int array of fold ids, one per example.

    Example:

    >>> folds = stratified_folds(np.array([0] * 6 + [1] * 3), 3, seed=0)
    >>> np.bincount(folds[:6]).tolist(), np.bincount(folds[6:]).tolist()
    ([2, 2, 2], [1, 1, 1])
    """
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        folds[members] = (np.arange(len(members)) + offset) % num_folds
        offset += len(members)  # small classes do not all start in fold 0
    return folds
