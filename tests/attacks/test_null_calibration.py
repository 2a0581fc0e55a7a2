"""Null calibration: where membership changes nothing, every attack scores at chance.

Every registered attack runs exactly as the pipeline runs it (``leave_one_out_scores`` over
a pool whose keep matrix comes from ``make_keep_matrix``) on exchangeable data at the demo's
scale: 8 models, 1,000 candidates, 10 classes, one query. Each candidate has its own
difficulty (a true-class margin) that every model sees, plus noise of its own per model, so
per-example attacks have structure to calibrate on, but the logits never depend on ``keep``.
Any departure from chance is then the target's membership leaking into its calibration
(docs/statistics.md, "Calibration").

Tolerances, averaged over 16 seeds (each pooled over the 8 targets: 4,000 members and 4,000
non-members): AUC 0.5 +- 0.01 and TPR at 1% FPR in [0.7%, 1.35%]; over 100 seeds of the
new design the per-seed standard deviations were at most about 0.009 (AUC) and 0.25%
(TPR), and the TPR means 0.94-1.07%, so both bounds sit about 4 standard errors of a 16-seed
mean away. And no link between a target's score offset and its number of members:
|Pearson r| < 0.35 over 128 (target, seed) pairs, about 3.5 standard errors of r under
independence. That part needs member counts that vary, so it uses the old LiRA keep matrix
(columns balanced, rows not). Without per-candidate balancing the shadow attack gave
r = -0.99 and a pooled AUC of 0.488; see docs/statistics.md for every attack under the
old design, the two half designs and the new one, and for what these tolerances cannot see.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from attacks import available_attacks, leave_one_out_scores
from audit.data.keep import make_keep_matrix

N_MODELS, N_CANDIDATES, N_CLASSES = 8, 1000, 10
SEEDS = range(16)
# r of independent offsets and counts has a standard error of about 1 / sqrt(7 * seeds) (each
# seed's 8 counts sum to a constant): 0.1 over 16 seeds.
OFFSET_SEEDS = range(16)
# Scores that take a few values only: their ROC has no point near 1% FPR, so AUC only.
DISCRETE_SCORES = {"label-only"}


def exchangeable_pool(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``logits [M, n, 1, C]`` float32 and ``labels [n]``, independent of any keep matrix."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    labels = rng.integers(N_CLASSES, size=N_CANDIDATES)
    margin = rng.normal(1.0, 2.0, size=N_CANDIDATES)  # the candidate's difficulty, shared by every model
    logits = rng.normal(0.0, 1.0, size=(N_MODELS, N_CANDIDATES, 1, N_CLASSES))
    logits[:, np.arange(N_CANDIDATES), 0, labels] += margin
    return logits.astype(np.float32), labels


def column_balanced_keep(seed: int) -> np.ndarray:
    """LiRA's construction: every candidate IN for half of the models, members per model free.
    Drawn from a stream of its own, independent of :func:`exchangeable_pool`'s."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    ranks = rng.random((N_MODELS, N_CANDIDATES)).argsort(axis=0)
    return ranks < N_MODELS // 2


def pooled_auc_and_tpr(scores: np.ndarray, keep: np.ndarray, *, fpr_target: float = 0.01) -> tuple[float, float]:
    """AUC and the largest TPR with FPR <= ``fpr_target`` of all targets' scores pooled."""
    fpr, tpr, _ = roc_curve(keep.ravel(), scores.ravel())
    # 40 / 4000 can land an ulp above 0.01.
    return roc_auc_score(keep.ravel(), scores.ravel()), float(tpr[fpr <= fpr_target + 1e-12].max())


def target_offsets(scores: np.ndarray) -> np.ndarray:
    """Each target's mean score less the pool's mean on the same candidates, ``[M]``."""
    return (scores - scores.mean(axis=0)).mean(axis=1)


def null_figures(
    name: str, *, keep_matrix=make_keep_matrix, seeds=SEEDS, offset_seeds=OFFSET_SEEDS
) -> dict[str, float]:
    """Mean pooled AUC and TPR at 1% FPR over ``seeds`` with ``keep_matrix(num_models=,
    num_examples=, seed=)``, and Pearson r between target offsets and member counts over every
    (target, seed) of ``offset_seeds`` with a column-balanced keep matrix whose rows are not
    balanced."""
    aucs, tprs, offsets, counts = [], [], [], []
    for seed in seeds:
        logits, labels = exchangeable_pool(seed)
        keep = keep_matrix(num_models=N_MODELS, num_examples=N_CANDIDATES, seed=seed)
        auc, tpr = pooled_auc_and_tpr(leave_one_out_scores(name, logits=logits, keep=keep, labels=labels), keep)
        aucs.append(auc)
        tprs.append(tpr)
    for seed in offset_seeds:
        logits, labels = exchangeable_pool(seed)
        keep = column_balanced_keep(seed)
        offsets.append(target_offsets(leave_one_out_scores(name, logits=logits, keep=keep, labels=labels)))
        counts.append(keep.sum(axis=1))
    # Offsets that never vary (an attack blind to the models) give r = NaN: no link either.
    r = np.nan_to_num(np.corrcoef(np.concatenate(offsets), np.concatenate(counts))[0, 1])
    return {"auc": float(np.mean(aucs)), "tpr": float(np.mean(tprs)), "r": float(r)}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(available_attacks()))
def test_exchangeable_pool_scores_at_chance(name):
    figures = null_figures(name)
    shown = f"{name}: AUC {figures['auc']:.4f}, TPR@1% {figures['tpr']:.4%}, r {figures['r']:+.3f}"
    assert abs(figures["auc"] - 0.5) <= 0.01, shown
    if name not in DISCRETE_SCORES:
        assert 0.007 <= figures["tpr"] <= 0.0135, shown
    assert abs(figures["r"]) < 0.35, shown


def test_column_balanced_keep_lets_member_counts_vary():
    """The offset test needs targets with different numbers of members."""
    keep = column_balanced_keep(0)
    assert (keep.sum(axis=0) == N_MODELS // 2).all()
    assert np.ptp(keep.sum(axis=1)) >= 10
