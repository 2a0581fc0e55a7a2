"""Flooding against DP-SGD at the same test accuracy.

A defence that leaks less than DP-SGD at a fixed epsilon may simply be less accurate (or
more); the fair question is what DP-SGD leaks at the same accuracy (Aerni, Zhang and Tramèr,
CCS 2024). The audit trains DP-SGD at several epsilons, a large and formally vacuous one
included, so that their test accuracies bracket the flooded regimes'; for each flooded
regime, DP-SGD's leak is read off its accuracy frontier: linearly interpolated in test
accuracy between the two DP-SGD regimes that bracket the flooded one, or, where none lies on
one side, the nearest DP-SGD regime's own figure, which the record and the verdict say.
"""

from __future__ import annotations

from results.claims import MatchedDp
from results.records import RegimeResult
from results.vocabulary import HEADLINE_FPR, RegimeKind


def match_dp_accuracy(regimes: list[RegimeResult], *, main_attack: str) -> None:
    """Set ``dp_at_same_accuracy`` on every flooded regime (flood and iFlood), in place,
    against the pure DP-SGD regimes (DP-SGD combined with iFlood is a defence of its own)."""
    frontier = sorted(
        (r for r in regimes if r.regime == RegimeKind.DP and r.flood_level is None),
        key=lambda r: r.mean("test_accuracy"),
    )
    if not frontier:
        return
    for regime in regimes:
        if regime.regime in (RegimeKind.FLOOD, RegimeKind.IFLOOD):
            regime.dp_at_same_accuracy = _matched(regime, frontier, main_attack=main_attack)


def _matched(regime: RegimeResult, frontier: list[RegimeResult], *, main_attack: str) -> MatchedDp:
    accuracy = regime.mean("test_accuracy")
    below = [r for r in frontier if r.mean("test_accuracy") <= accuracy]
    above = [r for r in frontier if r.mean("test_accuracy") > accuracy]
    if below and above:
        low, high = below[-1], above[0]
        weight = (accuracy - low.mean("test_accuracy")) / (high.mean("test_accuracy") - low.mean("test_accuracy"))
        method, used = "interpolated", [low, high]
    else:
        nearest = (below or above)[-1 if below else 0]
        weight, method, used = 0.0, "nearest", [nearest, nearest]

    def between(leak_of) -> float | None:
        values = [leak_of(r) for r in used]
        if any(v is None for v in values):
            return None
        return (1.0 - weight) * values[0] + weight * values[1]

    return MatchedDp(
        method=method,
        dp_regimes=list(dict.fromkeys(r.label for r in used)),
        test_accuracy=accuracy,
        dp_test_accuracy=between(lambda r: r.mean("test_accuracy")),
        leak=_leak(regime, main_attack),
        dp_leak=between(lambda r: _leak(r, main_attack)),
        canary_leak=_canary_leak(regime, main_attack),
        dp_canary_leak=between(lambda r: _canary_leak(r, main_attack)),
    )


def _leak(regime: RegimeResult, attack: str) -> float:
    return regime.attacks[attack].at(HEADLINE_FPR).tpr


def _canary_leak(regime: RegimeResult, attack: str) -> float | None:
    summary = regime.canary_attacks.get(attack)
    return None if summary is None else summary.at(HEADLINE_FPR).tpr
