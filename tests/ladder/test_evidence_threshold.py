"""The keep rule at its boundaries: a gain exactly equal to `min_delta`, a p-value exactly
equal to `1 - confidence` (issue 22: `>` changed to `>=` survived the ladder's tests).

The numbers are derived by hand: `n` images, the candidate right on `wins` images the best
gets wrong and wrong on `losses` images the best gets right; gain = (wins - losses) / n.
Every gain below is exactly representable (k / n with n a power of two times 1, 5 or 25,
checked by the first test), so "equal" means equal, not "within rounding".
"""

import numpy as np
import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder.evidence import binomial_tail, decide


def _results(num_images, wins, losses, both_right=None):
    """Per-image correctness of (candidate, best) with the given wins and losses."""
    both_right = (num_images - wins - losses) // 2 if both_right is None else both_right
    best = np.zeros(num_images, bool)
    candidate = np.zeros(num_images, bool)
    best[:both_right] = candidate[:both_right] = True
    candidate[both_right : both_right + wins] = True
    best[both_right + wins : both_right + wins + losses] = True
    return candidate, best


# (num_images, wins, losses, min_delta): the gain (wins - losses) / num_images == min_delta.
EQUAL_GAINS = [
    (100, 5, 0, 0.05),
    (100, 7, 2, 0.05),
    (20, 1, 0, 0.05),
    (64, 2, 0, 0.03125),
    (50, 3, 2, 0.02),
    (40, 6, 1, 0.125),
    (20, 4, 4, 0.0),
]


@pytest.mark.parametrize("num_images, wins, losses, min_delta", EQUAL_GAINS)
def test_a_gain_exactly_equal_to_min_delta_is_not_kept(num_images, wins, losses, min_delta):
    candidate, best = _results(num_images, wins, losses)
    decision = kit.ladder.decide(candidate, best, min_delta=min_delta)
    assert (decision.wins, decision.losses) == (wins, losses)
    assert decision.gain == min_delta  # exactly: the boundary case itself
    assert not decision.kept, decision
    assert decision.p_value is None
    assert decision.rule == f"gain > min_delta={min_delta:g}"


@pytest.mark.parametrize("num_images, wins, losses, min_delta", EQUAL_GAINS)
def test_one_more_win_than_the_boundary_is_kept(num_images, wins, losses, min_delta):
    candidate, best = _results(num_images, wins + 1, losses)
    decision = kit.ladder.decide(candidate, best, min_delta=min_delta)
    assert decision.gain == pytest.approx(min_delta + 1 / num_images, abs=1e-12)
    assert decision.kept


@pytest.mark.parametrize("num_images, wins, losses, min_delta", EQUAL_GAINS)
def test_one_win_less_than_the_boundary_is_not_kept(num_images, wins, losses, min_delta):
    if wins == 0:
        pytest.skip("no win to take away")
    candidate, best = _results(num_images, wins - 1, losses)
    assert not kit.ladder.decide(candidate, best, min_delta=min_delta).kept


@pytest.mark.parametrize(
    "wins, losses, confidence",
    [
        (3, 0, 0.875),  # P(X >= 3 | 3) = 1/8
        (4, 0, 0.9375),  # 1/16
        (5, 1, 0.890625),  # P(X >= 5 | 6) = 7/64
        (9, 1, 1 - 11 / 1024),  # P(X >= 9 | 10) = 11/1024
    ],
)
def test_a_p_value_exactly_at_one_minus_confidence_is_kept(wins, losses, confidence):
    # The "auto" rule keeps when p <= 1 - confidence: the boundary itself is kept.
    p_value = binomial_tail(wins, wins + losses)
    assert p_value == 1 - confidence  # exact binary fractions
    candidate, best = _results(100, wins, losses)
    decision = decide(candidate, best, confidence=confidence)
    assert decision.p_value == p_value
    assert decision.kept
    # One more loss makes the same wins weaker evidence: above the threshold, dropped.
    candidate, best = _results(100, wins, losses + 1)
    assert not decide(candidate, best, confidence=confidence).kept


def test_no_net_gain_is_never_kept_by_the_auto_rule():
    # wins == losses: gain 0, whatever the p-value (which is >= 0.5 here).
    for wins in range(0, 30):
        candidate, best = _results(200, wins, wins)
        decision = decide(candidate, best, confidence=0.51)
        assert decision.gain == 0 and not decision.kept


def test_the_public_decide_is_the_evidence_module_one():
    assert kit.ladder.decide is decide


@pytest.mark.parametrize("confidence", [0.5, 1.0, 0.0, 1.5])
def test_confidence_bounds_are_open(confidence):
    # (0.5, 1) open at both ends: 0.5 would keep a coin flip, 1 nothing ever.
    with pytest.raises(ValueError, match=r"`confidence` must be in \(0\.5, 1\)"):
        decide(np.ones(4), np.ones(4), confidence=confidence)


def test_empty_results_are_refused():
    with pytest.raises(ValueError, match="same non-empty set of images"):
        decide(np.array([], bool), np.array([], bool))
    assert decide(np.array([True]), np.array([False]), min_delta=0.5).kept  # one image is enough


def test_the_gain_interval_is_the_paired_normal_one_derived_by_hand():
    # 100 images, 12 wins, 2 losses: differences +1 (12), -1 (2), 0 (86); mean 0.1; the
    # sample variance is (12 * 0.9**2 + 2 * 1.1**2 + 86 * 0.1**2) / 99 = 13 / 99.
    candidate, best = _results(100, 12, 2)
    decision = decide(candidate, best)
    half_width = 1.96 * (13 / 99) ** 0.5 / 10
    assert decision.gain == pytest.approx(0.1, abs=1e-12)
    assert decision.low == pytest.approx(0.1 - half_width, abs=1e-12)
    assert decision.high == pytest.approx(0.1 + half_width, abs=1e-12)
    assert decision.interval() == f"+0.100 [{0.1 - half_width:+.3f}, {0.1 + half_width:+.3f}]"
    # One image: no spread to estimate, the interval is the gain itself (not NaN).
    single = decide(np.array([True]), np.array([False]))
    assert single.low == single.high == single.gain == 1.0


def test_the_auto_rule_states_its_p_value_and_threshold():
    candidate, best = _results(100, 3, 0)  # p = 1/8
    assert decide(candidate, best).rule == "McNemar p=0.125 (keep at <= 0.10)"
    assert decide(candidate, best, confidence=0.8).rule == "McNemar p=0.125 (keep at <= 0.20)"


def test_the_tail_of_a_single_discordant_image_is_a_coin():
    assert binomial_tail(1, 1) == 0.5 and binomial_tail(0, 1) == 1.0 and binomial_tail(2, 1) == 0.0
