"""The ladder's decision rule, on scripted per-image results (no training)."""

import numpy as np
import pytest
from scipy import stats

from keras_accuracy_kit.ladder.evidence import binomial_tail, decide, stratified_folds


def _pair(rng, num_images, accuracy, redrawn, candidate_accuracy):
    """Per-image results of the best configuration and of a candidate.

    Two trainings agree on most images; on a share `redrawn` of them the candidate's
    result is drawn afresh, with accuracy `candidate_accuracy` there. The candidate's
    expected gain is `redrawn * (candidate_accuracy - accuracy)`.
    """
    best = rng.random(num_images) < accuracy
    candidate = best.copy()
    again = rng.random(num_images) < redrawn
    candidate[again] = rng.random(int(again.sum())) < candidate_accuracy
    return candidate, best


def _kept(seeds, **pair):
    return sum(decide(*_pair(np.random.default_rng(seed), **pair)).kept for seed in seeds)


def test_a_trick_that_changes_nothing_is_rarely_kept():
    # 600 judged images (a validation set of 600, or 3 folds over 600 labelled images);
    # 30 % of the images re-drawn at the same accuracy: about 8 % of them disagree.
    nothing = {"num_images": 600, "accuracy": 0.85, "redrawn": 0.3, "candidate_accuracy": 0.85}
    assert _kept(range(20), **nothing) <= 2
    # The rule's promise at any size: kept in at most 10 % of the cases (exact test).
    assert _kept(range(400), **nothing) <= 40
    assert _kept(range(400), **dict(nothing, num_images=200)) <= 40


def test_a_trick_that_helps_by_three_points_is_kept():
    helps = {"num_images": 600, "accuracy": 0.85, "redrawn": 0.3, "candidate_accuracy": 0.95}
    assert _kept(range(20), **helps) >= 16


def test_a_trick_that_hurts_is_never_kept():
    hurts = {"num_images": 600, "accuracy": 0.85, "redrawn": 0.3, "candidate_accuracy": 0.75}
    assert _kept(range(20), **hurts) == 0


def test_counts_gain_and_interval_by_hand():
    best = np.array([1] * 80 + [0] * 20, bool)
    candidate = best.copy()
    candidate[80:90] = True  # 10 wins
    candidate[:4] = False  # 4 losses
    decision = decide(candidate, best)
    assert (decision.wins, decision.losses) == (10, 4)
    assert decision.gain == pytest.approx(0.06)
    differences = candidate.astype(float) - best.astype(float)
    half_width = 1.96 * differences.std(ddof=1) / 10
    assert decision.low == pytest.approx(0.06 - half_width)
    assert decision.high == pytest.approx(0.06 + half_width)
    assert decision.p_value == pytest.approx(stats.binom.sf(9, 14, 0.5))  # P(X >= 10)
    assert decision.kept == (decision.p_value <= 0.1)


@pytest.mark.parametrize("wins, trials", [(0, 0), (0, 5), (3, 3), (7, 10), (30, 41), (1, 60)])
def test_the_exact_tail_equals_scipy(wins, trials):
    expected = 1.0 if trials == 0 else stats.binom.sf(wins - 1, trials, 0.5)
    assert binomial_tail(wins, trials) == pytest.approx(expected, rel=1e-12)


def test_a_fixed_min_delta_keeps_only_a_gain_strictly_above_it():
    best = np.array([1] * 50 + [0] * 50, bool)
    candidate = best.copy()
    candidate[50:52] = True  # +0.02 exactly
    assert not decide(candidate, best, min_delta=0.02).kept
    assert decide(candidate, best, min_delta=0.019).kept
    assert not decide(best, best, min_delta=0.0).kept  # no gain is no gain


def test_the_rule_needs_results_on_the_same_images():
    with pytest.raises(ValueError, match="same non-empty set of images"):
        decide(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="`confidence` must be in"):
        decide(np.ones(3), np.ones(3), confidence=1.0)


def test_folds_are_stratified_and_seeded():
    labels = np.repeat(np.arange(5), [10, 7, 3, 1, 9])
    folds = stratified_folds(labels, 3, seed=4)
    for label in range(5):
        counts = np.bincount(folds[labels == label], minlength=3)
        assert counts.max() - counts.min() <= 1
    assert abs(np.bincount(folds).max() - np.bincount(folds).min()) <= 1
    np.testing.assert_array_equal(folds, stratified_folds(labels, 3, seed=4))
    assert not np.array_equal(folds, stratified_folds(labels, 3, seed=5))
