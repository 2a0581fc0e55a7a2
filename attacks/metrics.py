"""Metrics of membership-inference attacks, defined once and used for every attack.

Scores are higher = member. Definitions:

- ROC: scikit-learn's ``roc_curve`` (every distinct score is a threshold, "member iff
  score >= threshold"); AUC is the area under it (ties count one half).
- TPR at FPR t: the largest TPR among ROC points with FPR <= t, 0.0 if none. With fewer
  than 1/t non-members the only such point is FPR = 0, so the figure is noise:
  ``resolvable[t]`` is False then.
- advantage: max over thresholds of TPR - FPR (balanced accuracy = 1/2 + advantage/2).
- epsilon lower bound: Jagielski, Ullman, Oprea, "Auditing Differentially Private Machine
  Learning: How Private is Private SGD?", NeurIPS 2020, with Clopper-Pearson intervals as in
  TF Privacy's ``epsilon_lower_bound``.
- DP bound: an (epsilon, delta)-DP algorithm admits no attack with
  TPR > min(1, delta + e^eps FPR, 1 - e^-eps (1 - delta - FPR)) (Kairouz et al., ICML 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta
from sklearn.metrics import roc_auc_score, roc_curve

from attacks.base import AttackInputError

# k / n can land an ulp above a target written in decimal (e.g. 3 / 300 vs 0.01).
_FPR_TOLERANCE = 1e-12
# Elements per block of bootstrap work arrays (16 MB of float64 each).
_BOOTSTRAP_BLOCK = 2_000_000
# Thresholds whose exact Clopper-Pearson limits are computed at a time.
_EPSILON_CHUNK = 4096


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

    ``auc_ci`` and ``tpr_ci[t]`` are bootstrap 95% intervals (None when ``bootstrap=0``);
    ``roc_fpr``, ``roc_tpr`` (about 300 points, log-spaced in FPR from 1/n_non_members, plus
    the point at FPR 0) are for plotting; ``epsilon_lower_bound`` is None unless a delta was
    given.
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
    epsilon_lower_bound: float | None
    roc_fpr: np.ndarray
    roc_tpr: np.ndarray


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
    scores: np.ndarray, is_member: np.ndarray, *, fpr_targets: tuple[float, ...] = (0.001, 0.01)
) -> AttackMetrics:
    """AUC, TPR at each FPR target, advantage and ROC of ``scores [N]`` (higher = member)
    against ``is_member`` (bool ``[N]``).

    >>> m = evaluate(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, False, True, False]))
    >>> m.auc, m.advantage
    (0.75, 0.5)
    """
    scores, is_member = _check_scores(scores, is_member)
    fpr, tpr, _ = roc_curve(is_member, scores, drop_intermediate=False)
    n_non_members = int(np.count_nonzero(~is_member))
    return AttackMetrics(
        auc=float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0)),
        tpr_at_fpr={t: tpr_at_fpr(fpr, tpr, target=t) for t in fpr_targets},
        resolvable={t: is_resolvable(n_non_members, target=t) for t in fpr_targets},
        advantage=float(np.max(tpr - fpr)),
        fpr=fpr,
        tpr=tpr,
        n_members=len(is_member) - n_non_members,
        n_non_members=n_non_members,
    )


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, *, target: float) -> float:
    """The largest TPR of an ROC (``fpr``, ``tpr`` arrays) whose FPR is <= ``target``; 0.0
    if no point qualifies."""
    attainable = np.asarray(fpr) <= target + _FPR_TOLERANCE
    return float(np.max(np.asarray(tpr)[attainable])) if attainable.any() else 0.0


def is_resolvable(n_non_members: int, *, target: float) -> bool:
    """Whether an FPR of ``target`` is above zero and resolvable: at least 1/target non-members."""
    return n_non_members * target >= 1.0 - _FPR_TOLERANCE


def evaluate_pooled(
    scores: np.ndarray,
    keep: np.ndarray,
    *,
    fpr_targets: tuple[float, ...] = (0.001, 0.01),
    delta: float | None = None,
    bootstrap: int = 200,
    seed: int = 0,
) -> PooledMetrics:
    """Metrics of leave-one-out scores ``[M, n]`` against ``keep [M, n]``, pooled over the
    target rows (rows that are all NaN were not attacked and are ignored).

    Bootstrap intervals resample *candidates* (columns) with replacement, keeping each
    candidate's scores under every target together: a candidate's scores are correlated
    across targets (an outlier is exposed by every model), so resampling single pooled
    scores would give intervals that are too narrow. The work is vectorized over resamples
    (cumulative sums over one global sort), so 200 resamples of 160,000 scores take well
    under a second; no subsampling.

    The epsilon lower bound (when ``delta`` is given) treats the pooled scores as
    independent trials, which they are not quite (n of them come from each model): a
    check against the accountant's epsilon, not a certified bound.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.asarray(keep)
    if scores.ndim != 2 or keep.shape != scores.shape or keep.dtype != np.bool_:
        raise AttackInputError(
            f"scores [M, n] and bool keep [M, n] must match; got {scores.shape} and {keep.dtype} {keep.shape}"
        )
    missing = np.isnan(scores)
    partial = np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1))
    if partial.size:
        raise AttackInputError(
            f"score rows {partial.tolist()} are partly NaN; a target's row must be complete or all NaN"
        )
    rows = np.flatnonzero(~missing.any(axis=1))
    if rows.size == 0:
        raise AttackInputError("every score row is NaN: no target was attacked")
    scores, keep = scores[rows], keep[rows]
    pooled = evaluate(scores.ravel(), keep.ravel(), fpr_targets=fpr_targets)
    auc_ci, tpr_ci = None, None
    if bootstrap > 0:
        auc_ci, tpr_ci = _bootstrap_intervals(scores, keep, fpr_targets=fpr_targets, n_resamples=bootstrap, seed=seed)
    roc_fpr, roc_tpr = _downsample_roc(pooled.fpr, pooled.tpr, n_non_members=pooled.n_non_members)
    return PooledMetrics(
        auc=pooled.auc,
        tpr_at_fpr=pooled.tpr_at_fpr,
        resolvable=pooled.resolvable,
        advantage=pooled.advantage,
        n_members=pooled.n_members,
        n_non_members=pooled.n_non_members,
        n_targets=len(rows),
        auc_per_target=[_auc_or_nan(s, k) for s, k in zip(scores, keep)],
        auc_ci=auc_ci,
        tpr_ci=tpr_ci,
        epsilon_lower_bound=None if delta is None else epsilon_lower_bound(scores.ravel(), keep.ravel(), delta=delta),
        roc_fpr=roc_fpr,
        roc_tpr=roc_tpr,
    )


