"""Robust membership inference attack, RMIA, offline (Zarifzadeh, Liu, Long, Shokri, "Low-Cost
High-Power Membership Inference Attacks", ICML 2024).

With p(x|theta) the target's softmax probability of x's true label:

- p(x) = ((1 + a) / 2) * mean over OUT references of p(x|theta_ref) + (1 - a) / 2, the
  paper's offline approximation of the average over IN and OUT models (``a`` corrects
  for OUT-only references underestimating p(x));
- LR(x, z) = [p(x|theta) / p(x)] / [p(z|theta) / p(z)] for population samples z;
- score(x) = fraction of the population z with LR(x, z) >= gamma, higher = member.

LR(x, z) >= gamma  <=>  ratio(z) <= ratio(x) / gamma, so the score is a search in the
sorted population ratios: O((n + |Z|) log |Z|) time and O(n + |Z|) memory, with no n x |Z|
matrix (50,000 x 50,000 is 20 GB in float64). Ratios are handled as logarithms so that a
tiny p(x) cannot overflow. With several queries per example the score is the mean over
queries of the per-query score.

Population: by default every audit candidate (``population=None``). The candidates are
drawn from the same distribution as the training data, and with half of them members of
any model they play the role of the paper's population in expectation. An int draws that
many candidates at random (seeded); a sequence of indices fixes them. For one target the
score is a monotone function of ratio(x); the population turns it into a quantile, which
puts the scores of different targets on one scale before pooling.

``a``: ``"auto"`` (default) tunes it on a grid over [0, 1] by attacking one reference
model whose membership is known (the first reference) with the remaining references, and
keeping the ``a`` with the best AUC, as the paper prescribes; a float fixes it (the
authors' code uses 0.3 for CIFAR-10).

Calibration follows the ``use`` mask (:func:`attacks.base.reference_mask` in
leave-one-out): the OUT means average the used OUT references only, and candidates for
which the tuning reference is not used are left out of the tuning AUC. Without the mask a
target that is IN for x had one OUT reference more for x than a target that is OUT, which
on exchangeable data pulled the pooled TPR at 1% FPR down to 0.78% (0.96% with the mask;
8 models, 100 pools).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from attacks import roc
from attacks import signals as sig
from attacks.base import AttackInputError, MembershipAttack, calibration_partners

_A_GRID = np.linspace(0.0, 1.0, 11)


class RMIAAttack(MembershipAttack):
    """RMIA offline: ``log p(x|theta) [n, A]`` -> scores ``[n]`` in [0, 1], higher = member.

    Needs >= 1 OUT reference for every candidate (>= 2 references for ``a="auto"``).
    Learned attributes: ``a_`` (the value used), ``log_p_x_`` (``[n, A]``, log p(x)),
    ``population_`` (indices of the population candidates).
    """

    name = "rmia"
    description = "RMIA offline: likelihood ratio against population samples, normalised by OUT reference models"
    reference = "Zarifzadeh et al., Low-Cost High-Power Membership Inference Attacks, ICML 2024"

    def __init__(
        self,
        *,
        a: float | str = "auto",
        gamma: float = 1.0,
        population: int | Sequence[int] | None = None,
        seed: int = 0,
    ):
        self.a = a
        self.gamma = gamma
        self.population = population
        self.seed = seed

    @property
    def min_models(self) -> int:
        """1 OUT reference per candidate after leave-one-out (M - M // 2 - 1 >= 1), and for
        ``a="auto"`` 2: the tuning reference, where it is OUT, must leave another OUT one."""
        return 5 if self.a == "auto" else 3

    def _validate_options(self) -> None:
        if not (self.a == "auto" or (_is_real(self.a) and 0.0 <= self.a <= 1.0)):
            raise AttackInputError(f"a must be a number in [0, 1] or 'auto'; got {self.a!r}")
        if not (_is_real(self.gamma) and self.gamma > 0):
            raise AttackInputError(f"gamma must be a positive number; got {self.gamma!r}")
        if not _is_population(self.population):
            raise AttackInputError(
                f"population must be None (all candidates), a positive count or a sequence of candidate indices; got {self.population!r}"
            )

    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        # log p(x|theta): finite however confident the model; p(x) averages its exponential.
        return sig.true_class_log_prob(logits, labels[:, None])

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        out_sum, out_count = _out_sums(signals, ~keep & use)
        self._calibrate(
            out_sum=out_sum,
            out_count=out_count,
            tuning=(signals[0], keep[0], use[0]) if len(keep) > 1 else None,
        )

    def _fit_each_target(
        self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: list[int]
    ) -> Iterator[int]:
        # OUT sums over all M models, less the target where it is OUT and the partner (an OUT
        # model) where the target is IN: the used OUT references of reference_mask.
        all_sum, all_count = _out_sums(signals, ~keep)
        candidates = np.arange(keep.shape[1])
        for target, partner in calibration_partners(keep, targets):
            out_sum, out_count = _without(all_sum, all_count, signals[target], ~keep[target])
            # Partner -1 (no OUT model to drop) indexes a real row, whose share is masked out.
            partner_is_out = keep[target] & (partner >= 0)
            out_sum, out_count = _without(out_sum, out_count, signals[partner, candidates], partner_is_out)
            # The first reference, as in fit() on the references in their original order.
            tuning_model = 1 if target == 0 else 0
            try:
                self._calibrate(
                    out_sum=out_sum,
                    out_count=out_count,
                    tuning=(signals[tuning_model], keep[tuning_model], partner != tuning_model)
                    if len(keep) > 2
                    else None,
                )
            except AttackInputError as error:
                raise AttackInputError(f"with model {target} as the target: {error}") from None
            yield target

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return self._rmia_scores(signal - self.log_p_x_)

    def _calibrate(
        self,
        *,
        out_sum: np.ndarray,
        out_count: np.ndarray,
        tuning: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    ) -> None:
        """Set ``population_``, ``a_`` and ``log_p_x_`` from the references' OUT sums
        (``out_sum [n, A]``, ``out_count [n]``); ``tuning``: one reference's ``(log
        p(x|theta) [n, A], keep [n], use [n])``, included in the sums where used, to attack
        when tuning ``a``."""
        n = len(out_count)
        self.population_ = self._population_indices(n)
        _check_out_counts(out_count, what="reference models")
        if self.a == "auto":
            if tuning is None:
                raise AttackInputError("rmia with a='auto' needs at least 2 reference models; pass a fixed a")
            self.a_ = self._tune_a(out_sum=out_sum, out_count=out_count, tuning=tuning)
        else:
            self.a_ = float(self.a)
        self.log_p_x_ = _log_p_x(out_sum, out_count, a=self.a_)

    def _tune_a(
        self, *, out_sum: np.ndarray, out_count: np.ndarray, tuning: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> float:
        """The ``a`` on the grid whose RMIA scores best separate the tuning reference's
        members (AUC), with p(x) from the other references, over the candidates for which
        the tuning reference is used."""
        log_p_ref, keep_ref, use_ref = tuning
        sum_rest, count_rest = _without(out_sum, out_count, log_p_ref, ~keep_ref & use_ref)
        usable = use_ref & (count_rest > 0)  # with an OUT model among the remaining references
        if keep_ref[usable].all() or not keep_ref[usable].any():
            raise AttackInputError(
                "rmia cannot tune a: the tuning reference model has only members or only "
                "non-members among candidates with other OUT references; pass a fixed a"
            )
        # Placeholder sums for unusable candidates keep the arithmetic finite; they are masked out.
        sum_rest, count_rest = np.where(usable[:, None], sum_rest, 1.0), np.maximum(count_rest, 1)
        # With one query, gamma = 1 and every candidate in the population, a usable
        # candidate's score is the share of usable candidates whose ratio is <= its own: a
        # strictly increasing function of its ratio on that set, so the AUC is the ratio's
        # own (exactly: same order, same ties) and the population search can be skipped.
        ratio_ranks_alike = self.population is None and self.gamma == 1 and log_p_ref.shape[1] == 1
        aucs = []
        for a in _A_GRID:
            log_ratio = log_p_ref - _log_p_x(sum_rest, count_rest, a=a)
            scores = log_ratio[usable, 0] if ratio_ranks_alike else self._rmia_scores(log_ratio, usable=usable)[usable]
            # One sort per grid point (attacks.roc); scikit-learn's roc_auc_score spent half
            # its time validating arguments, 11 calls per target model.
            aucs.append(float(roc.auc(roc.cumulative_counts(roc.rank(scores, keep_ref[usable])))))
        return float(_A_GRID[int(np.argmax(aucs))])

    def _rmia_scores(self, log_ratio: np.ndarray, *, usable: np.ndarray | None = None) -> np.ndarray:
        """Fraction of the population z with ratio(z) <= ratio(x) / gamma, averaged over
        queries: ``log_ratio [n, A]`` -> ``[n]``. ``usable`` restricts the population."""
        population = self.population_ if usable is None else self.population_[usable[self.population_]]
        threshold = log_ratio - np.log(self.gamma)
        scores = np.empty_like(log_ratio)
        for query in range(log_ratio.shape[1]):
            sorted_population = np.sort(log_ratio[population, query])
            scores[:, query] = np.searchsorted(sorted_population, threshold[:, query], side="right")
        return scores.mean(axis=1) / max(len(population), 1)

    def _population_indices(self, n: int) -> np.ndarray:
        if self.population is None:
            return np.arange(n)
        if isinstance(self.population, (int, np.integer)):
            if self.population > n:
                raise AttackInputError(f"population={self.population} exceeds the {n} candidates")
            return np.sort(np.random.default_rng(self.seed).choice(n, size=self.population, replace=False))
        indices = np.unique(np.asarray(self.population))
        if indices[0] < 0 or indices[-1] >= n:
            raise AttackInputError(f"population indices must be integers in [0, {n}); got {self.population!r}")
        return indices


def _is_population(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, (bool, np.bool_, str)):
        return False
    if isinstance(value, (int, np.integer)):
        return value >= 1
    if isinstance(value, (Sequence, np.ndarray)):
        indices = np.asarray(value)
        return indices.ndim == 1 and indices.size > 0 and np.issubdtype(indices.dtype, np.integer)
    return False


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _out_sums(log_p: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of p(x|theta) = exp(``log_p [R, n, A]``) over the references where ``out [R, n]``
    (the candidate is OUT and the pair is used), ``[n, A]``, and their count ``[n]``."""
    return (np.exp(log_p) * out[..., None]).sum(axis=0), out.sum(axis=0)


def _without(
    out_sum: np.ndarray, out_count: np.ndarray, log_p: np.ndarray, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The OUT sums less one model's share where ``out [n]``: ``log_p [n, A]``."""
    return out_sum - np.exp(log_p) * out[:, None], out_count - out


def _log_p_x(out_sum: np.ndarray, out_count: np.ndarray, *, a: float) -> np.ndarray:
    """log p(x) = log(((1 + a) / 2) * mean_OUT p + (1 - a) / 2), ``[n, A]``, floored at the
    smallest positive float so that a = 1 with a vanishing mean stays finite."""
    p_x = (1.0 + a) / 2.0 * out_sum / out_count[:, None] + (1.0 - a) / 2.0
    return np.log(np.maximum(p_x, np.finfo(np.float64).tiny))


def _check_out_counts(out_count: np.ndarray, *, what: str) -> None:
    worst = int(np.argmin(out_count))
    if out_count[worst] < 1:
        raise AttackInputError(
            f"rmia needs at least 1 OUT reference model per example; example {worst} has none among the {what} "
            "it is calibrated on"
        )
