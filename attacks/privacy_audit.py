"""A valid empirical lower bound on epsilon from one training run.

Steinke, Nasr, Jagielski, "Privacy Auditing with One (1) Training Run", NeurIPS 2023.
Setting: each of m examples was put in ONE audited model's training set by an independent
fair coin (``coins [m]``, True = IN). The auditor fixes k_plus and k_minus *before* seeing
the coins, then guesses IN for the k_plus highest membership scores (higher = member), OUT
for the k_minus lowest, and abstains on the rest: r = k_plus + k_minus guesses, v of them
correct. If training is (eps, delta)-DP, then for q = e^eps / (1 + e^eps) (their Theorem
3.1, and Theorem 5.2 with delta; Appendix D gives the same formula as code),

    P[v' >= v] <= P[Binomial(r, q) >= v] + 2 m delta max_{i=1..v} P[v - i <= Binomial(r, q) < v] / i.

That right-hand side is the p-value of "training is (eps, delta)-DP" (:func:`audit_p_value`);
it grows with eps, and the lower bound is the largest eps it rejects at level
1 - confidence, found by bisection (0 if even eps = 0 is not rejected). Unlike a bound
maximised over thresholds of the scores it is evaluated on (Jagielski et al.'s recipe applied
to the evaluated scores themselves), no threshold is chosen on the evaluated scores, so the
bound holds with the stated confidence, for one model, from one run.

Choosing k_plus, k_minus and the attack on the audited model's coins would void the
guarantee; :func:`choose_guesses` picks them on *other* models whose membership is known
(e.g. the leave-one-out scores of reference models), so no multiplicity correction is due.
Those models' membership must not reveal the audited model's coins: with a keep matrix in
which every candidate is IN for exactly half of the models, the references' rows determine
the target's row; their IN/OUT draws must be independent of the audited model's coins.

>>> r, v = count_guesses(np.array([3.0, 2.0, 1.0, 0.0]), np.array([True, True, False, False]), k_plus=1, k_minus=1)
>>> (r, v), round(audit_p_value(m=4, r=r, v=v, epsilon=0.0, delta=0.0), 2)
((2, 2), 0.25)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from attacks.base import AttackInputError, check_scored

# The search for the crossing epsilon: a ladder 0, 1, 2, 4, ..., 2^12 brackets it (at such
# epsilon q = 1 in floating point and the p-value is 1), then each refinement evaluates the
# p-value at 64 evenly spaced points of the bracket at once and keeps the step where it
# crosses, until the bracket is narrower than _TOLERANCE (at most 10 refinements: 2^-60 of
# its width): 5 or 6 vectorised calls instead of ~70 scalar ones of a bisection.
_LADDER = np.r_[0.0, 2.0 ** np.arange(13)]
_REFINEMENTS = 10
_STEPS = 64
_TOLERANCE = 1e-9  # relative width at which the search stops: far below any meaningful epsilon


@dataclass(frozen=True)
class OneRunAudit:
    """The one-run audit of one model: ``epsilon_lower_bound`` at ``confidence`` from ``v``
    correct of ``r`` guesses (``k_plus`` IN, ``k_minus`` OUT) on ``m`` examples."""

    epsilon_lower_bound: float
    confidence: float
    m: int
    r: int
    v: int
    k_plus: int
    k_minus: int
    delta: float
    attack: str | None

    @property
    def meaning(self) -> str:
        """What the bound means, in one sentence."""
        if self.epsilon_lower_bound == 0.0:
            return (
                f"No evidence against privacy: {self.v} correct of {self.r} membership guesses on {self.m} examples "
                f"is not unlikely ({1 - self.confidence:.0%} level) even for a (0, {self.delta:g})-DP training "
                "algorithm."
            )
        return (
            f"With {self.confidence:.0%} confidence the training algorithm is not (eps, {self.delta:g})-DP for any eps "
            f"below {self.epsilon_lower_bound:.2f}: such an algorithm would let {self.v} or more of {self.r} "
            f"membership guesses on {self.m} examples, each included by an independent fair coin, be right "
            f"with probability under {1 - self.confidence:.0%}."
        )


@dataclass(frozen=True)
class GuessChoice:
    """The attack and guess counts that maximise the mean bound over reference models."""

    attack: str | None
    k_plus: int
    k_minus: int
    mean_bound: float


def audit_p_value(*, m: int, r: int, v: int, epsilon: float | np.ndarray, delta: float) -> float | np.ndarray:
    """The p-value of "training is (epsilon, delta)-DP" given v correct of r guesses on m
    examples (module docstring), at one epsilon or an array of them; at most 1."""
    p = _p_value_function(m=m, r=r, v=v, delta=delta)(np.asarray(epsilon, dtype=np.float64))
    return float(p) if p.ndim == 0 else p


def _p_value_function(*, m: int, r: int, v: int, delta: float) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`audit_p_value` at fixed counts as a function of an epsilon array, with what does
    not depend on epsilon computed once (the bound's search evaluates it a few hundred times)."""
    _check_counts(m=m, r=r, v=v, delta=delta)
    with_delta = delta > 0.0 and v > 0
    if with_delta:
        # P[v - i <= Binomial < v] for i = 1..v: cumulative sums of the pmf from v - 1 down,
        # in logs (log q = log_expit(eps), log(1 - q) = log_expit(-eps): exact even at q ~ 1).
        k = np.arange(v - 1, -1, -1)
        log_choose = special.gammaln(r + 1) - special.gammaln(k + 1) - special.gammaln(r - k + 1)
        widths = np.arange(1, v + 1)

    def p_value(epsilon: np.ndarray) -> np.ndarray:
        # scipy.special's binomial tail (bdtrc) is a ufunc, ~30 times faster than binom.sf.
        p = special.bdtrc(v - 1, r, special.expit(epsilon))  # P[Binomial(r, q) >= v]
        if with_delta:
            eps = epsilon[..., None]
            log_pmf = log_choose + k * special.log_expit(eps) + (r - k) * special.log_expit(-eps)
            below = np.cumsum(np.exp(log_pmf), axis=-1)
            p = p + 2.0 * m * delta * np.max(below / widths, axis=-1)
        return np.minimum(p, 1.0)

    return p_value


