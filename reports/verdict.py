"""The few sentences that open the report: what the defences did to the main attack.

The baseline is the regime of kind ``standard``; it is compared with the least leaky regime
of each kind of defence that was audited: batch flooding (``flood``), per-example flooding
(``iflood``) and DP-SGD (``dp``), one sentence each. The two kinds of flooding get a sentence
each because they can disagree (one may cut the leak while the other raises it), and a
verdict that kept only the better one would hide the other. The wording follows the evidence:
a cut is claimed only when the confidence intervals are disjoint, an unresolvable TPR at 1%
FPR gives way to AUC, and a baseline that does not leak is said to.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.formatting import (
    attack_name,
    decimal,
    decimal_interval,
    general,
    is_missing,
    percent,
    percent_interval,
)
from reports.readings import Reading, auc_reading, tpr_reading
from results.records import AuditResult, RegimeResult
from results.vocabulary import DEFENCE_KINDS, HEADLINE_FPR, RegimeKind


@dataclass(frozen=True)
class _Metric:
    """How the verdict measures leak: TPR at 1% FPR when resolvable, else AUC."""

    name: str
    chance: float

    def read(self, regime: RegimeResult, attack: str) -> Reading | None:
        summary = regime.attacks.get(attack)
        if summary is None:
            return None
        reading = tpr_reading(summary, HEADLINE_FPR) if self.name == "tpr" else auc_reading(summary)
        return None if reading is None or is_missing(reading.value) else reading

    def phrase(self, attack: str) -> str:
        figure = "TPR at 1% FPR" if self.name == "tpr" else "AUC"
        return f"the {figure} of {attack_name(attack)}"

    def show(self, reading: Reading) -> str:
        """Value with its interval in brackets, e.g. ``9.1% [7.8–10.5%]``."""
        if self.name == "tpr":
            value, interval = percent(reading.value), percent_interval(reading.interval)
        else:
            value, interval = decimal(reading.value), decimal_interval(reading.interval)
        return f"{value} [{interval}]" if interval else value


_TPR = _Metric(name="tpr", chance=HEADLINE_FPR)
_AUC = _Metric(name="auc", chance=0.5)


def verdict(result: AuditResult) -> list[str]:
    """Sentences summarising the audit, numbers taken from ``result`` as stored: one per kind
    of defence, after a note when TPR gives way to AUC and before a caveat when another
    attack beats the main one."""
    attack = result.main_attack
    baseline = next((r for r in result.regimes if r.regime == RegimeKind.STANDARD and attack in r.attacks), None)
    if baseline is None:
        return [
            f"This audit has no standard (undefended) regime attacked by {attack_name(attack)}, so there is "
            "no baseline to measure the defences against; the summary table lists each regime's figures."
        ]
    groups = [[r for r in result.regimes if r.regime == kind and attack in r.attacks] for kind in DEFENCE_KINDS]

    sentences = []
    metric = _TPR
    if not all(_tpr_resolved(r, attack) for r in [baseline, *(r for group in groups for r in group)]):
        metric = _AUC
        sentences.append(
            f"The TPR at 1% FPR of {attack_name(attack)} is unresolved here (fewer than 100 non-members, "
            "even pooled over the targets, so a 1% false-positive rate cannot be measured); this summary "
            "compares AUC instead."
        )
    base = metric.read(baseline, attack)
    if base is None:
        return [
            f"The standard regime has no recorded value for {metric.phrase(attack)}, so there is no baseline to "
            "measure the defences against; the summary table lists each regime's figures."
        ]
    defences = [r for r in (_least_leaky(g, metric, attack) for g in groups) if r is not None]

    if not defences:
        sentences.append(
            f"Only the standard regime was audited: {metric.phrase(attack)} against it is {metric.show(base)}; "
            "add flood or dp regimes to compare defences."
        )
        return sentences + _stronger_attacks(result)
    if _no_leak(base, metric):
        sentences.append(
            f"The standard model shows no measurable leak: {metric.phrase(attack)} is {metric.show(base)}, "
            f"no better than a random guess ({_chance(metric)})."
        )
        costs = [
            f"{_describe(r, start=i == 0)} {_accuracy_change(baseline, r, short=True)}"
            for i, r in enumerate(defences)
        ]
        sentences.append(_listing(costs) + ", with no leak to cut.")
        return sentences + _stronger_attacks(result)
    for regime in defences:
        sentences.append(_comparison(baseline, regime, metric=metric, attack=attack, base=base))
    return sentences + _stronger_attacks(result)


def _stronger_attacks(result: AuditResult) -> list[str]:
    """A caveat when another attack's AUC lies above the main attack's interval on some
    regime: the verdict's figures then understate what an attacker can do there."""
    attack = result.main_attack
    stronger: dict[str, list[str]] = {}
    for regime in result.regimes:
        main = regime.attacks.get(attack)
        if main is None or is_missing(main.auc):
            continue
        reading = auc_reading(main)
        ceiling = reading.interval[1] if reading.interval else main.auc
        others = [a for name, a in regime.attacks.items() if name != attack and not is_missing(a.auc)]
        best = max(others, key=lambda a: a.auc, default=None)
        if best is not None and best.auc > ceiling:
            stronger.setdefault(best.attack, []).append(regime.label)
    if not stronger:
        return []
    found = "; ".join(f"{attack_name(name)} on {_listing(labels)}" for name, labels in stronger.items())
    caveat = (
        f"{attack_name(attack)} is not the strongest attack everywhere: a higher AUC, above its confidence "
        f"interval, came from {found} (see \u201cEvery attack\u201d)."
    )
    return [caveat]


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _comparison(
    baseline: RegimeResult, regime: RegimeResult, *, metric: _Metric, attack: str, base: Reading
) -> str:
    """One sentence: what ``regime`` did to the metric relative to ``baseline``, and at what cost."""
    reading = metric.read(regime, attack)
    subject, what = _describe(regime), metric.phrase(attack)
    cost = _accuracy_change(baseline, regime, short=False)
    has_intervals = bool(base.interval and reading.interval)
    if has_intervals and _overlap(base.interval, reading.interval):
        return (
            f"{subject} made no clear change to {what} ({metric.show(base)} vs {metric.show(reading)}: "
            f"intervals overlap), {cost}."
        )
    if reading.value == base.value:
        return f"{subject} left {what} unchanged at {metric.show(base)}, {cost}."
    verb = "cut" if reading.value < base.value else "raised"
    caveat = "" if has_intervals else " (no confidence intervals recorded, so this may be noise)"
    return f"{subject} {verb} {what} from {metric.show(base)} to {metric.show(reading)}{caveat}, {cost}."


