"""Reading one figure out of the result objects, the same way for tables, figures and verdict.

Nothing here computes a metric: it only finds the value the audit stored, with its interval
and whether the audit could resolve it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from audit.results import AttackSummary, AuditResult
from reports.formatting import is_missing


@dataclass(frozen=True)
class Reading:
    """One stored figure: value, interval (``[low, high]`` or None) and resolvability."""

    value: float | None
    interval: list[float] | None
    resolvable: bool = True


def tpr_reading(attack: AttackSummary, fpr: float) -> Reading | None:
    """The attack's TPR at the FPR target ``fpr``, or None if the audit did not measure it.

    ``tpr_at_fpr`` keys are FPR targets written as strings (``"0.01"``); they are matched by
    value so that ``"0.010"`` and ``"1e-2"`` are found too.
    """
    key = _fpr_key(attack.tpr_at_fpr, fpr)
    if key is None:
        return None
    intervals = attack.tpr_at_fpr_ci or {}
    return Reading(
        value=attack.tpr_at_fpr[key],
        interval=_complete(intervals.get(key)),
        resolvable=attack.tpr_resolvable.get(key, True),
    )


def auc_reading(attack: AttackSummary) -> Reading:
    return Reading(value=attack.auc, interval=_complete(attack.auc_ci))


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


def _fpr_key(values: dict[str, float], target: float) -> str | None:
    for key in values:
        try:
            if math.isclose(float(key), target, rel_tol=1e-6):
                return key
        except ValueError:
            continue
    return None
