"""Likelihood-ratio attack, LiRA (Carlini et al., "Membership Inference Attacks From First
Principles", IEEE S&P 2022).

For each candidate and each query, the logit-scaled confidence phi (see
:func:`attacks.signals.lira_phi`) of the reference models is modelled as Gaussian, one
Gaussian over the references trained on the candidate (IN) and one over the others (OUT).

- online: score = mean over queries of log N(phi; mu_in, s_in) - log N(phi; mu_out, s_out).
- offline (OUT references only, one-sided): score = mean over queries of
  -log P[Z > phi], Z ~ N(mu_out, s_out); large when phi sits above the OUT distribution.

Per-query Gaussians and the mean of the per-query scores follow the authors' reference
code. Means are sample means and variances are unbiased (ddof = 1), so that the statistics
are sums over models: leave-one-out takes them from prefix sums computed once, less the
target's share, O(M n A) for all targets instead of O(M^2 n A).

The online attack uses as many IN as OUT references per candidate (see
``_LiRA._sizes``): with the usual keep matrix (every candidate IN for exactly half the
models), leave-one-out would otherwise hand the target's membership to the attack as a
count imbalance, which biases the online AUC downwards with few models.

Variance: per example, or one pooled within-example variance per query
(``global_variance=True``). The paper finds the global estimate better when there are few
reference models (fewer than 64); the default ``None`` picks it below 64 references.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from attacks import signals as sig
from attacks.base import AttackInputError, MembershipAttack

# Below this many reference models a single pooled variance beats per-example variances
# (Carlini et al. 2022, Sec. VI).
_GLOBAL_VARIANCE_BELOW = 64
# Floor on variances so that identical reference outputs give large but finite scores.
_MIN_VARIANCE = 1e-8


@dataclass(frozen=True)
class GaussianSums:
    """Sums over some reference models on one side (IN or OUT) of each candidate.

    ``count [n]``: how many references; ``total``, ``total_sq`` ``[n, A]``: sums of phi and
    of phi squared over them.
    """

    count: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray

    def mean(self) -> np.ndarray:
        return self.total / self.count[:, None]

    def variance(self, *, pooled: bool) -> np.ndarray:
        """Unbiased variance ``[n, A]``; pooled: one within-example variance per query, ``[1, A]``."""
        squared_deviations = np.maximum(self.total_sq - self.total**2 / self.count[:, None], 0.0)
        if pooled:
            variance = squared_deviations.sum(axis=0, keepdims=True) / (self.count - 1).sum()
        else:
            variance = squared_deviations / (self.count - 1)[:, None]
        return np.maximum(variance, _MIN_VARIANCE)


@dataclass(frozen=True)
class SidePrefixSums:
    """Prefix sums of phi over the models on one side of each candidate, in model order.

    ``rank [M, n]``: 1-based rank of model m among the candidate's models on this side (0 if
    on the other side); ``count [n]``; ``prefix``, ``prefix_sq`` ``[K + 1, n, A]``: sums of
    phi and phi squared over the side's first j models, j = 0..K. Sums over "the first j
    models, skipping one" then cost O(n A), so leave-one-out over M targets is O(M n A).
    """

    rank: np.ndarray
    count: np.ndarray
    prefix: np.ndarray
    prefix_sq: np.ndarray

    @classmethod
    def of(cls, phi: np.ndarray, side: np.ndarray) -> SidePrefixSums:
        """From ``phi [M, n, A]`` and ``side [M, n]`` (True where the model is on this side)."""
        rank = np.cumsum(side, axis=0) * side
        count = side.sum(axis=0)
        weighted = phi * side[..., None]
        models, candidates = np.nonzero(side)
        prefix = np.zeros((int(count.max(initial=0)) + 1, *phi.shape[1:]))
        prefix_sq = np.zeros_like(prefix)
        prefix[rank[models, candidates], candidates] = np.cumsum(weighted, axis=0)[models, candidates]
        prefix_sq[rank[models, candidates], candidates] = np.cumsum(weighted * phi, axis=0)[models, candidates]
        return cls(rank, count, prefix, prefix_sq)

    def first(self, size: np.ndarray, *, skip: int | None = None, skip_phi: np.ndarray | None = None) -> GaussianSums:
        """Sums over the first ``size [n]`` models of each candidate's side, leaving out model
        ``skip`` (whose phi is ``skip_phi [n, A]``) where it is one of them."""
        candidates = np.arange(len(size))
        if skip is None:
            return GaussianSums(size, self.prefix[size, candidates], self.prefix_sq[size, candidates])
        # If the skipped model is among the first `size`, take one more and subtract it.
        skipped = (self.rank[skip] > 0) & (self.rank[skip] <= size)
        end = size + skipped
        weight = skipped[:, None]
        return GaussianSums(
            size,
            self.prefix[end, candidates] - weight * skip_phi,
            self.prefix_sq[end, candidates] - weight * skip_phi**2,
        )


def _log_normal_pdf(x: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2.0 * np.pi * variance) + (x - mean) ** 2 / variance)


class _LiRA(MembershipAttack):
    """Shared machinery of the online and offline variants.

    Learned attributes: ``mean_out_``, ``var_out_`` (and for online ``mean_in_``,
    ``var_in_``), ``[n, A]`` or ``[1, A]`` for a global variance; ``global_variance_``.
    """

    reference = "Carlini et al., Membership Inference Attacks From First Principles, IEEE S&P 2022"
    _needs_in: bool

    def __init__(self, *, global_variance: bool | None = None):
        self.global_variance = global_variance

    def _validate_options(self) -> None:
        if self.global_variance is not None and not isinstance(self.global_variance, (bool, np.bool_)):
            raise AttackInputError(f"global_variance must be True, False or None (auto); got {self.global_variance!r}")

    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return sig.lira_phi(logits, labels[:, None])

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray) -> None:
        side_in, side_out = SidePrefixSums.of(signals, keep), SidePrefixSums.of(signals, ~keep)
        self._check_counts(side_in.count, side_out.count, n_references=len(keep))
        size_in, size_out = self._sizes(side_in.count, side_out.count)
        self._set_gaussians(side_in.first(size_in), side_out.first(size_out), n_references=len(keep))

    def _fit_each_target(
        self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: list[int]
    ) -> Iterator[int]:
        side_in, side_out = SidePrefixSums.of(signals, keep), SidePrefixSums.of(signals, ~keep)
        for target in targets:
            count_in, count_out = side_in.count - keep[target], side_out.count - ~keep[target]
            try:
                self._check_counts(count_in, count_out, n_references=len(keep) - 1)
            except AttackInputError as error:
                raise AttackInputError(f"with model {target} as the target: {error}") from None
            size_in, size_out = self._sizes(count_in, count_out)
            self._set_gaussians(
                side_in.first(size_in, skip=target, skip_phi=signals[target]),
                side_out.first(size_out, skip=target, skip_phi=signals[target]),
                n_references=len(keep) - 1,
            )
            yield target

    def _sizes(self, count_in: np.ndarray, count_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many IN and OUT references to use per candidate: all of them, except that the
        online attack uses as many IN as OUT (the first ones in model order).

        Why: when every candidate is IN for exactly half of the pool, leaving the target out
        leaves one reference fewer on the target's own side. The side with fewer references
        has the noisier mean, which on its own lowers the likelihood ratio of members: on
        exchangeable synthetic data the online AUC dropped to 0.46-0.48 with 8 models and
        0.49 with 16.
        Equal counts remove that leak of the target's membership into the references.
        """
        if not self._needs_in:
            return count_in, count_out
        size = np.minimum(count_in, count_out)
        return size, size

    def _set_gaussians(self, sums_in: GaussianSums, sums_out: GaussianSums, *, n_references: int) -> None:
        pooled = self.global_variance
        if pooled is None:
            pooled = n_references < _GLOBAL_VARIANCE_BELOW
        self.global_variance_ = bool(pooled)
        self.mean_out_, self.var_out_ = sums_out.mean(), sums_out.variance(pooled=pooled)
        if self._needs_in:
            self.mean_in_, self.var_in_ = sums_in.mean(), sums_in.variance(pooled=pooled)

    def _check_counts(self, count_in: np.ndarray, count_out: np.ndarray, *, n_references: int) -> None:
        for count in (count_out, count_in) if self._needs_in else (count_out,):
            worst = int(np.argmin(count))
            if count[worst] < 2:
                need = "2 IN and 2 OUT" if self._needs_in else "2 OUT"
                raise AttackInputError(
                    f"{self.name} needs at least {need} reference models per example; example "
                    f"{worst} has {int(count_in[worst])} IN and {int(count_out[worst])} OUT among "
                    f"{n_references} reference models: train more reference models"
                )


class LiRAOnline(_LiRA):
    """LiRA online: Gaussian likelihood ratio IN vs OUT, ``phi [n, A]`` -> scores ``[n]``,
    higher = member. Needs >= 2 IN and >= 2 OUT references for every candidate."""

    name = "lira-online"
    description = "LiRA online: per-example Gaussian likelihood ratio of IN vs OUT reference models"
    _needs_in = True

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        log_ratio = _log_normal_pdf(signal, self.mean_in_, self.var_in_) - _log_normal_pdf(
            signal, self.mean_out_, self.var_out_
        )
        return log_ratio.mean(axis=1)


class LiRAOffline(_LiRA):
    """LiRA offline: one-sided test against the OUT Gaussian, ``phi [n, A]`` -> scores
    ``[n]``, higher = member. Needs >= 2 OUT references for every candidate."""

    name = "lira-offline"
    description = "LiRA offline: one-sided test of the target's confidence against OUT reference models"
    _needs_in = False

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        z = (signal - self.mean_out_) / np.sqrt(self.var_out_)
        # -log P[Z > z] = -log Phi(-z); log_ndtr keeps the upper tail finite beyond z = 38.
        return (-log_ndtr(-z)).mean(axis=1)