def epsilon_lower_bound(scores: np.ndarray, is_member: np.ndarray, *, delta: float, confidence: float = 0.95) -> float:
    """Empirical lower bound on the epsilon of the training algorithm, >= 0.

    At every threshold, Clopper-Pearson intervals at ``confidence`` (two-sided) bound TPR
    and FPR; an (eps, delta)-DP algorithm forces TPR <= e^eps FPR + delta and
    TNR <= e^eps FNR + delta, so eps >= max(log((TPR_lo - delta) / FPR_hi),
    log((TNR_lo - delta) / FNR_hi)). The maximum over thresholds is returned, clipped at 0;
    like TF Privacy it does not correct for the choice among thresholds.
    """
    scores, is_member = _check_scores(scores, is_member)
    if not 0.0 <= delta < 1.0:
        raise AttackInputError(f"delta must lie in [0, 1); got {delta!r}")
    if not 0.0 < confidence < 1.0:
        raise AttackInputError(f"confidence must lie in (0, 1); got {confidence!r}")
    true_pos, false_pos = _counts_at_thresholds(scores, is_member)
    n_members, n_non_members = int(true_pos[-1]), int(false_pos[-1])
    tail = (1.0 - confidence) / 2.0
    # The exact limits cost a beta quantile each (~2 us). Bound every threshold cheaply
    # first: a lower limit never exceeds the point estimate nor its value at k = n, an upper
    # limit never falls below the point estimate nor its value at k = 0. Exact limits are
    # then computed in order of decreasing bound until no bound can beat the best so far.
    bound = _epsilon_at(
        tpr_low=np.minimum(true_pos / n_members, tail ** (1.0 / n_members)),
        fpr_high=np.maximum(false_pos / n_non_members, 1.0 - tail ** (1.0 / n_non_members)),
        delta=delta,
    )
    order = np.argsort(-bound)
    best = 0.0
    for start in range(0, len(order), _EPSILON_CHUNK):
        chunk = order[start : start + _EPSILON_CHUNK]
        if bound[chunk[0]] <= best:
            break
        exact = _epsilon_at(
            tpr_low=_clopper_pearson_lower(true_pos[chunk], n_members, tail=tail),
            fpr_high=_clopper_pearson_upper(false_pos[chunk], n_non_members, tail=tail),
            delta=delta,
        )
        best = max(best, float(np.max(exact)))
    return best


def _epsilon_at(*, tpr_low: np.ndarray, fpr_high: np.ndarray, delta: float) -> np.ndarray:
    """max(log((TPR_lo - delta) / FPR_hi), log((TNR_lo - delta) / FNR_hi)) per threshold
    (-inf where neither numerator is positive); increasing in TPR_lo, decreasing in FPR_hi.
    By the symmetry of Clopper-Pearson limits, TNR_lo = 1 - FPR_hi and FNR_hi = 1 - TPR_lo."""
    tnr_low, fnr_high = 1.0 - fpr_high, 1.0 - tpr_low
    with np.errstate(divide="ignore", invalid="ignore"):
        members = np.where(tpr_low > delta, np.log((tpr_low - delta) / fpr_high), -np.inf)
        non_members = np.where(tnr_low > delta, np.log((tnr_low - delta) / fnr_high), -np.inf)
    return np.maximum(members, non_members)


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
            fpr, tpr, _ = roc_curve(class_members, class_scores, drop_intermediate=False)
            auc, tpr_1 = roc_auc_score(class_members, class_scores), tpr_at_fpr(fpr, tpr, target=0.01)
        else:
            auc, tpr_1 = np.nan, np.nan
        result.append(ClassMetrics(int(label), float(auc), float(tpr_1), n_members, n_non_members))
    return result


