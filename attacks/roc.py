"""ROC counting over tie groups, defined once for every metric of the package.

A threshold s predicts "member iff score >= s" (scores are higher = member). Equal scores
form a *tie group* and always fall on the same side of a threshold, so the thresholds are
the distinct scores and the ROC has one point per tie group. :func:`rank` sorts the scores
once (stable, highest first) and finds the groups; :func:`cumulative_counts` counts true and
false positives down that order, optionally with a weight per score (bootstrap resamples
weigh each score by how often it was drawn; a batch of weightings ``[B, N]`` is counted at
once). Counting is two cumulative sums, one over the members' weights and one over the
non-members', each read off at the groups' ends.

From the counts:

- :func:`auc`: trapezoids between successive ROC points from (0, 0), i.e. the Mann-Whitney
  probability that a member outscores a non-member, a tie counting one half. Unweighted it is
  one exact integer ratio, correctly rounded.
- :func:`tpr_at_fpr`: the largest TPR among thresholds whose FPR <= target, 0.0 if none.
  FPRs are compared with a tolerance of 1e-12, because sums of float weights land an ulp
  above a target written in decimal (one of 1,000 non-members weighing 0.1 each has an FPR
  of 0.0010000000000000141).
- :func:`roc_curve`: the FPR and TPR of every threshold, starting at (0, 0).

These equal scikit-learn's ``roc_curve(drop_intermediate=False)`` and ``roc_auc_score``
(tests/attacks/test_roc.py checks them against each other) without their argument
validation, which costs about a millisecond a call; an audit makes thousands of calls.

>>> counts = cumulative_counts(rank(np.array([0.9, 0.5, 0.5, 0.1]), np.array([True, True, False, False])))
>>> counts.true_pos, counts.false_pos
(array([1, 2, 2]), array([0, 1, 2]))
>>> float(auc(counts)), float(tpr_at_fpr(counts, target=0.0))
(0.875, 0.5)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FPR_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Ranking:
    """Scores ``[N]`` sorted once, highest first, with their tie groups and membership.

    ``order [N]``: indices of the scores, highest first (ties keep their input order).
    ``ends [G]``: position in ``order`` of the last score of each tie group: the thresholds.
    ``true_pos``, ``false_pos`` (int ``[G]``): unweighted counts of members and non-members
    scoring >= each threshold. ``member_rows [N_in]`` / ``non_member_rows [N_out]``: indices of
    the members / non-members, highest first. For the k-th member, ``non_members_above[k]`` /
    ``non_members_not_below[k]`` count non-members in higher groups / in higher groups or its
    own; for the k-th non-member, ``members_above[k]`` counts members in higher groups
    (``members_above[N_out] = N_in``: beyond the last non-member every member is counted).
    ``member_ties_non_member``: some member shares a tie group with a non-member.
    """

    order: np.ndarray
    ends: np.ndarray
    true_pos: np.ndarray
    false_pos: np.ndarray
    member_rows: np.ndarray
    non_member_rows: np.ndarray
    non_members_above: np.ndarray
    non_members_not_below: np.ndarray
    members_above: np.ndarray
    member_ties_non_member: bool


def rank(scores: np.ndarray, is_member: np.ndarray) -> Ranking:
    """One stable descending sort of float ``scores [N]`` (no NaN) with bool ``is_member [N]``."""
    order = np.argsort(-scores, kind="stable")
    ordered, member = scores[order], is_member[order]
    new_group = ordered[1:] != ordered[:-1]
    ends = np.flatnonzero(np.r_[new_group, True])
    group = np.r_[0, np.cumsum(new_group)]  # tie group of each position
    true_pos = np.cumsum(member, dtype=np.int64)[ends]
    false_pos = ends + 1 - true_pos
    # Counts strictly above each group: those at the previous group's end.
    true_pos_above, false_pos_above = np.r_[0, true_pos[:-1]], np.r_[0, false_pos[:-1]]
    member_groups, non_member_groups = group[member], group[~member]
    return Ranking(
        order=order,
        ends=ends,
        true_pos=true_pos,
        false_pos=false_pos,
        member_rows=order[member],
        non_member_rows=order[~member],
        non_members_above=false_pos_above[member_groups],
        non_members_not_below=false_pos[member_groups],
        members_above=np.r_[true_pos_above[non_member_groups], np.count_nonzero(member)],
        member_ties_non_member=bool(np.any(false_pos_above[member_groups] != false_pos[member_groups])),
    )


@dataclass(frozen=True)
class RocCounts:
    """Weights of members and non-members down a :class:`Ranking`, for one weighting
    (arrays ``[K]``) or a batch of them (``[B, K]``).

    ``member_weights [..., N_in]``: the members' weights, highest score first.
    ``non_members [..., N_out + 1]``: ``non_members[..., k]`` is the weight of the k
    highest-scored non-members (``non_members[..., 0] = 0``). Unweighted, both are integers.
    """

    ranking: Ranking
    member_weights: np.ndarray
    non_members: np.ndarray

    @functools.cached_property
    def members(self) -> np.ndarray:
        """``members[..., k]``: the weight of the k highest-scored members, ``[..., N_in + 1]``
        (computed on first use: the AUC and TPR at low FPR do without it)."""
        return _cumsum_from_zero(self.member_weights)

    @functools.cached_property
    def member_total(self) -> np.ndarray:
        """Total member weight, ``[...]``, in the weights' type but at least int32 for
        integers (which must hold it)."""
        return np.sum(self.member_weights, axis=-1, dtype=_sum_type(self.member_weights))

    @property
    def true_pos(self) -> np.ndarray:
        """Weight of the members scoring >= each threshold, ``[..., G]``, highest threshold first."""
        return np.take(self.members, self.ranking.true_pos, axis=-1)

    @property
    def false_pos(self) -> np.ndarray:
        """Weight of the non-members scoring >= each threshold, ``[..., G]``."""
        return np.take(self.non_members, self.ranking.false_pos, axis=-1)


def cumulative_counts(ranking: Ranking, *, weights: np.ndarray | None = None) -> RocCounts:
    """True and false positives down ``ranking``.

    ``weights`` (>= 0, ``[N]`` or a batch ``[B, N]``, in the order of the ranked scores) weigh
    each score; None counts each score once, in integers, so that equal rates compare
    exactly (:func:`attacks.threshold.best_threshold` needs this).

    A weight of 0 removes a score, a weight of 2 duplicates it: the counts are those of the
    resampled scores at every threshold that survives the resampling (a threshold whose
    scores all got weight 0 repeats the previous point and changes no metric).
    """
    if weights is None:
        n_in, n_out = len(ranking.member_rows), len(ranking.non_member_rows)
        return RocCounts(ranking, np.ones(n_in, dtype=np.int64), np.arange(n_out + 1))
    weights = np.asarray(weights)
    return counts_in_rank_order(
        ranking,
        member_weights=np.take(weights, ranking.member_rows, axis=-1),
        non_member_weights=np.take(weights, ranking.non_member_rows, axis=-1),
    )


def counts_in_rank_order(
    ranking: Ranking, *, member_weights: np.ndarray, non_member_weights: np.ndarray
) -> RocCounts:
    """:func:`cumulative_counts` from weights already in rank order: ``member_weights
    [..., N_in]`` for ``ranking.member_rows`` and ``non_member_weights [..., N_out]`` for
    ``ranking.non_member_rows``. For callers that compute a weight per ranked score more
    cheaply than they could gather it (a bootstrap's count per target times count per
    candidate). Integer weights keep the counts exact, and their sums run several times
    faster than floating-point ones; they are summed in their own type, which must hold
    the total weight (int32 up to 2**31 - 1).
    """
    return RocCounts(ranking, member_weights, _cumsum_from_zero(non_member_weights))


def auc(counts: RocCounts) -> float | np.ndarray:
    """Area under the ROC (ties count one half): a float, or ``[B]`` for batched counts; NaN
    where members or non-members weigh nothing.

    Summed over members rather than thresholds: twice the weight of the pairs a member does
    *not* win is its weight times (non-members above its group + non-members down to its
    group's end), which takes one gather per member instead of a pass over every threshold.
    """
    ranking = counts.ranking
    non_members, member_weights = counts.non_members, counts.member_weights
    wide = _accumulator(member_weights)

    def weighted_sum(non_members_by_member: np.ndarray) -> np.ndarray:
        return _dot_last_axis(member_weights, np.take(non_members, non_members_by_member, axis=-1))

    not_won = weighted_sum(ranking.non_members_above)
    if ranking.member_ties_non_member:
        not_won += weighted_sum(ranking.non_members_not_below)
    else:  # no member shares a tie group with a non-member: above == not below
        not_won *= 2
    pairs = 2 * counts.member_total.astype(wide) * non_members[..., -1].astype(wide)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (pairs - not_won) / pairs
    return float(value) if np.ndim(value) == 0 else value


def tpr_at_fpr(counts: RocCounts, *, target: float) -> float | np.ndarray:
    """The largest TPR among thresholds whose FPR <= ``target`` (+ 1e-12); 0.0 if none. A
    float, or ``[B]`` for batched counts; NaN where members or non-members weigh nothing.

    FPR grows down the ranking, so the qualifying thresholds are a prefix: find the last
    non-member that fits (a binary search, batched over weightings), then stop before the
    tie group of the next one.
    """
    non_members = np.atleast_2d(counts.non_members)
    rows = np.arange(len(non_members))
    fitting = _fitting_non_members(
        lambda k: non_members[rows, k], non_members[:, -1], n_non_members=non_members.shape[1] - 1, target=target
    )
    # The members above the first non-member that does not fit are a prefix of the members,
    # short at a low FPR: only that prefix is summed.
    counted = counts.ranking.members_above[fitting]
    prefix = _cumsum_from_zero(np.atleast_2d(counts.member_weights)[:, : counted.max()])
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(non_members[:, -1] > 0, prefix[rows, counted] / np.atleast_1d(counts.member_total), np.nan)
    return float(value[0]) if np.ndim(counts.non_members) == 1 else value


@dataclass(frozen=True)
class GroupCounts:
    """A :class:`Ranking` whose scores fall into G groups (e.g. one per target model), for
    weightings constant within each group: ``weights [B, G]``. Such a weighting's ROC follows
    from per-group counts, without another pass over the scores.

    ``members`` / ``non_members``: per group, the ranks (among members / non-members,
    highest first) of its scores. ``not_won [G, G]``: over the members of group g, the
    non-members of group h above their tie group plus those down to its end (twice the
    pairs the members do not win, as in :func:`auc`).
    """

    ranking: Ranking
    members: list[np.ndarray]
    non_members: list[np.ndarray]
    not_won: np.ndarray


def group_counts(ranking: Ranking, groups: np.ndarray, *, n_groups: int) -> GroupCounts:
    """:class:`GroupCounts` of ``ranking`` with ``groups [N]`` (ints in [0, n_groups)) in
    the order of the ranked scores. One pass per group over the non-members."""
    member_group, non_member_group = groups[ranking.member_rows], groups[ranking.non_member_rows]
    not_won = np.zeros((n_groups, n_groups), dtype=np.int64)
    for h in range(n_groups):
        seen = _cumsum_from_zero((non_member_group == h).astype(np.int64))  # group h among the first k
        by_member = seen[ranking.non_members_above] + seen[ranking.non_members_not_below]
        not_won[:, h] = np.bincount(member_group, weights=by_member, minlength=n_groups).round()
    return GroupCounts(
        ranking,
        [np.flatnonzero(member_group == g) for g in range(n_groups)],
        [np.flatnonzero(non_member_group == g) for g in range(n_groups)],
        not_won,
    )


def group_auc(counts: GroupCounts, weights: np.ndarray) -> np.ndarray:
    """:func:`auc` of each weighting ``weights [B, G]`` (integers: exact), ``[B]``."""
    weights = np.asarray(weights)
    wide = _accumulator(weights)
    total_in = weights @ np.array([len(m) for m in counts.members], dtype=wide)
    total_out = weights @ np.array([len(m) for m in counts.non_members], dtype=wide)
    not_won = np.einsum("bg,gh,bh->b", weights.astype(wide), counts.not_won.astype(wide), weights.astype(wide))
    pairs = 2 * total_in * total_out
    with np.errstate(divide="ignore", invalid="ignore"):
        return (pairs - not_won) / pairs


def group_tpr_at_fpr(counts: GroupCounts, weights: np.ndarray, *, target: float) -> np.ndarray:
    """:func:`tpr_at_fpr` of each weighting ``weights [B, G]``, ``[B]``."""
    weights = np.asarray(weights)

    def weight_of_first(ranks: list[np.ndarray], k: np.ndarray) -> np.ndarray:
        """Per weighting, the weight of the first ``k [B]`` members or non-members."""
        return np.einsum("bg,gb->b", weights, np.array([np.searchsorted(r, k) for r in ranks]))

    total_out = weights @ np.array([len(m) for m in counts.non_members])
    total_in = weights @ np.array([len(m) for m in counts.members])
    fitting = _fitting_non_members(
        lambda k: weight_of_first(counts.non_members, k),
        total_out,
        n_non_members=len(counts.ranking.non_member_rows),
        target=target,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = weight_of_first(counts.members, counts.ranking.members_above[fitting]) / total_in
        return np.where(total_out > 0, tpr, np.nan)


def _fitting_non_members(
    weight_of_first: Callable[[np.ndarray], np.ndarray], total: np.ndarray, *, n_non_members: int, target: float
) -> np.ndarray:
    """Per weighting, the largest k such that the k highest-scored non-members have FPR <=
    ``target`` (+ 1e-12; k = 0 always fits): a binary search, batched over weightings.
    ``weight_of_first(k [B])`` is their weight, non-decreasing in k; ``total [B]`` all
    non-members' weight."""
    low, high = np.zeros(len(total), dtype=np.int64), np.full(len(total), n_non_members)
    with np.errstate(divide="ignore", invalid="ignore"):
        while np.any(low < high):
            middle = (low + high + 1) // 2
            fits = weight_of_first(middle) / total <= target + FPR_TOLERANCE
            low, high = np.where(fits, middle, low), np.where(fits, high, middle - 1)
    return low


def roc_curve(counts: RocCounts) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR ``[..., G + 1]`` of every threshold, highest first, after the point (0, 0)."""
    true_pos, false_pos = counts.true_pos, counts.false_pos
    zero = np.zeros((*np.shape(true_pos)[:-1], 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        fpr = np.concatenate([zero, false_pos / false_pos[..., -1:]], axis=-1)
        tpr = np.concatenate([zero, true_pos / true_pos[..., -1:]], axis=-1)
    return fpr, tpr


def _cumsum_from_zero(values: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis with a leading 0, without a second copy. Integers
    stay in their own type, at least int32 (int32 sums run several times faster than
    float64 ones)."""
    dtype = _sum_type(values)
    out = np.zeros((*values.shape[:-1], values.shape[-1] + 1), dtype=dtype)
    np.cumsum(values, axis=-1, out=out[..., 1:])
    return out


def _dot_last_axis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_k a[..., k] * b[..., k]``: exact in int64 for integer arrays (which must be
    >= 0, as weights and counts are), in float64 otherwise.

    Narrow integers (a bootstrap's int32 counts) are multiplied and summed in their own type
    over chunks short enough that no chunk's sum can overflow it (from the arrays' largest
    entries), and only the chunks' sums are added in int64: einsum's cast of every product
    to int64 took four times as long.
    """
    if not np.issubdtype(a.dtype, np.integer):
        return np.einsum("...k,...k->...", a, b, dtype=np.float64)
    narrow = np.result_type(a, b)
    if np.iinfo(narrow).max >= np.iinfo(np.int64).max or a.size == 0:
        return np.einsum("...k,...k->...", a, b, dtype=np.int64)
    largest_product = max(int(a.max()), 1) * max(int(b.max()), 1)
    chunk = np.iinfo(narrow).max // largest_product
    if chunk < 2:
        return np.einsum("...k,...k->...", a, b, dtype=np.int64)
    length = a.shape[-1]
    whole = length - length % chunk
    head = np.einsum(
        "...ck,...ck->...c",
        a[..., :whole].reshape(*a.shape[:-1], -1, chunk),
        b[..., :whole].reshape(*b.shape[:-1], -1, chunk),
    ).sum(axis=-1, dtype=np.int64)
    return head + np.einsum("...k,...k->...", a[..., whole:], b[..., whole:], dtype=np.int64)


def _sum_type(values: np.ndarray) -> np.dtype:
    """The type sums of ``values`` are kept in: integers in their own type but at least int32
    (int16 weights are gathered faster, and their sums need more room), floats in float64."""
    if np.issubdtype(values.dtype, np.integer):
        return np.promote_types(values.dtype, np.int32)
    return np.result_type(values, np.float64)


def _accumulator(weights: np.ndarray) -> type:
    """The type in which sums of products of ``weights`` are exact or most accurate."""
    return np.int64 if np.issubdtype(weights.dtype, np.integer) else np.float64
