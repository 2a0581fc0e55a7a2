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
are sums over models: leave-one-out takes them from totals over all M models less the
target's and the partner's shares, O(M n A) for all targets instead of O(M^2 n A).

Both variants calibrate on the ``use`` mask (:func:`attacks.base.reference_mask` in
leave-one-out): per candidate, ``c_in - 1`` IN and ``c_out - 1`` OUT references whatever the
target's membership, where ``c_in``, ``c_out`` count the candidate's IN and OUT models in the
pool. Without it, a target IN for a candidate would leave one IN reference fewer than a
target OUT: the side with fewer references has the noisier mean, which on exchangeable data
with 8 models lowered the online AUC to 0.47 (before the online attack used equal counts)
and the offline TPR at 1% FPR to 0.87% (1.04% with the mask).

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
from attacks.base import AttackInputError, MembershipAttack, calibration_partners

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

    @classmethod
    def of(cls, phi: np.ndarray, side: np.ndarray) -> GaussianSums:
        """Over the models where ``side [R, n]`` is True: ``phi [R, n, A]``."""
        weighted = phi * side[..., None]
        return cls(side.sum(axis=0), weighted.sum(axis=0), (weighted * phi).sum(axis=0))

    def less(self, phi: np.ndarray, where: np.ndarray) -> GaussianSums:
        """These sums less one model's share where ``where [n]``: ``phi [n, A]``."""
        weighted = phi * where[:, None]
        return GaussianSums(self.count - where, self.total - weighted, self.total_sq - weighted * phi)

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

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        sums_in, sums_out = GaussianSums.of(signals, keep & use), GaussianSums.of(signals, ~keep & use)
        self._check_counts(sums_in.count, sums_out.count, n_references=len(keep))
        self._set_gaussians(sums_in, sums_out, n_references=len(keep))

    def _fit_each_target(
        self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: list[int]
    ) -> Iterator[int]:
        # reference_mask as sums: on the target's side every model but the target, on the
        # other side every model but the partner (a random model of that side).
        all_in, all_out = GaussianSums.of(signals, keep), GaussianSums.of(signals, ~keep)
        candidates = np.arange(keep.shape[1])
        for target, partner in calibration_partners(keep, targets):
            target_in = keep[target]
            # Partner -1 (that side is empty) indexes a real row, whose share is masked out.
            partner_phi, has_partner = signals[partner, candidates], partner >= 0
            sums_in = all_in.less(signals[target], target_in).less(partner_phi, ~target_in & has_partner)
            sums_out = all_out.less(signals[target], ~target_in).less(partner_phi, target_in & has_partner)
            try:
                self._check_counts(sums_in.count, sums_out.count, n_references=len(keep) - 1)
            except AttackInputError as error:
                raise AttackInputError(f"with model {target} as the target: {error}") from None
            self._set_gaussians(sums_in, sums_out, n_references=len(keep) - 1)
            yield target

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
                    f"{worst} is calibrated on {int(count_in[worst])} IN and {int(count_out[worst])} "
                    f"OUT of {n_references} reference models: train more reference models"
                )


class LiRAOnline(_LiRA):
    """LiRA online: Gaussian likelihood ratio IN vs OUT, ``phi [n, A]`` -> scores ``[n]``,
    higher = member. Needs >= 2 IN and >= 2 OUT references for every candidate."""

    name = "lira-online"
    description = "LiRA online: per-example Gaussian likelihood ratio of IN vs OUT reference models"
    _needs_in = True
    min_models = 6  # 2 IN references per candidate after leave-one-out: M // 2 - 1 >= 2

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
    min_models = 5  # 2 OUT references per candidate after leave-one-out: M - M // 2 - 1 >= 2

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        z = (signal - self.mean_out_) / np.sqrt(self.var_out_)
        # -log P[Z > z] = -log Phi(-z); log_ndtr keeps the upper tail finite beyond z = 38.
        return (-log_ndtr(-z)).mean(axis=1)