def _describe(regime: RegimeResult, *, start: bool = True) -> str:
    """How a sentence names a regime: "Flooding at b = 0.3", "DP-SGD (ε = 8)"; in lower
    case where it does not start the sentence ("flooding at b = 0.3")."""
    level = general(regime.flood_level) if regime.flood_level else None
    if regime.regime == RegimeKind.FLOOD:
        return f"{'F' if start else 'f'}looding at b = {level}"
    if regime.regime == RegimeKind.IFLOOD:
        return f"{'P' if start else 'p'}er-example flooding (iFlood) at b = {level}"
    if regime.regime == RegimeKind.DP:
        # The configured target names the regime (as in its label); the spent epsilon is in the tables.
        epsilon = regime.params.epsilon if regime.params.epsilon is not None else regime.epsilon
        text = f"DP-SGD (\u03b5 = {general(epsilon)})"
        return f"{text} with iFlood at b = {level}" if level else text
    return regime.label


def _accuracy_change(baseline: RegimeResult, regime: RegimeResult, *, short: bool) -> str:
    """The change in mean test accuracy, in percentage points, as a phrase."""
    before, after = baseline.mean("test_accuracy"), regime.mean("test_accuracy")
    if is_missing(before) or is_missing(after):
        return "with no test accuracy recorded"
    points = 100 * (before - after)
    if abs(points) < 0.05:
        return "left test accuracy unchanged" if short else "with test accuracy unchanged"
    if points > 0:
        return (
            f"cost {points:.1f} points of test accuracy"
            if short
            else f"at a cost of {points:.1f} points of test accuracy"
        )
    return (
        f"raised test accuracy by {-points:.1f} points"
        if short
        else f"while raising test accuracy by {-points:.1f} points"
    )


def _least_leaky(group: list[RegimeResult], metric: _Metric, attack: str) -> RegimeResult | None:
    """The regime of ``group`` with the lowest metric; None when none has it recorded."""
    readable = [r for r in group if metric.read(r, attack) is not None]
    return min(readable, key=lambda r: metric.read(r, attack).value, default=None)


def _tpr_resolved(regime: RegimeResult, attack: str) -> bool:
    reading = tpr_reading(regime.attacks[attack], HEADLINE_FPR)
    return reading is not None and reading.resolvable and not is_missing(reading.value)


def _no_leak(reading: Reading, metric: _Metric) -> bool:
    """True when the baseline is indistinguishable from guessing: its interval reaches chance."""
    low = reading.interval[0] if reading.interval else reading.value
    return low <= metric.chance


def _overlap(first: list[float], second: list[float]) -> bool:
    return first[0] <= second[1] and second[0] <= first[1]


def _chance(metric: _Metric) -> str:
    return "a guess has a TPR of 1% at 1% FPR" if metric is _TPR else "a guess has AUC 0.5"