def _check_scores(scores: np.ndarray, is_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member)
    if scores.ndim != 1 or is_member.shape != scores.shape or is_member.dtype != np.bool_:
        raise AttackInputError(
            f"scores [N] and bool is_member [N] must match; got {scores.shape} and {is_member.dtype} {is_member.shape}"
        )
    if np.isnan(scores).any():
        raise AttackInputError(f"{int(np.isnan(scores).sum())} scores are NaN")
    n_members = int(np.count_nonzero(is_member))
    if n_members == 0 or n_members == len(is_member):
        raise AttackInputError(
            f"metrics need members and non-members; got {n_members} members and {len(is_member) - n_members} non-members"
        )
    return scores, is_member


def _auc_or_nan(scores: np.ndarray, is_member: np.ndarray) -> float:
    if is_member.all() or not is_member.any():
        return float("nan")
    return float(roc_auc_score(is_member, scores))


def _counts_at_thresholds(scores: np.ndarray, is_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives of "member iff score >= s" for every distinct score s,
    from the highest threshold down (the last entry counts everything)."""
    order = np.argsort(-scores, kind="stable")
    ordered, member = scores[order], is_member[order]
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    return np.cumsum(member)[ends], np.cumsum(~member)[ends]


def _clopper_pearson_lower(k: np.ndarray, n: int, *, tail: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower limit of k / n at ``tail`` (0 where k = 0)."""
    return np.where(k > 0, beta.ppf(tail, np.maximum(k, 1), n - k + 1), 0.0)


def _clopper_pearson_upper(k: np.ndarray, n: int, *, tail: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper limit of k / n at ``tail`` (1 where k = n)."""
    return np.where(k < n, beta.ppf(1.0 - tail, k + 1, np.maximum(n - k, 1)), 1.0)


def _bootstrap_intervals(
    scores: np.ndarray, keep: np.ndarray, *, fpr_targets: tuple[float, ...], n_resamples: int, seed: int
) -> tuple[tuple[float, float], dict[float, tuple[float, float]]]:
    """95% percentile intervals of the pooled AUC and TPR at each FPR target, resampling
    the n candidates of ``scores [T, n]`` / ``keep [T, n]`` with replacement.

    One global sort; a resample only re-weights the sorted scores by how often each
    candidate was drawn, so its ROC is two weighted cumulative sums.
    """
    n = scores.shape[1]
    flat = scores.ravel()
    order = np.argsort(-flat, kind="stable")
    ordered, member = flat[order], keep.ravel()[order]
    candidate = np.tile(np.arange(n), len(scores))[order]
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    has_ties = len(ends) < len(flat)
    rng = np.random.default_rng(seed)
    aucs, tprs = [], {t: [] for t in fpr_targets}
    block = max(1, _BOOTSTRAP_BLOCK // len(flat))
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        draws = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        draw_counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)
        weight = np.take(draw_counts, candidate, axis=1)
        true_pos = np.cumsum(weight * member, axis=1)
        false_pos = np.cumsum(weight, axis=1) - true_pos
        if has_ties:  # only the last position of a tie group is a threshold
            true_pos, false_pos = true_pos[:, ends], false_pos[:, ends]
        with np.errstate(divide="ignore", invalid="ignore"):
            tpr = true_pos / true_pos[:, -1:]
            fpr = false_pos / false_pos[:, -1:]
            # Trapezoids between successive ROC points; the first starts at (0, 0).
            area = np.einsum("bg,bg->b", np.diff(fpr, axis=1), tpr[:, 1:] + tpr[:, :-1]) / 2.0
            aucs.append(area + fpr[:, 0] * tpr[:, 0] / 2.0)
        for target in fpr_targets:
            # FPR is non-decreasing along the thresholds, so the attainable points are a prefix.
            attainable = np.count_nonzero(fpr <= target + _FPR_TOLERANCE, axis=1)
            at_target = tpr[np.arange(size), np.maximum(attainable - 1, 0)]
            tprs[target].append(np.where(attainable > 0, at_target, 0.0))
    auc_ci = _percentile_interval(np.concatenate(aucs))
    return auc_ci, {t: _percentile_interval(np.concatenate(v)) for t, v in tprs.items()}


def _percentile_interval(values: np.ndarray) -> tuple[float, float]:
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return float(low), float(high)


def _downsample_roc(
    fpr: np.ndarray, tpr: np.ndarray, *, n_non_members: int, n_points: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """The ROC at FPR = 0 and at ``n_points - 1`` FPRs log-spaced from 1/n_non_members to 1,
    each with the largest TPR attainable at that FPR: a log-scale plot keeps its low-FPR
    region, which uniform thinning would discard."""
    grid = np.concatenate([[0.0], np.geomspace(1.0 / n_non_members, 1.0, n_points - 1)])
    index = np.searchsorted(fpr, grid + _FPR_TOLERANCE, side="right") - 1
    return grid, tpr[index]
