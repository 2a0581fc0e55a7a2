"""Reading one figure out of the result objects, the same way for tables, figures and verdict.

Nothing here computes a metric: it only finds the value the audit stored, with its interval
and whether the audit could resolve it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reports.formatting import is_missing
from results.records import AttackSummary, AuditResult, RegimeResult


@dataclass(frozen=True)
class Reading:
    """One stored figure: value, interval (``[low, high]`` or None) and resolvability."""

    value: float | None
    interval: list[float] | None
    resolvable: bool = True


def tpr_reading(attack: AttackSummary, fpr: float) -> Reading | None:
    """The attack's TPR at the FPR target ``fpr``, or None if the audit did not measure it."""
    record = attack.at(fpr)
    if record is None:
        return None
    return Reading(value=record.tpr, interval=_complete(record.ci), resolvable=record.resolvable)


def auc_reading(attack: AttackSummary) -> Reading:
    return Reading(value=attack.auc, interval=_complete(attack.auc_ci))


@dataclass(frozen=True)
class Spread:
    """Mean and standard deviation (n - 1) of one figure over replicates."""

    mean: float
    sd: float


def replicate_spreads(regime: RegimeResult) -> dict[str, Spread] | None:
    """The regime's headline figures (``auc``, ``tpr``, ``test_accuracy``) over its
    replicates; None with fewer than two."""
    if len(regime.replicates) < 2:
        return None
    spreads = {}
    for name in ("auc", "tpr", "test_accuracy"):
        values = [getattr(r, name) for r in regime.replicates]
        mean = sum(values) / len(values)
        spreads[name] = Spread(mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)))
    return spreads


def attack_names(result: AuditResult) -> list[str]:
    """Every attack that ran on any regime, the main attack first, then in first-seen order."""
    names = [result.main_attack]
    for regime in result.regimes:
        names.extend(name for name in regime.attacks if name not in names)
    return [name for name in names if any(name in r.attacks for r in result.regimes)]


def _complete(interval: list[float] | None) -> list[float] | None:
    """The interval if both ends are known; a NaN end (None in JSON) makes it unusable."""
    if interval is None or len(interval) != 2 or any(is_missing(v) for v in interval):
        return None
    return list(interval)