def epsilon_from_guesses(*, m: int, r: int, v: int, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest epsilon whose :func:`audit_p_value` is below 1 - ``confidence``; 0.0 if
    epsilon = 0 is not rejected."""
    if not 0.0 < confidence < 1.0:
        raise AttackInputError(f"confidence must lie in (0, 1); got {confidence!r}")
    level = 1.0 - confidence

    p_value = _p_value_function(m=m, r=r, v=v, delta=delta)

    def last_rejected(epsilons: np.ndarray) -> int:
        """Index of the last epsilon rejected (the p-value grows with epsilon); -1 if none."""
        rejected = np.atleast_1d(p_value(epsilons)) < level
        return int(np.flatnonzero(rejected)[-1]) if rejected.any() else -1

    index = last_rejected(_LADDER)
    if index < 0:
        return 0.0
    if index == len(_LADDER) - 1:
        return float(_LADDER[-1])  # unreachable in floating point; kept finite for safety
    low, high = float(_LADDER[index]), float(_LADDER[index + 1])
    for _ in range(_REFINEMENTS):
        if high - low <= _TOLERANCE * max(low, 1.0):
            break
        grid = np.linspace(low, high, _STEPS + 1)
        index = max(last_rejected(grid), 0)  # grid[0] = low was rejected already
        if index == _STEPS:
            break  # the bracket collapsed to adjacent floats
        low, high = float(grid[index]), float(grid[index + 1])
    return low


def count_guesses(
    scores: np.ndarray, coins: np.ndarray, *, k_plus: int, k_minus: int, seed: int = 0
) -> tuple[int, int]:
    """Guesses and correct guesses ``(r, v)``: IN for the ``k_plus`` highest of ``scores
    [m]`` (higher = member), OUT for the ``k_minus`` lowest, against ``coins [m]`` (True =
    IN). Ties are broken uniformly at random (``seed``), never by position, which could
    follow membership."""
    _check_guess_counts(k_plus, k_minus, m=len(np.asarray(coins)))
    ranked = _ranked_coins(scores, coins, seed=seed)
    return k_plus + k_minus, _correct(ranked, k_plus=k_plus, k_minus=k_minus)


def one_run_audit(
    scores: np.ndarray,
    coins: np.ndarray,
    *,
    k_plus: int,
    k_minus: int,
    delta: float = 0.0,
    confidence: float = 0.95,
    attack: str | None = None,
    seed: int = 0,
) -> OneRunAudit:
    """The one-run audit of one model's ``scores [m]`` against its inclusion ``coins [m]``,
    with guess counts fixed beforehand (e.g. by :func:`choose_guesses`); ``attack`` names
    the scores in the result."""
    r, v = count_guesses(scores, coins, k_plus=k_plus, k_minus=k_minus, seed=seed)
    bound = epsilon_from_guesses(m=len(coins), r=r, v=v, delta=delta, confidence=confidence)
    return OneRunAudit(bound, confidence, len(coins), r, v, k_plus, k_minus, delta, attack)


def guess_grid(m: int) -> list[tuple[int, int]]:
    """Default (k_plus, k_minus) candidates for m examples: IN-only, OUT-only and symmetric
    guesses on 0.5% .. 50% of the examples per side (geometric steps)."""
    sizes = sorted({int(k) for k in np.geomspace(max(1, m // 200), m // 2, 8)} - {0})
    return [pair for k in sizes for pair in ((k, 0), (0, k), (k, k))]


def choose_guesses(
    reference_scores: np.ndarray | Mapping[str, np.ndarray],
    reference_keep: np.ndarray,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    grid: Sequence[tuple[int, int]] | None = None,
    seed: int = 0,
) -> GuessChoice:
    """The (k_plus, k_minus) of ``grid`` (default :func:`guess_grid`) and, when
    ``reference_scores`` maps attack names to score rows, the attack, that maximise the mean
    one-run bound over reference models: ``reference_scores [R, m]`` (higher = member) of R
    models other than the audited one, ``reference_keep [R, m]`` their membership. The
    audited model's coins play no part, so the bound computed with the choice needs no
    multiplicity correction. Ties go to the first attack, then the first grid entry."""
    named = dict(reference_scores) if isinstance(reference_scores, Mapping) else {None: reference_scores}
    keep = np.asarray(reference_keep)
    if keep.ndim != 2 or keep.dtype != np.bool_:
        raise AttackInputError(f"reference_keep must be bool [R, m]; got {keep.dtype} {keep.shape}")
    grid = guess_grid(keep.shape[1]) if grid is None else [(int(p), int(n)) for p, n in grid]
    for k_plus, k_minus in grid:
        _check_guess_counts(k_plus, k_minus, m=keep.shape[1])
    bounds: dict[tuple[int, int], float] = {}  # by (r, v): many guesses share their counts

    def bound(r: int, v: int) -> float:
        if (r, v) not in bounds:
            bounds[(r, v)] = epsilon_from_guesses(m=keep.shape[1], r=r, v=v, delta=delta, confidence=confidence)
        return bounds[(r, v)]

    best = GuessChoice(None, 0, 0, -np.inf)
    for attack, scores in named.items():
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != keep.shape:
            raise AttackInputError(
                f"reference scores of {attack or 'the attack'} have shape {scores.shape}; keep has {keep.shape}"
            )
        ranked = np.stack([_ranked_coins(s, k, seed=seed) for s, k in zip(scores, keep)])  # [R, m]
        correct = _correct_counts(ranked, grid)  # [R, len(grid)]
        for (k_plus, k_minus), column in zip(grid, correct.T):
            mean = float(np.mean([bound(k_plus + k_minus, int(v)) for v in column]))
            if mean > best.mean_bound:
                best = GuessChoice(attack, k_plus, k_minus, mean)
    return best


def _correct_counts(ranked_coins: np.ndarray, grid: Sequence[tuple[int, int]]) -> np.ndarray:
    """:func:`_correct` of every row of ``ranked_coins [R, m]`` for every ``(k_plus, k_minus)``
    of ``grid`` at once, ``[R, len(grid)]``, from running counts of IN coins: IN coins among
    the first k_plus, plus OUT coins among the last k_minus (k_minus less the IN coins there)."""
    m = ranked_coins.shape[1]
    ins_before = np.concatenate([np.zeros((len(ranked_coins), 1), np.int64), np.cumsum(ranked_coins, axis=1)], axis=1)
    k_plus = np.array([p for p, _ in grid], dtype=np.int64)
    k_minus = np.array([n for _, n in grid], dtype=np.int64)
    ins_in_tail = ins_before[:, m : m + 1] - ins_before[:, m - k_minus]
    return ins_before[:, k_plus] + k_minus - ins_in_tail


def _ranked_coins(scores: np.ndarray, coins: np.ndarray, *, seed: int) -> np.ndarray:
    """``coins [m]`` ordered by ``scores [m]``, highest first, ties in random order (never by
    position, which could follow membership)."""
    scores, coins = check_scored(scores, coins, flags_name="coins")
    return coins[np.lexsort((np.random.default_rng(seed).random(len(scores)), -scores))]


def _correct(ranked_coins: np.ndarray, *, k_plus: int, k_minus: int) -> int:
    """Correct guesses: IN coins among the first ``k_plus``, OUT coins among the last ``k_minus``."""
    tail = ranked_coins[len(ranked_coins) - k_minus :]
    return int(np.count_nonzero(ranked_coins[:k_plus]) + len(tail) - np.count_nonzero(tail))


def _check_guess_counts(k_plus: int, k_minus: int, *, m: int) -> None:
    if k_plus < 0 or k_minus < 0 or k_plus + k_minus > m or k_plus + k_minus == 0:
        raise AttackInputError(
            f"need k_plus, k_minus >= 0 with 0 < k_plus + k_minus <= m = {m}; got {k_plus}, {k_minus}"
        )


def _check_counts(*, m: int, r: int, v: int, delta: float) -> None:
    if not 0 <= v <= r <= m:
        raise AttackInputError(f"need 0 <= v <= r <= m; got m={m}, r={r}, v={v}")
    if not 0.0 <= delta <= 1.0:
        raise AttackInputError(f"delta must lie in [0, 1]; got {delta!r}")
