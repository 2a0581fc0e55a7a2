"""The two-level bootstrap's resamples of a pooled ROC, computed at the speed of a sort.

Scores ``[T, n]`` of T targets on n candidates (higher = member) against ``keep [T, n]`` are
ranked once (:func:`attacks.roc.rank`). A resample draws target counts ``u [T]`` and candidate
counts ``v [n]`` with replacement (:class:`Draws`); score ``[t, i]`` weighs ``u[t] * v[i]``
("both" levels), ``v[i]`` (candidates only) or ``u[t]`` (targets only). A resample's ROC under
the first two is two integer cumulative sums over the ranked order (:class:`RankedPool`);
under the third it follows from per-target counts without another pass over the scores.
:mod:`attacks.intervals` turns the resamples' metrics into intervals.

Cost: the weights of B resamples are 2 B T n small integers, gathered, summed and read off
in blocks of a few resamples (threads share the blocks; numpy releases the GIL in each
pass). On a 2-core machine the 200 resamples of 16 targets x 10,000 candidates take about
0.15 s.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from attacks import roc
from results.machine import usable_cores

# Weights computed at once, in resamples x ranked scores x schemes (16 MB of int32 per thread).
_BLOCK_ELEMENTS = 4_000_000
_MAX_THREADS = 4  # past a few, memory bandwidth, not cores, bounds the sums


@dataclass(frozen=True)
class Draws:
    """Bootstrap counts: ``targets [B, T]`` and ``candidates [B, n]`` (each row sums to T / n)."""

    targets: np.ndarray
    candidates: np.ndarray

    @classmethod
    @functools.lru_cache(maxsize=4)
    def of(cls, seed: int, *, n_targets: int, n_candidates: int, size: int) -> Draws:
        """The draws of ``seed``. Cached (read-only): an audit evaluates every attack of a
        regime on the same targets and candidates with the same seed, and drawing 200 x
        10,000 counts took a tenth of the metrics' time."""
        rng = np.random.default_rng(seed)

        def counts(n: int) -> np.ndarray:  # how often each of n items is drawn, per resample
            draws = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
            return np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)

        # Candidates first: the candidates-only method then draws exactly as this package
        # did before the two-level bootstrap, so its intervals are unchanged for a seed.
        candidates = counts(n_candidates)
        targets = counts(n_targets)
        # The narrowest integers that hold every weight (a target's count times a
        # candidate's), whose sums (T x n in all, summed in at least int32) also fit: narrow
        # weights are gathered and summed several times faster than int64 ones.
        dtype = np.int64
        if n_targets * n_candidates < np.iinfo(np.int32).max:
            largest = int(targets.max()) * int(candidates.max())
            dtype = np.int16 if largest <= np.iinfo(np.int16).max else np.int32
        targets, candidates = targets.astype(dtype), candidates.astype(dtype)
        targets.flags.writeable = candidates.flags.writeable = False
        return cls(targets, candidates)


