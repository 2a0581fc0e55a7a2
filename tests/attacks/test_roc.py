"""ROC counting over tie groups: equal to scikit-learn on random scores with ties, weighted
counts equal counts of explicitly repeated scores, batches equal single weightings."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

import attacks
from attacks import roc


def random_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scores rounded to 0-2 decimals (many ties, members tied with non-members) and a
    random membership with both classes."""
    n = int(rng.integers(2, 400))
    scores = np.round(rng.normal(size=n), int(rng.integers(0, 3)))
    is_member = rng.random(n) < rng.uniform(0.05, 0.95)
    is_member[:2] = [True, False]
    return scores, rng.permutation(is_member)


@pytest.mark.parametrize("seed", range(40))
def test_roc_curve_and_auc_equal_scikit_learn(seed):
    scores, is_member = random_case(np.random.default_rng(seed))
    counts = roc.cumulative_counts(roc.rank(scores, is_member))
    fpr, tpr = roc.roc_curve(counts)
    sk_fpr, sk_tpr, _ = roc_curve(is_member, scores, drop_intermediate=False)
    np.testing.assert_array_equal(fpr, sk_fpr)
    np.testing.assert_array_equal(tpr, sk_tpr)
    # Ours is one exact integer ratio; scikit-learn's trapezoids round a little on the way.
    assert roc.auc(counts) == pytest.approx(roc_auc_score(is_member, scores), abs=1e-15)
    for target in (0.0, 0.01, 0.1, 0.5, 1.0):
        assert roc.tpr_at_fpr(counts, target=target) == np.max(sk_tpr[sk_fpr <= target + 1e-12])


@pytest.mark.parametrize("seed", range(20))
def test_weighted_counts_equal_repeated_scores(seed):
    """Weight w = the score repeated w times (0 removes it), as a bootstrap resample."""
    rng = np.random.default_rng(seed)
    scores, is_member = random_case(rng)
    weights = rng.integers(0, 4, size=(3, len(scores)))
    weights[:, :2] = 1  # both classes survive
    ranking = roc.rank(scores, is_member)
    batch = roc.cumulative_counts(ranking, weights=weights)
    batch_auc = roc.auc(batch)
    batch_tpr = roc.tpr_at_fpr(batch, target=0.1)
    for row, w in enumerate(weights):
        repeated = roc.cumulative_counts(roc.rank(np.repeat(scores, w), np.repeat(is_member, w)))
        single = roc.cumulative_counts(ranking, weights=w.astype(float))
        assert batch_auc[row] == pytest.approx(roc.auc(repeated), abs=1e-15) == roc.auc(single)
        assert batch_tpr[row] == roc.tpr_at_fpr(repeated, target=0.1) == roc.tpr_at_fpr(single, target=0.1)
        assert roc.auc(single) == pytest.approx(roc_auc_score(is_member, scores, sample_weight=w), abs=1e-12)


def test_weights_in_rank_order_equal_weights_in_score_order():
    rng = np.random.default_rng(1)
    scores, is_member = random_case(rng)
    weights = rng.integers(0, 3, size=(2, len(scores))).astype(np.int32)
    ranking = roc.rank(scores, is_member)
    in_order = roc.counts_in_rank_order(
        ranking, member_weights=weights[:, ranking.member_rows], non_member_weights=weights[:, ranking.non_member_rows]
    )
    plain = roc.cumulative_counts(ranking, weights=weights)
    np.testing.assert_array_equal(in_order.true_pos, plain.true_pos)
    np.testing.assert_array_equal(in_order.false_pos, plain.false_pos)
    assert in_order.non_members.dtype == np.int32  # integer weights are summed as integers


