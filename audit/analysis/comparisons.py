"""Every regime against the standard one, on paired models, with a correction for the
number of comparisons: what the verdict may claim.

Model m of every regime trains on the same keep row with the same seed, so the difference
between two regimes is estimated on pairs, and its interval (:func:`attacks.intervals.
paired_difference`: target models and candidates resampled together) is narrower than two
marginal intervals would suggest. The verdict reports, for each regime other than the
standard, the difference in the main attack's leak and in test accuracy: K = 2 x (regimes - 1)
intervals. Each has level 1 - 0.05 / K (Bonferroni), so all K hold together with 95%
probability, and a "cut" or "raised" is claimed only where the leak's interval excludes 0.
No regime is singled out after seeing the results.
"""

from __future__ import annotations

import numpy as np

from attacks.intervals import paired_difference
from results.records import Comparison, Difference, RegimeResult
from results.vocabulary import CI_LEVEL, HEADLINE_FPR, RegimeKind

# Resamples of the paired bootstrap (the intervals use their variance components, so 400
# resamples pin the level's quantile well enough at K of about 10).
_RESAMPLES = 400


def compare_with_standard(
    regimes: list[RegimeResult], *, scores: dict[str, np.ndarray], keep: np.ndarray, main_attack: str, seed: int
) -> None:
    """Set ``versus_standard`` on every regime but the standard one (in place).

    ``scores``: regime label -> the main attack's leave-one-out scores ``[M, n]``; ``keep
    [M, n]`` is shared by every regime. Nothing is set without a standard regime.
    """
    standard = next((r for r in regimes if r.regime == RegimeKind.STANDARD), None)
    others = [r for r in regimes if r is not standard]
    if standard is None or not others:
        return
    metric = "tpr" if all(_resolvable(r, main_attack) for r in regimes) else "auc"
    n_comparisons = 2 * len(others)
    level = 1.0 - (1.0 - CI_LEVEL) / n_comparisons
    accuracy = {r.label: np.array([m.test_accuracy for m in r.models]) for r in regimes}
    for regime in others:
        paired = paired_difference(
            scores[standard.label],
            scores[regime.label],
            keep,
            per_model_a=accuracy[standard.label],
            per_model_b=accuracy[regime.label],
            fpr_targets=(HEADLINE_FPR,),
            level=level,
            n_resamples=_RESAMPLES,
            seed=seed,
        )
        leak = paired.tpr_at_fpr[HEADLINE_FPR] if metric == "tpr" else paired.auc
        leak_difference = Difference(leak.estimate, leak.low, leak.high)
        if not leak_difference.excludes_zero:
            verdict = "no clear change"
        else:
            verdict = "cut" if leak_difference.estimate < 0 else "raised"
        regime.versus_standard = Comparison(
            baseline=standard.label,
            metric=metric,
            leak=leak_difference,
            test_accuracy=Difference(paired.per_model.estimate, paired.per_model.low, paired.per_model.high),
            level=level,
            family_level=CI_LEVEL,
            n_comparisons=n_comparisons,
            verdict=verdict,
        )


def _resolvable(regime: RegimeResult, attack: str) -> bool:
    record = regime.attacks[attack].at(HEADLINE_FPR)
    return record is not None and record.resolvable
