"""Intervals of pooled metrics: the weighted resamples equal explicit ones, and nominal 95%
intervals cover a known truth about 95% of the time at the demo's scale (8 target models,
1,000 candidates), where resampling candidates only does not."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from attacks import AttackInputError, bootstrap, evaluate
from attacks.bootstrap import Draws, RankedPool
from attacks.intervals import paired_difference, pooled_intervals

# The generative model of scores (higher = member). Target model t has its own offset and
# its own membership effect; candidate i its own difficulty (seen by every model) and
# vulnerability (a member's extra score, >= 0); each score has its own noise:
#   score[t, i] = offset[t] + difficulty[i] + keep[t, i] * (effect[t] + vulnerability[i]) + noise
OFFSET_SD = 0.3
EFFECT_MEAN, EFFECT_SD = 0.5, 0.25
DIFFICULTY_SD = 1.0
VULNERABILITY_MEAN = 0.5  # exponential: a few candidates are far more exposed than most
NOISE_SD = 1.0
# Regime B (say, flooded) halves every membership effect, varies per model on its own too,
# and shares half of each score's noise with the paired model of regime A (same seed).
B_SHRINK, B_EFFECT_SD, NOISE_CORRELATION = 0.5, 0.1, 0.5
# Per-model test accuracy: A ~ 0.70, B loses 2 points; pairs share most of their variation.
ACCURACY_DROP = -0.02

T, N = 8, 1000  # the demo's scale
REPLICATES = 300
RESAMPLES = 200


def simulate(rng: np.random.Generator, *, n_targets: int = T, n_candidates: int = N) -> dict[str, np.ndarray]:
    """One audit of both regimes: ``a``, ``b`` scores ``[T, n]``, ``keep [T, n]`` (each
    candidate IN for half of the targets), per-model accuracies ``accuracy_a``, ``accuracy_b``."""
    keep = np.argsort(rng.random((n_targets, n_candidates)), axis=0) < n_targets // 2
    offset = rng.normal(0.0, OFFSET_SD, size=(n_targets, 1))
    effect = rng.normal(EFFECT_MEAN, EFFECT_SD, size=(n_targets, 1))
    effect_b = B_SHRINK * effect + rng.normal(0.0, B_EFFECT_SD, size=(n_targets, 1))
    difficulty = rng.normal(0.0, DIFFICULTY_SD, size=n_candidates)
    vulnerability = rng.exponential(VULNERABILITY_MEAN, size=n_candidates)
    noise = rng.normal(0.0, NOISE_SD, size=(2, n_targets, n_candidates))
    noise_b = NOISE_CORRELATION * noise[0] + np.sqrt(1 - NOISE_CORRELATION**2) * noise[1]
    accuracy_a = rng.normal(0.70, 0.01, size=n_targets)
    return {
        "a": offset + difficulty + keep * (effect + vulnerability) + noise[0],
        "b": offset + difficulty + keep * (effect_b + B_SHRINK * vulnerability) + noise_b,
        "keep": keep,
        "accuracy_a": accuracy_a,
        "accuracy_b": accuracy_a + ACCURACY_DROP + rng.normal(0.0, 0.003, size=n_targets),
    }


def true_metrics(rng: np.random.Generator, *, size: int = 4_000_000) -> dict[str, tuple[float, float]]:
    """Pooled AUC and TPR at 1% FPR of each regime over infinitely many targets and
    candidates: a member score draws its own target and candidate, as does a non-member's.
    Monte Carlo with ``size`` scores per class (standard error < 3e-4)."""

    def unexposed() -> np.ndarray:
        return rng.normal(0.0, OFFSET_SD, size) + rng.normal(0.0, DIFFICULTY_SD, size) + rng.normal(0.0, NOISE_SD, size)

    common, non_members = unexposed(), np.sort(unexposed())
    effect = rng.normal(EFFECT_MEAN, EFFECT_SD, size)
    vulnerability = rng.exponential(VULNERABILITY_MEAN, size)
    members = {
        "a": common + effect + vulnerability,
        "b": common + B_SHRINK * effect + rng.normal(0.0, B_EFFECT_SD, size) + B_SHRINK * vulnerability,
    }
    threshold = non_members[int(0.99 * size)]
    # Sorted queries make the search cache-friendly; ties have probability 0.
    return {
        regime: (float(np.mean(np.searchsorted(non_members, np.sort(m))) / size), float(np.mean(m > threshold)))
        for regime, m in members.items()
    }


@pytest.fixture(scope="module")
def truth() -> dict[str, tuple[float, float]]:
    return true_metrics(np.random.default_rng(2023))


def covered(interval, value: float) -> bool:
    return interval.low <= value <= interval.high


# --- the resampling engine ------------------------------------------------------------


def test_two_level_resamples_equal_explicit_resampling():
    """Weights u[t] * v[i] equal evaluate() on the explicitly repeated rows and columns, for
    every scheme (both levels, targets only, candidates only); ties included."""
    rng = np.random.default_rng(3)
    keep = np.argsort(rng.random((5, 60)), axis=0) < 2
    scores = np.round(keep + rng.normal(size=keep.shape), 1)
    draws = Draws.of(4, n_targets=5, n_candidates=60, size=6)
    auc, tpr = RankedPool.of(scores, keep).replicates(draws, fpr_targets=(0.05, 0.2), two_level=True)
    ones_t, ones_c = np.ones(5, int), np.ones(60, int)
    for b, (u, v) in enumerate(zip(draws.targets, draws.candidates)):
        for scheme, (rows, columns) in enumerate([(u, v), (u, ones_c), (ones_t, v)]):
            picked = np.repeat(np.arange(5), rows)[:, None], np.repeat(np.arange(60), columns)[None, :]
            slow = evaluate(scores[picked].ravel(), keep[picked].ravel(), fpr_targets=(0.05, 0.2))
            assert auc[scheme, b] == pytest.approx(slow.auc, abs=1e-12)
            assert tpr[scheme, b].tolist() == [slow.tpr_at_fpr[0.05], slow.tpr_at_fpr[0.2]]


def test_resamples_in_threaded_blocks_equal_one_block(monkeypatch):
    """Blocks of one resample, spread over threads, give the very numbers of one block."""
    rng = np.random.default_rng(8)
    keep = np.argsort(rng.random((6, 500)), axis=0) < 3
    scores = np.round(keep + rng.normal(size=keep.shape), 2)
    draws = Draws.of(9, n_targets=6, n_candidates=500, size=30)
    one_block = RankedPool.of(scores, keep).replicates(draws, fpr_targets=(0.01, 0.1), two_level=True)
    monkeypatch.setattr(bootstrap, "_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(bootstrap, "usable_cores", lambda: 3)
    blocks = RankedPool.of(scores, keep).replicates(draws, fpr_targets=(0.01, 0.1), two_level=True)
    np.testing.assert_array_equal(blocks[0], one_block[0])
    np.testing.assert_array_equal(blocks[1], one_block[1])
    assert draws.candidates.dtype == np.int16  # the narrow weights were the ones summed


def test_candidates_method_is_the_percentile_of_candidate_resamples():
    rng = np.random.default_rng(5)
    keep = np.argsort(rng.random((4, 300)), axis=0) < 2
    scores = np.round(keep + rng.normal(size=keep.shape), 1)
    result = pooled_intervals(scores, keep, n_resamples=40, seed=7, fpr_targets=(0.1,), method="candidates")
    draws = np.random.default_rng(7).integers(0, 300, size=(40, 300))
    slow = [evaluate(scores[:, d].ravel(), keep[:, d].ravel(), fpr_targets=(0.1,)) for d in draws]
    auc_low, auc_high = np.percentile([m.auc for m in slow], [2.5, 97.5])
    assert (result.auc.low, result.auc.high) == pytest.approx((auc_low, auc_high))
    low, high = np.percentile([m.tpr_at_fpr[0.1] for m in slow], [2.5, 97.5])
    assert (result.tpr_at_fpr[0.1].low, result.tpr_at_fpr[0.1].high) == pytest.approx((low, high))


def test_two_level_interval_contains_the_estimate_and_reports_components():
    data = simulate(np.random.default_rng(6))
    result = pooled_intervals(data["a"], data["keep"], fpr_targets=(0.01,))
    pooled = evaluate(data["a"].ravel(), data["keep"].ravel(), fpr_targets=(0.01,))
    assert result.auc.estimate == pytest.approx(pooled.auc) and covered(result.auc, pooled.auc)
    assert result.tpr_at_fpr[0.01].estimate == pooled.tpr_at_fpr[0.01]
    parts = result.auc.components
    assert result.auc.standard_error**2 == pytest.approx(parts.targets + parts.candidates + parts.noise)
    assert T - 1 <= result.auc.df  # Satterthwaite never trusts the 8 models more than 7 df
    assert parts.targets > parts.candidates  # models differ more than candidate draws matter


def test_unattacked_rows_are_ignored():
    data = simulate(np.random.default_rng(7), n_candidates=200)
    scores = data["a"].copy()
    scores[2] = np.nan
    attacked = np.arange(T) != 2
    assert pooled_intervals(scores, data["keep"]) == pooled_intervals(data["a"][attacked], data["keep"][attacked])


def test_paired_difference_of_identical_regimes_is_exactly_zero():
    data = simulate(np.random.default_rng(8), n_candidates=200)
    accuracy = data["accuracy_a"]
    same = paired_difference(data["a"], data["a"], data["keep"], per_model_a=accuracy, per_model_b=accuracy)
    for interval in (same.auc, same.tpr_at_fpr[0.01], same.per_model):
        assert (interval.estimate, interval.low, interval.high) == (0.0, 0.0, 0.0)


def test_paired_difference_swaps_sign_with_the_regimes():
    data = simulate(np.random.default_rng(9), n_candidates=300)
    forward = paired_difference(data["a"], data["b"], data["keep"])
    backward = paired_difference(data["b"], data["a"], data["keep"])
    assert forward.auc.estimate == pytest.approx(-backward.auc.estimate)
    assert (forward.auc.low, forward.auc.high) == pytest.approx((-backward.auc.high, -backward.auc.low))


def test_per_model_difference_is_the_paired_t_interval():
    data = simulate(np.random.default_rng(10), n_candidates=100)
    result = paired_difference(
        data["a"], data["b"], data["keep"], per_model_a=data["accuracy_a"], per_model_b=data["accuracy_b"], level=0.99
    )
    test = stats.ttest_rel(data["accuracy_b"], data["accuracy_a"])
    low, high = test.confidence_interval(confidence_level=0.99)
    assert (result.per_model.low, result.per_model.high) == pytest.approx((low, high))


def test_a_smaller_level_gives_a_narrower_interval():
    data = simulate(np.random.default_rng(11), n_candidates=300)
    wide = paired_difference(data["a"], data["b"], data["keep"], level=1 - 0.05 / 6)
    narrow = paired_difference(data["a"], data["b"], data["keep"], level=0.95)
    assert wide.auc.low < narrow.auc.low < narrow.auc.high < wide.auc.high


def test_errors_name_the_problem():
    data = simulate(np.random.default_rng(12), n_candidates=50)
    scores, keep = data["a"], data["keep"]
    with pytest.raises(AttackInputError, match="need >= 2 attacked targets.*method='candidates'"):
        pooled_intervals(scores[:1], keep[:1])
    with pytest.raises(AttackInputError, match="level must lie in"):
        pooled_intervals(scores, keep, level=95)
    with pytest.raises(AttackInputError, match="unknown interval method 'bca'"):
        pooled_intervals(scores, keep, method="bca")
    unattacked = data["b"].copy()
    unattacked[0] = np.nan
    with pytest.raises(AttackInputError, match=r"different target rows \(\[0, 1"):
        paired_difference(scores, unattacked, keep)
    with pytest.raises(AttackInputError, match="together, or neither"):
        paired_difference(scores, data["b"], keep, per_model_a=data["accuracy_a"])


# --- coverage against a known truth -------------------------------------------------------


@pytest.mark.slow
def test_two_level_intervals_cover_the_truth_and_candidate_resampling_does_not(truth):
    """Nominal 95% intervals from 300 independent audits of 8 models x 1,000 candidates.

    The two-level interval must cover the pooled AUC and TPR at 1% FPR of the generating
    process in 90-98% of the audits; today's candidates-only interval, blind to
    model-to-model variance, covers the AUC far less often.
    """
    rng = np.random.default_rng(2024)
    hits = {"two-level": [], "candidates": []}
    for _ in range(REPLICATES):
        data = simulate(rng)
        for method, method_hits in hits.items():
            seed = int(rng.integers(2**31))
            result = pooled_intervals(
                data["a"], data["keep"], fpr_targets=(0.01,), n_resamples=RESAMPLES, method=method, seed=seed
            )
            method_hits.append((covered(result.auc, truth["a"][0]), covered(result.tpr_at_fpr[0.01], truth["a"][1])))
    coverage = {method: np.mean(h, axis=0) for method, h in hits.items()}
    assert np.all((0.90 <= coverage["two-level"]) & (coverage["two-level"] <= 0.98)), coverage
    assert coverage["candidates"][0] < 0.90, coverage


@pytest.mark.slow
def test_paired_differences_cover_the_true_difference(truth):
    """B - A of the pooled AUC, of TPR at 1% FPR and of mean accuracy, 200 audits."""
    true_difference = (truth["b"][0] - truth["a"][0], truth["b"][1] - truth["a"][1], ACCURACY_DROP)
    rng = np.random.default_rng(2025)
    hits = []
    for _ in range(200):
        data = simulate(rng)
        result = paired_difference(
            data["a"],
            data["b"],
            data["keep"],
            per_model_a=data["accuracy_a"],
            per_model_b=data["accuracy_b"],
            n_resamples=RESAMPLES,
            seed=int(rng.integers(2**31)),
        )
        intervals = (result.auc, result.tpr_at_fpr[0.01], result.per_model)
        hits.append([covered(i, d) for i, d in zip(intervals, true_difference)])
    coverage = np.mean(hits, axis=0)
    assert np.all((0.90 <= coverage) & (coverage <= 0.98)), coverage


def test_the_t_quantile_is_scipy_stats_own():
    from scipy import stats

    from attacks.intervals import _t_quantile

    for probability in (0.9, 0.975, 0.995):
        for df in (1, 2.5, 7, 30.2, 1000):
            assert _t_quantile(probability, df) == float(stats.t.ppf(probability, df))
