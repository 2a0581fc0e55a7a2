"""``--flood-levels auto``: flood levels from the standard model's losses, and the stated
rule that recommends one.

Flood levels only mean something relative to the losses a model reaches: Ishida et al. (ICML
2020) chose b from a small grid by validation accuracy; RelaxLoss (Chen et al., ICLR 2022)
sets its target near the non-member (test) loss. The sweep takes the standard regime's mean
test loss L (eval mode, after the last epoch) and floods at b = L x :data:`MULTIPLIERS`.
The recommendation: among the levels whose mean test accuracy is at most ``tolerance`` below
the standard regime's, the one with the lowest leak on the canaries (the main attack's TPR at
1% FPR; on the population when the audit has no canaries); ties go to the lower level, and
no level is recommended when none stays within the tolerance.
"""

from __future__ import annotations

import math

from audit.errors import AuditInputError
from results.claims import FloodSweep, SweepPoint
from results.records import RegimeResult
from results.vocabulary import HEADLINE_FPR, RegimeKind

MULTIPLIERS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def sweep_levels(standard: RegimeResult) -> tuple[float, list[float]]:
    """The standard models' mean test loss and the flood levels of the sweep."""
    losses = [m.history[-1].test_loss for m in standard.models if m.history]
    test_loss = sum(losses) / len(losses) if losses else math.nan
    if not math.isfinite(test_loss) or test_loss <= 0:
        raise AuditInputError(
            f"--flood-levels auto cannot derive flood levels: the standard models' mean test loss is {test_loss} "
            "(the levels are multiples of it, so it must be a finite number > 0); give the levels yourself, "
            "e.g. --flood-levels 0.05 0.1 0.3 (the standard models stay cached)"
        )
    return test_loss, [float(f"{test_loss * m:.3g}") for m in MULTIPLIERS]  # 3 significant digits: readable labels


def recommend(points: list[SweepPoint]) -> float | None:
    """The stated rule: the lowest leak among levels within the tolerance (ties: lower level)."""
    eligible = [p for p in points if p.within_tolerance]
    if not eligible:
        return None
    return min(eligible, key=lambda p: (p.leak, p.flood_level)).flood_level


def flood_sweep(
    standard: RegimeResult, flooded: list[RegimeResult], *, test_loss: float, tolerance: float, main_attack: str
) -> FloodSweep:
    """The sweep's record: one point per flooded regime of the sweep, and the recommendation."""
    canaries = bool(standard.canary_attacks)
    base_accuracy = standard.mean("test_accuracy")
    points = []
    for regime in flooded:
        summary = (regime.canary_attacks if canaries else regime.attacks)[main_attack]
        change = regime.mean("test_accuracy") - base_accuracy
        points.append(
            SweepPoint(
                flood_level=regime.flood_level,
                label=regime.label,
                accuracy_change=change,
                leak=summary.at(HEADLINE_FPR).tpr,
                within_tolerance=change >= -tolerance,
            )
        )
    where = "canaries" if canaries else "population"
    return FloodSweep(
        standard_test_loss=test_loss,
        multipliers=list(MULTIPLIERS),
        tolerance=tolerance,
        leak_metric=f"TPR at 1% FPR on the {where}",
        points=points,
        recommended=recommend(points),
        rule=(
            f"among the levels whose mean test accuracy is at most {100 * tolerance:g} points below the standard "
            f"regime's, the lowest TPR at 1% FPR on the {where} (ties: the lower level)"
        ),
    )


def is_sweep_regime(regime: RegimeResult, levels: list[float]) -> bool:
    return regime.regime == RegimeKind.FLOOD and regime.flood_level in levels