def test_int32_weights_give_the_exact_auc_past_the_int32_range():
    """A bootstrap's int32 weights are summed in int32 chunks: no chunk may overflow, even
    where the AUC's pair counts (here ~1e12) are far past 2**31."""
    rng = np.random.default_rng(5)
    scores, is_member = rng.normal(size=20_000), rng.random(20_000) < 0.5
    weights = rng.integers(0, 200, size=(2, 20_000)).astype(np.int32)
    ranking = roc.rank(scores, is_member)
    narrow, wide = roc.cumulative_counts(ranking, weights=weights), roc.cumulative_counts(ranking, weights=weights.astype(np.int64))
    assert narrow.non_members.dtype == np.int32 and int(narrow.non_members[:, -1].min()) ** 2 > 2**31
    np.testing.assert_array_equal(roc.auc(narrow), roc.auc(wide))
    assert roc.auc(narrow)[0] == pytest.approx(roc_auc_score(is_member, scores, sample_weight=weights[0]), abs=1e-12)


def test_unweighted_counts_are_integers_at_tie_group_ends():
    """What best_threshold needs: integer counts at the end of each tie group, highest first."""
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    is_member = np.array([True, False, True, True, False])
    ranking = roc.rank(scores, is_member)
    counts = roc.cumulative_counts(ranking)
    assert counts.true_pos.tolist() == [1, 3, 3] and counts.false_pos.tolist() == [0, 1, 2]
    assert counts.true_pos.dtype == np.int64
    assert scores[ranking.order[ranking.ends]].tolist() == [0.9, 0.5, 0.1]
    # Member 0.9 beats both non-members; members at 0.5 tie one (1/2) and beat one: 5/6.
    assert roc.auc(counts) == 5 / 6


def test_fpr_targets_written_in_decimal_are_reached():
    """1 of 1,000 non-members weighing 0.1 each is an FPR of 0.001, though the float sums
    make it 0.0010000000000000141: the 1e-12 tolerance counts it as <= 0.001."""
    scores = np.r_[np.arange(1000.0), [5000.0, 998.5]]  # the second member below 1 non-member
    is_member = np.r_[np.zeros(1000, bool), True, True]
    counts = roc.cumulative_counts(roc.rank(scores, is_member), weights=np.full(1002, 0.1))
    assert counts.false_pos[2] / counts.false_pos[-1] > 0.001
    assert roc.tpr_at_fpr(counts, target=0.001) == 1.0
    assert roc.tpr_at_fpr(counts, target=0.0009) == 0.5


def test_zero_total_weight_gives_nan():
    ranking = roc.rank(np.array([1.0, 0.0]), np.array([True, False]))
    counts = roc.cumulative_counts(ranking, weights=np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert np.isnan(roc.auc(counts)).all() and np.isnan(roc.tpr_at_fpr(counts, target=0.5)).all()


def test_the_metric_modules_need_neither_sklearn_nor_torch():
    """An audit calls these thousands of times; scikit-learn's validation costs ~1 ms a call."""
    root = Path(attacks.__file__).parent
    for module in ("roc", "intervals", "privacy_audit", "metrics"):
        tree = ast.parse((root / f"{module}.py").read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {name.split(".")[0] for name in imported} & {"sklearn", "torch"}, module


@pytest.mark.parametrize("seed", range(10))
def test_group_weights_equal_the_same_weights_per_score(seed):
    """Weights constant within groups (targets) from per-group counts, as from every score."""
    rng = np.random.default_rng(seed)
    n_groups, per_group = int(rng.integers(1, 6)), int(rng.integers(2, 60))
    scores = np.round(rng.normal(size=n_groups * per_group), int(rng.integers(0, 3)))
    is_member = rng.random(len(scores)) < 0.5
    is_member[:2] = [True, False]
    ranking = roc.rank(scores, is_member)
    groups = roc.group_counts(ranking, np.repeat(np.arange(n_groups), per_group), n_groups=n_groups)
    weights = rng.integers(0, 3, size=(5, n_groups))
    weights[:, 0] = np.maximum(weights[:, 0], 1)  # the first group holds both classes
    per_score = roc.cumulative_counts(ranking, weights=np.repeat(weights, per_group, axis=1))
    np.testing.assert_allclose(roc.group_auc(groups, weights), roc.auc(per_score), atol=1e-15)
    for target in (0.0, 0.05, 0.3, 1.0):
        np.testing.assert_array_equal(
            roc.group_tpr_at_fpr(groups, weights, target=target), roc.tpr_at_fpr(per_score, target=target)
        )