@dataclass(frozen=True)
class RankedPool:
    """Pooled scores ``[T, n]`` ranked once, with the target and candidate of each ranked
    member and non-member (a resample's weight of each is two gathers from small tables),
    and the ranking's counts per target (:func:`counts_by_target`)."""

    ranking: roc.Ranking
    n_targets: int
    n_candidates: int
    member_target: np.ndarray
    member_candidate: np.ndarray
    non_member_target: np.ndarray
    non_member_candidate: np.ndarray
    by_target: roc.GroupCounts

    @classmethod
    def of(
        cls,
        scores: np.ndarray,
        keep: np.ndarray,
        ranking: roc.Ranking | None = None,
        by_target: roc.GroupCounts | None = None,
    ) -> RankedPool:
        """The pool of ``scores [T, n]`` and ``keep [T, n]``; ``ranking`` and ``by_target``
        where the caller has them already."""
        n_targets, n = scores.shape
        ranking = roc.rank(scores.ravel(), keep.ravel()) if ranking is None else ranking
        if by_target is None:
            by_target = counts_by_target(ranking, n_targets=n_targets, n_candidates=n)
        members, non_members = ranking.member_rows, ranking.non_member_rows
        return cls(ranking, n_targets, n, members // n, members % n, non_members // n, non_members % n, by_target)

    def estimates(self, fpr_targets: tuple[float, ...]) -> tuple[float, np.ndarray]:
        """The pooled AUC and TPR at each FPR target ``[K]``."""
        counts = roc.cumulative_counts(self.ranking)
        return roc.auc(counts), np.array([roc.tpr_at_fpr(counts, target=t) for t in fpr_targets])

    def replicates(
        self, draws: Draws, *, fpr_targets: tuple[float, ...], two_level: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """AUC ``[S, B]`` and TPR at each FPR target ``[S, B, K]`` of every resample under each
        weighting: S = 3 (both levels, targets only, candidates only) if ``two_level``, else
        S = 1 (candidates only)."""
        n_full = 2 if two_level else 1  # weightings counted over every score
        n_scores = len(self.member_target) + len(self.non_member_target)
        block = max(1, _BLOCK_ELEMENTS // (n_full * n_scores))

        def count(start: int) -> tuple[np.ndarray, np.ndarray]:  # AUC [S, b], TPR [S, b, K] of a block
            u, v = draws.targets[start : start + block], draws.candidates[start : start + block]
            counts = roc.counts_in_rank_order(
                self.ranking,
                member_weights=_weights(u, v, self.member_target, self.member_candidate, two_level=two_level),
                non_member_weights=_weights(
                    u, v, self.non_member_target, self.non_member_candidate, two_level=two_level
                ),
            )
            tpr = np.stack([roc.tpr_at_fpr(counts, target=t) for t in fpr_targets], axis=-1)
            return roc.auc(counts).reshape(n_full, len(u)), tpr.reshape(n_full, len(u), len(fpr_targets))

        # Blocks in threads: numpy releases the GIL in the gathers and sums, and integer
        # counts make the result the same whatever the order (1.4x on 2 cores).
        starts = range(0, len(draws.targets), block)
        workers = min(usable_cores(), _MAX_THREADS, len(starts))
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                blocks = list(pool.map(count, starts))
        else:
            blocks = [count(start) for start in starts]
        auc = np.concatenate([b[0] for b in blocks], axis=1)
        tpr = np.concatenate([b[1] for b in blocks], axis=1)
        if not two_level:
            return auc, tpr
        # Targets only: weights constant within each target's row, so per-target counts
        # give every resample's ROC without another pass over the scores.
        groups = self.by_target
        by_target_auc = roc.group_auc(groups, draws.targets)
        by_target_tpr = np.stack([roc.group_tpr_at_fpr(groups, draws.targets, target=t) for t in fpr_targets], -1)
        return np.stack([auc[0], by_target_auc, auc[1]]), np.stack([tpr[0], by_target_tpr, tpr[1]])


def _weights(u: np.ndarray, v: np.ndarray, target: np.ndarray, candidate: np.ndarray, *, two_level: bool) -> np.ndarray:
    """Weights ``[S * b, K]`` of ranked scores of target ``target [K]`` and candidate
    ``candidate [K]`` under counts ``u [b, T]``, ``v [b, n]``: ``u x v`` and ``v`` stacked if
    ``two_level``, else ``v``. In the counts' integer type: exact, and fast to sum."""
    if not two_level:
        return np.take(v, candidate, axis=1)
    weights = np.empty((2, len(u), len(target)), dtype=u.dtype)
    np.take(v, candidate, axis=1, out=weights[1])
    np.multiply(np.take(u, target, axis=1), weights[1], out=weights[0])
    return weights.reshape(2 * len(u), len(target))


def counts_by_target(ranking: roc.Ranking, *, n_targets: int, n_candidates: int) -> roc.GroupCounts:
    """:func:`attacks.roc.group_counts` of a ranking of pooled scores ``[T, n]`` (flattened
    row by row) with one group per target: every target's own ROC, and any weighting that is
    constant within targets, without another pass over the scores."""
    return roc.group_counts(ranking, np.repeat(np.arange(n_targets), n_candidates), n_groups=n_targets)
