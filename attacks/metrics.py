"""Metrics of membership-inference attacks, defined once and used for every attack.

Scores are higher = member. Definitions:

- ROC: every distinct score is a threshold, "member iff score >= threshold", counted over
  tie groups once for the package in :mod:`attacks.roc` (equal to scikit-learn's
  ``roc_curve``); AUC is the area under it (ties count one half).
- TPR at FPR t: the largest TPR among ROC points with FPR <= t, 0.0 if none. With fewer
  than 1/t non-members the only such point is FPR = 0, so the figure is noise:
  ``resolvable[t]`` is False then.
- Intervals of pooled metrics: :mod:`attacks.intervals` (targets and candidates resampled).
- advantage: max over thresholds of TPR - FPR (balanced accuracy = 1/2 + advantage/2).
- epsilon lower bound: not here. A bound maximised over thresholds of the scores it is
  evaluated on, pooled over dependent guesses, is no 95% bound; :mod:`attacks.privacy_audit`
  gives a valid one (Steinke et al., NeurIPS 2023).
- DP bound: an (epsilon, delta)-DP algorithm admits no attack with
  TPR > min(1, delta + e^eps FPR, 1 - e^-eps (1 - delta - FPR)) (Kairouz et al., ICML 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attacks import roc
from attacks.base import AttackInputError, check_scored
from attacks.bootstrap import counts_by_target
from attacks.intervals import INTERVAL_METHODS, attacked_rows, pooled_intervals
from results.vocabulary import FPR_TARGETS


@dataclass
class AttackMetrics:
    """One attack's figures on one set of scores.

    ``fpr``, ``tpr``: the full ROC (``roc_curve`` order, starting at (0, 0)).
    ``tpr_at_fpr`` / ``resolvable`` are keyed by the FPR targets.
    """

    auc: float
    tpr_at_fpr: dict[float, float]
    resolvable: dict[float, bool]
    advantage: float
    fpr: np.ndarray
    tpr: np.ndarray
    n_members: int
    n_non_members: int


@dataclass
class PooledMetrics:
    """One attack against several target models, scores pooled over the targets.

    ``auc_ci`` and ``tpr_ci[t]`` are 95% intervals (None when ``bootstrap=0``) by
    ``interval_method`` (:func:`attacks.intervals.pooled_intervals`);
    ``roc_fpr``, ``roc_tpr`` (about 300 points, log-spaced in FPR from 1/n_non_members, plus
    the point at FPR 0) are for plotting.
    """

    auc: float
    tpr_at_fpr: dict[float, float]
    resolvable: dict[float, bool]
    advantage: float
    n_members: int
    n_non_members: int
    n_targets: int
    auc_per_target: list[float]
    auc_ci: tuple[float, float] | None
    tpr_ci: dict[float, tuple[float, float]] | None
    roc_fpr: np.ndarray
    roc_tpr: np.ndarray
    interval_method: str | None


@dataclass
class ClassMetrics:
    """The attack restricted to the candidates of one class (pooled over targets); AUC and
    TPR are NaN when the class lacks members or non-members."""

    label: int
    auc: float
    tpr_at_1pct_fpr: float
    n_members: int
    n_non_members: int


def evaluate(
    scores: np.ndarray, is_member: np.ndarray, *, fpr_targets: tuple[float, ...] = FPR_TARGETS
) -> AttackMetrics:
    """AUC, TPR at each FPR target, advantage and ROC of ``scores [N]`` (higher = member)
    against ``is_member`` (bool ``[N]``).

    >>> m = evaluate(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, False, True, False]))
    >>> m.auc, m.advantage
    (0.75, 0.5)
    """
    scores, is_member = _check_scores(scores, is_member)
    return _evaluate_ranked(roc.rank(scores, is_member), fpr_targets=fpr_targets)


def _evaluate_ranked(ranking: roc.Ranking, *, fpr_targets: tuple[float, ...]) -> AttackMetrics:
    counts = roc.cumulative_counts(ranking)
    fpr, tpr = roc.roc_curve(counts)
    n_non_members = len(ranking.non_member_rows)
    return AttackMetrics(
        auc=roc.auc(counts),
        tpr_at_fpr={t: roc.tpr_at_fpr(counts, target=t) for t in fpr_targets},
        resolvable={t: is_resolvable(n_non_members, target=t) for t in fpr_targets},
        advantage=float(np.max(tpr - fpr)),
        fpr=fpr,
        tpr=tpr,
        n_members=len(ranking.member_rows),
        n_non_members=n_non_members,
    )


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, *, target: float) -> float:
    """The largest TPR of an ROC (``fpr``, ``tpr`` arrays) whose FPR is <= ``target``; 0.0
    if no point qualifies."""
    attainable = np.asarray(fpr) <= target + roc.FPR_TOLERANCE
    return float(np.max(np.asarray(tpr)[attainable])) if attainable.any() else 0.0


def is_resolvable(n_non_members: int, *, target: float) -> bool:
    """Whether an FPR of ``target`` is above zero and resolvable: at least 1/target non-members."""
    return n_non_members * target >= 1.0 - roc.FPR_TOLERANCE


def evaluate_pooled(
    scores: np.ndarray,
    keep: np.ndarray,
    *,
    fpr_targets: tuple[float, ...] = FPR_TARGETS,
    bootstrap: int = 200,
    interval_method: str = "two-level",
    seed: int = 0,
) -> PooledMetrics:
    """Metrics of leave-one-out scores ``[M, n]`` against ``keep [M, n]``, pooled over the
    target rows (rows that are all NaN were not attacked and are ignored).

    ``bootstrap`` resamples give the intervals by ``interval_method``: ``"two-level"``
    resamples target models and candidates, so the intervals include model-to-model
    variance; ``"candidates"`` resamples candidates only (the uncertainty about this fixed
    set of models). With a single attacked target there is no model-to-model variance to
    estimate, the interval can only describe that model, and ``"candidates"`` is used;
    ``interval_method`` of the result records which.
    """
    if interval_method not in INTERVAL_METHODS:
        raise AttackInputError(f"unknown interval method {interval_method!r}; valid: {', '.join(INTERVAL_METHODS)}")
    scores, keep, rows = attacked_rows(scores, keep)
    ranking = roc.rank(*_check_scores(scores.ravel(), keep.ravel()))
    pooled = _evaluate_ranked(ranking, fpr_targets=fpr_targets)
    # Each target's own AUC from the pooled ranking: weights 1 on its row, 0 elsewhere.
    by_target = counts_by_target(ranking, n_targets=len(rows), n_candidates=scores.shape[1])
    method = interval_method if len(rows) > 1 else "candidates"
    intervals = None
    if bootstrap > 0:
        intervals = pooled_intervals(
            scores, keep, fpr_targets=fpr_targets, n_resamples=bootstrap, method=method, seed=seed,
            ranking=ranking, by_target=by_target,
        )
    roc_fpr, roc_tpr = _downsample_roc(pooled.fpr, pooled.tpr, n_non_members=pooled.n_non_members)
    return PooledMetrics(
        auc=pooled.auc,
        tpr_at_fpr=pooled.tpr_at_fpr,
        resolvable=pooled.resolvable,
        advantage=pooled.advantage,
        n_members=pooled.n_members,
        n_non_members=pooled.n_non_members,
        n_targets=len(rows),
        auc_per_target=roc.group_auc(by_target, np.eye(len(rows), dtype=np.int64)).tolist(),
        auc_ci=None if intervals is None else (intervals.auc.low, intervals.auc.high),
        tpr_ci=None if intervals is None else {t: (i.low, i.high) for t, i in intervals.tpr_at_fpr.items()},
        roc_fpr=roc_fpr,
        roc_tpr=roc_tpr,
        interval_method=None if intervals is None else method,
    )


def dp_tpr_bound(fpr: np.ndarray, *, epsilon: float, delta: float) -> np.ndarray:
    """The largest TPR any attack can reach at each ``fpr`` against an (epsilon, delta)-DP
    training algorithm: min(1, delta + e^eps FPR, 1 - e^-eps (1 - delta - FPR))."""
    fpr = np.asarray(fpr, dtype=np.float64)
    bound = np.minimum.reduce(
        [np.ones_like(fpr), delta + np.exp(epsilon) * fpr, 1.0 - np.exp(-epsilon) * (1.0 - delta - fpr)]
    )
    return np.clip(bound, 0.0, 1.0)


def ppv(tpr: float | np.ndarray, fpr: float | np.ndarray, *, prior: float) -> float | np.ndarray:
    """Precision of "member" guesses when a fraction ``prior`` of the queried examples are
    members: TPR prior / (TPR prior + FPR (1 - prior)); NaN where nothing is guessed."""
    tpr, fpr = np.asarray(tpr, dtype=np.float64), np.asarray(fpr, dtype=np.float64)
    hits, false_alarms = tpr * prior, fpr * (1.0 - prior)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(hits + false_alarms > 0, hits / (hits + false_alarms), np.nan)
    return float(value) if value.ndim == 0 else value


def vulnerability(scores: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per candidate ``[n]``: the mean, over the target models where it is IN, of the
    fraction of that model's non-members it outscores (ties count one half). 1.0 = ranked
    above every non-member by every model; NaN where it was never an attacked member.
    Rows of ``scores [M, n]`` holding NaN (not attacked) are skipped."""
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.asarray(keep, dtype=bool)
    total = np.zeros(scores.shape[1])
    count = np.zeros(scores.shape[1])
    for row, members in zip(scores, keep):
        if np.isnan(row).any() or members.all() or not members.any():
            continue
        non_members = np.sort(row[~members])
        below = np.searchsorted(non_members, row[members], side="left")
        not_above = np.searchsorted(non_members, row[members], side="right")
        total[members] += (below + not_above) / 2.0 / len(non_members)
        count[members] += 1
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def per_class_metrics(scores: np.ndarray, keep: np.ndarray, labels: np.ndarray) -> list[ClassMetrics]:
    """AUC and TPR at 1% FPR of the pooled scores of each class's candidates.

    ``scores [M, n]`` (rows that are all NaN are ignored), ``keep [M, n]``, ``labels [n]``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.asarray(keep, dtype=bool)
    labels = np.asarray(labels)
    rows = ~np.isnan(scores).any(axis=1)
    scores, keep = scores[rows], keep[rows]
    result = []
    for label in np.unique(labels):
        class_scores = scores[:, labels == label].ravel()
        class_members = keep[:, labels == label].ravel()
        n_members = int(np.count_nonzero(class_members))
        n_non_members = len(class_members) - n_members
        if n_members and n_non_members:
            counts = roc.cumulative_counts(roc.rank(class_scores, class_members))
            auc, tpr_1 = roc.auc(counts), roc.tpr_at_fpr(counts, target=0.01)
        else:
            auc, tpr_1 = np.nan, np.nan
        result.append(ClassMetrics(int(label), float(auc), float(tpr_1), n_members, n_non_members))
    return result


def _check_scores(scores: np.ndarray, is_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores, is_member = check_scored(scores, is_member, flags_name="is_member")
    n_members = int(np.count_nonzero(is_member))
    if n_members == 0 or n_members == len(is_member):
        raise AttackInputError(
            f"metrics need members and non-members; got {n_members} members and {len(is_member) - n_members} non-members"
        )
    return scores, is_member


def _downsample_roc(
    fpr: np.ndarray, tpr: np.ndarray, *, n_non_members: int, n_points: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """The ROC at FPR = 0 and at ``n_points - 1`` FPRs log-spaced from 1/n_non_members to 1,
    each with the largest TPR attainable at that FPR: a log-scale plot keeps its low-FPR
    region, which uniform thinning would discard."""
    grid = np.concatenate([[0.0], np.geomspace(1.0 / n_non_members, 1.0, n_points - 1)])
    index = np.searchsorted(fpr, grid + roc.FPR_TOLERANCE, side="right") - 1
    return grid, tpr[index]
