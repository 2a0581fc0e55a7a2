"""Metrics against fixtures worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attacks import (
    AttackInputError,
    dp_tpr_bound,
    evaluate,
    evaluate_pooled,
    per_class_metrics,
    ppv,
    vulnerability,
)
from attacks.intervals import pooled_intervals

# Six members and six non-members (TF Privacy's style of fixture). Members beat non-members
# in 32 of the 36 pairs: 0.1, 0.2, 0.3 beat all six, 0.4 and 0.5 beat five (not 0.35),
# 0.6 beats four (not 0.35, 0.55).
MEMBER_LOSSES = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
NON_MEMBER_LOSSES = np.array([0.35, 0.55, 0.7, 0.8, 0.9, 1.0])


def six_and_six():
    scores = -np.concatenate([MEMBER_LOSSES, NON_MEMBER_LOSSES])
    return scores, np.r_[np.ones(6, bool), np.zeros(6, bool)]


def test_auc_of_six_and_six():
    metrics = evaluate(*six_and_six())
    assert metrics.auc == pytest.approx(32 / 36)
    assert (metrics.n_members, metrics.n_non_members) == (6, 6)


def test_auc_counts_ties_one_half():
    assert evaluate(np.array([1.0, 1.0]), np.array([True, False])).auc == 0.5


# Ten non-members at 0.0 .. 0.9 and five members. Descending: 0.95 m, 0.9 n, 0.85 m,
# 0.8 n, 0.7 n, 0.6 n, 0.55 m, ... ROC corners: (0, .2), (.1, .4), (.4, .6), (.7, .8), (.9, 1).
TPR_SCORES = np.r_[np.arange(10) / 10, [0.95, 0.85, 0.55, 0.25, 0.05]]
TPR_MEMBERS = np.r_[np.zeros(10, bool), np.ones(5, bool)]


def test_tpr_at_fpr_by_hand():
    metrics = evaluate(TPR_SCORES, TPR_MEMBERS, fpr_targets=(0.0, 0.05, 0.1, 0.35, 0.5))
    assert metrics.tpr_at_fpr == {0.0: 0.2, 0.05: 0.2, 0.1: 0.4, 0.35: 0.4, 0.5: 0.6}


def test_tpr_is_zero_when_no_threshold_reaches_the_fpr():
    # The top score is a non-member: no threshold with FPR <= 0.05 catches a member.
    metrics = evaluate(
        np.array([0.9, 0.5, 0.1] + [0.0] * 17), np.array([False, True, True] + [False] * 17), fpr_targets=(0.05,)
    )
    assert metrics.tpr_at_fpr[0.05] == 0.0


def test_advantage_by_hand():
    assert evaluate(TPR_SCORES, TPR_MEMBERS).advantage == pytest.approx(0.3)
    # Losses ascending: 0.1 m, 0.2 m, 0.3 m, 0.35 n, 0.4 m, 0.5 m, 0.55 n, 0.6 m, ... Cutting
    # after 0.5 gives TPR 5/6 at FPR 1/6 (after 0.6: 6/6 at 2/6): advantage 4/6.
    assert evaluate(*six_and_six()).advantage == pytest.approx(4 / 6)


def test_resolvable_needs_one_over_fpr_non_members():
    metrics = evaluate(TPR_SCORES, TPR_MEMBERS, fpr_targets=(0.001, 0.01, 0.1))
    assert metrics.resolvable == {0.001: False, 0.01: False, 0.1: True}


def test_roc_starts_at_origin_and_ends_at_one():
    metrics = evaluate(TPR_SCORES, TPR_MEMBERS)
    assert (metrics.fpr[0], metrics.tpr[0], metrics.fpr[-1], metrics.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_evaluate_rejects_one_class_and_nan():
    with pytest.raises(AttackInputError, match="0 non-members"):
        evaluate(np.array([0.1, 0.2]), np.array([True, True]))
    with pytest.raises(AttackInputError, match="NaN"):
        evaluate(np.array([np.nan, 0.2]), np.array([True, False]))


def test_dp_tpr_bound_values():
    fpr = np.array([0.0, 0.1, 0.5, 1.0])
    np.testing.assert_allclose(dp_tpr_bound(fpr, epsilon=math.log(2), delta=0.0), [0.0, 0.2, 0.75, 1.0])
    np.testing.assert_allclose(dp_tpr_bound(fpr, epsilon=math.log(2), delta=0.01)[:2], [0.01, 0.21])
    # Largest advantage under the bound: (e^eps - 1 + 2 delta) / (e^eps + 1).
    grid = np.linspace(0, 1, 100_001)
    eps, delta = 1.0, 1e-3
    assert np.max(dp_tpr_bound(grid, epsilon=eps, delta=delta) - grid) == pytest.approx(
        (math.e - 1 + 2 * delta) / (math.e + 1), abs=1e-4
    )


def test_ppv_at_a_prior():
    assert ppv(0.5, 0.01, prior=0.5) == pytest.approx(0.5 / 0.51)
    assert ppv(0.5, 0.01, prior=0.01) == pytest.approx(0.005 / (0.005 + 0.0099))
    assert math.isnan(ppv(0.0, 0.0, prior=0.5))
    np.testing.assert_allclose(ppv(np.array([1.0, 0.0]), np.array([0.0, 1.0]), prior=0.5), [1.0, 0.0])


def test_vulnerability_by_hand():
    keep = np.array([[True, True, False, False], [False, False, True, True], [True, False, True, False]])
    scores = np.array([[0.9, 0.1, 0.5, 0.2], [0.3, 0.6, 0.3, 0.8], [np.nan] * 4])
    # Model 0: 0.9 beats both non-members (1.0), 0.1 neither (0.0). Model 1: 0.3 ties 0.3 and
    # loses to 0.6 (0.25), 0.8 beats both (1.0). Model 2 was not attacked.
    np.testing.assert_allclose(vulnerability(scores, keep), [1.0, 0.0, 0.25, 1.0])


def test_vulnerability_is_nan_for_never_attacked_members():
    keep = np.array([[True, False, False]])
    assert np.isnan(vulnerability(np.array([[0.5, 0.1, 0.2]]), keep)[1:]).all()


def test_per_class_metrics():
    labels = np.array([0, 0, 1, 1])
    keep = np.array([[True, False, True, False], [False, True, False, True]])
    scores = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])  # class 0 right, class 1 inverted
    by_class = {c.label: c for c in per_class_metrics(scores, keep, labels)}
    assert by_class[0].auc == 1.0 and by_class[0].tpr_at_1pct_fpr == 1.0
    assert by_class[1].auc == 0.0 and by_class[1].tpr_at_1pct_fpr == 0.0
    assert (by_class[0].n_members, by_class[0].n_non_members) == (2, 2)


def test_evaluate_pooled_ignores_unattacked_rows():
    rng = np.random.default_rng(2)
    keep = np.argsort(rng.random((4, 500)), axis=0) < 2
    scores = keep + rng.normal(size=keep.shape)
    scores[1] = np.nan
    pooled = evaluate_pooled(scores, keep, bootstrap=50)
    attacked = [0, 2, 3]
    assert pooled.n_targets == 3 and len(pooled.auc_per_target) == 3
    assert pooled.auc == pytest.approx(evaluate(scores[attacked].ravel(), keep[attacked].ravel()).auc)
    assert pooled.n_members + pooled.n_non_members == 1500
    assert pooled.auc_ci[0] < pooled.auc < pooled.auc_ci[1]
    for target, (low, high) in pooled.tpr_ci.items():
        assert low <= pooled.tpr_at_fpr[target] <= high
    assert len(pooled.roc_fpr) == len(pooled.roc_tpr) <= 301
    assert pooled.roc_fpr[1] == pytest.approx(1 / pooled.n_non_members)
    assert np.all(np.diff(pooled.roc_tpr) >= 0)


def test_evaluate_pooled_auc_per_target_is_each_rows_own_auc():
    rng = np.random.default_rng(6)
    keep = np.argsort(rng.random((5, 200)), axis=0) < 2
    keep[4] = True  # a target without non-members has no AUC
    scores = np.round(keep * rng.normal(1.0, 0.5, size=(5, 1)) + rng.normal(size=keep.shape), 1)
    per_target = evaluate_pooled(scores, keep, bootstrap=0).auc_per_target
    assert per_target[:4] == pytest.approx([evaluate(s, k).auc for s, k in zip(scores[:4], keep[:4])])
    assert math.isnan(per_target[4])


def test_evaluate_pooled_without_bootstrap():
    keep = np.array([[True, False], [False, True]])
    pooled = evaluate_pooled(np.array([[1.0, 0.0], [0.0, 1.0]]), keep, bootstrap=0)
    assert pooled.auc == 1.0 and pooled.auc_ci is None and pooled.tpr_ci is None


def test_evaluate_pooled_bootstrap_matches_a_slow_resampling():
    """The weighted-cumsum bootstrap of candidates equals evaluate() on explicitly resampled
    candidates (the two-level resamples are checked the same way in test_intervals.py)."""
    rng = np.random.default_rng(3)
    keep = np.argsort(rng.random((4, 300)), axis=0) < 2
    scores = np.round(keep + rng.normal(size=keep.shape), 1)  # ties included
    pooled = evaluate_pooled(
        scores, keep, bootstrap=40, seed=7, fpr_targets=(0.01, 0.1), interval_method="candidates"
    )
    draws = np.random.default_rng(7).integers(0, 300, size=(40, 300))
    slow = [evaluate(scores[:, d].ravel(), keep[:, d].ravel(), fpr_targets=(0.01, 0.1)) for d in draws]
    assert pooled.auc_ci == pytest.approx(tuple(np.percentile([m.auc for m in slow], [2.5, 97.5])))
    assert pooled.tpr_ci[0.1] == pytest.approx(tuple(np.percentile([m.tpr_at_fpr[0.1] for m in slow], [2.5, 97.5])))


def test_evaluate_pooled_intervals_include_model_to_model_variance_by_default():
    rng = np.random.default_rng(4)
    keep = np.argsort(rng.random((6, 400)), axis=0) < 3
    scores = keep * rng.normal(1.0, 0.5, size=(6, 1)) + rng.normal(size=keep.shape)  # effect varies per model
    pooled = evaluate_pooled(scores, keep, fpr_targets=(0.01,), seed=3)
    two_level = pooled_intervals(scores, keep, fpr_targets=(0.01,), seed=3)
    assert pooled.interval_method == "two-level"
    assert pooled.auc_ci == (two_level.auc.low, two_level.auc.high)
    assert pooled.tpr_ci[0.01] == (two_level.tpr_at_fpr[0.01].low, two_level.tpr_at_fpr[0.01].high)
    candidates = evaluate_pooled(scores, keep, fpr_targets=(0.01,), seed=3, interval_method="candidates")
    assert candidates.auc_ci[1] - candidates.auc_ci[0] < pooled.auc_ci[1] - pooled.auc_ci[0]


def test_evaluate_pooled_of_one_target_describes_that_model():
    keep = np.array([[True, False] * 50])
    scores = keep + np.random.default_rng(5).normal(size=keep.shape)
    pooled = evaluate_pooled(scores, keep, bootstrap=20)
    assert pooled.interval_method == "candidates" and pooled.auc_ci[0] < pooled.auc < pooled.auc_ci[1]
    with pytest.raises(AttackInputError, match="unknown interval method 'pigeonhole'"):
        evaluate_pooled(scores, keep, interval_method="pigeonhole")


def test_evaluate_pooled_rejects_partial_rows():
    scores = np.array([[0.1, np.nan], [0.2, 0.3]])
    with pytest.raises(AttackInputError, match=r"rows \[0\] are partly NaN"):
        evaluate_pooled(scores, np.array([[True, False], [False, True]]))
