"""Every regime against the standard one, on paired models, with a correction for the
number of comparisons: what the verdict may claim.

Model m of every regime trains on the same keep row with the same seed, so the difference
between two regimes is estimated on pairs, and its interval (:func:`attacks.intervals.
paired_difference`: target models and candidates resampled together) is narrower than two
marginal intervals would suggest. The verdict reports, for each regime other than the
standard, the difference in the main attack's leak on the population, on the canaries (when
the audit has any) and in test accuracy: K = 2 or 3 x (regimes - 1) intervals. Each has level 1 - 0.05 / K (Bonferroni), so all K hold together with 95%
probability, and a "cut" or "raised" is claimed only where the leak's interval excludes 0.
No regime is singled out after seeing the results.
"""

from __future__ import annotations

import numpy as np

from attacks.intervals import paired_difference
from results.claims import Comparison, Difference
from results.records import RegimeResult
from results.vocabulary import CI_LEVEL, HEADLINE_FPR, RegimeKind

# Resamples of the paired bootstrap (the intervals use their variance components, so 400
# resamples pin the level's quantile well enough at K of about 10).
_RESAMPLES = 400


def compare_with_standard(
    regimes: list[RegimeResult],
    *,
    scores: dict[str, np.ndarray],
    keep: np.ndarray,
    canaries: np.ndarray,
    main_attack: str,
    seed: int,
) -> None:
    """Set ``versus_standard`` on every regime but the standard one (in place).

    ``scores``: regime label -> the main attack's leave-one-out scores ``[M, n]``; ``keep
    [M, n]`` is shared by every regime; ``canaries`` (bool ``[n]``) marks the canaries, whose
    leak is compared apart. Nothing is set without a standard regime.
    """
    standard = next((r for r in regimes if r.regime == RegimeKind.STANDARD), None)
    others = [r for r in regimes if r is not standard]
    if standard is None or not others:
        return
    population = ~canaries
    metric = "tpr" if all(_resolvable(r.attacks[main_attack]) for r in regimes) else "auc"
    canary_metric = None
    if canaries.any():
        canary_metric = "tpr" if all(_resolvable(r.canary_attacks[main_attack]) for r in regimes) else "auc"
    n_comparisons = (3 if canary_metric else 2) * len(others)
    level = 1.0 - (1.0 - CI_LEVEL) / n_comparisons
    accuracy = {r.label: np.array([m.test_accuracy for m in r.models]) for r in regimes}

    def paired(regime: RegimeResult, columns: np.ndarray, chosen: str):
        result = paired_difference(
            scores[standard.label][:, columns],
            scores[regime.label][:, columns],
            keep[:, columns],
            per_model_a=accuracy[standard.label],
            per_model_b=accuracy[regime.label],
            fpr_targets=(HEADLINE_FPR,),
            level=level,
            n_resamples=_RESAMPLES,
            seed=seed,
        )
        leak = result.tpr_at_fpr[HEADLINE_FPR] if chosen == "tpr" else result.auc
        return Difference(leak.estimate, leak.low, leak.high), result.per_model

    for regime in others:
        leak, accuracy_change = paired(regime, population, metric)
        canary_leak = paired(regime, canaries, canary_metric)[0] if canary_metric else None
        regime.versus_standard = Comparison(
            baseline=standard.label,
            metric=metric,
            leak=leak,
            test_accuracy=Difference(accuracy_change.estimate, accuracy_change.low, accuracy_change.high),
            level=level,
            family_level=CI_LEVEL,
            n_comparisons=n_comparisons,
            verdict=_verdict(leak),
            canary_metric=canary_metric,
            canary_leak=canary_leak,
            canary_verdict=_verdict(canary_leak) if canary_leak else None,
        )


def _verdict(difference: Difference) -> str:
    if not difference.excludes_zero:
        return "no clear change"
    return "cut" if difference.estimate < 0 else "raised"


def _resolvable(summary) -> bool:
    record = summary.at(HEADLINE_FPR)
    return record is not None and record.resolvable
