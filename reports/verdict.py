"""The few sentences that open the report: what each regime did to the main attack's leak,
compared with the standard (undefended) regime, and at what cost in test accuracy.

Every regime gets its sentence, in the order of the audit: none is singled out after the
results are in. Where the audit compared regimes on paired models (``versus_standard``,
:mod:`audit.analysis.comparisons`), a sentence claims a "cut" or a "rise" only when the
interval of the paired difference excludes 0, and a closing sentence says how many
intervals were reported and at which Bonferroni-corrected level, so that all of them hold
together at 95%. Without paired comparisons (a user's single model against baselines), the
sentences give each regime's figure with its own interval and claim nothing.
"""

from __future__ import annotations

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
from results.claims import Comparison, Difference
from results.records import AuditResult, RegimeResult
from results.vocabulary import HEADLINE_FPR, RegimeKind


def verdict(result: AuditResult) -> list[str]:
    """Sentences summarising the audit, every number taken from ``result`` as stored."""
    attack = result.main_attack
    regimes = [r for r in result.regimes if attack in r.attacks]
    baseline = next((r for r in regimes if r.regime == RegimeKind.STANDARD), None)
    others = [r for r in regimes if r is not baseline]
    if baseline is None:
        return [
            f"This audit has no standard (undefended) regime attacked by {attack_name(attack)}, so there is "
            "no baseline to measure the defences against; the summary table lists each regime's figures."
        ]
    if not others:
        return [
            f"Only the standard regime was audited: {_phrase('tpr', attack)} against it is "
            f"{_show(tpr_reading(baseline.attacks[attack], HEADLINE_FPR), 'tpr')}; add flood or dp regimes to "
            "compare defences."
        ] + _stronger_attacks(result)
    compared = [r for r in others if r.versus_standard is not None]
    if compared:
        sentences = [_paired_sentence(baseline, r, attack) for r in compared]
        if compared[0].versus_standard.canary_leak is not None:
            sentences.append(_canary_sentence(baseline, compared, attack))
        sentences.append(_correction_note(compared[0].versus_standard))
    else:
        sentences = [_marginal_sentence(baseline, r, attack) for r in others]
        sentences.append(
            "Each figure has its own interval (one target model per regime, so no paired comparison is possible); "
            "no cut or rise is claimed."
        )
    return sentences + _matched_sentence(result) + _sweep_sentence(result) + _stronger_attacks(result)


def _matched_sentence(result: AuditResult) -> list[str]:
    """How many flooded regimes leak more than DP-SGD at the same test accuracy (point
    estimates, read off DP-SGD's accuracy frontier; the "Same accuracy" table has each)."""
    matched = [r for r in result.regimes if r.dp_at_same_accuracy is not None]
    if not matched:
        return []
    where = "canaries" if all(r.dp_at_same_accuracy.canary_leak is not None for r in matched) else "population"
    worse = [
        r
        for r in matched
        if (r.dp_at_same_accuracy.canary_leak if where == "canaries" else r.dp_at_same_accuracy.leak)
        > (r.dp_at_same_accuracy.dp_canary_leak if where == "canaries" else r.dp_at_same_accuracy.dp_leak)
    ]
    nearest = sum(r.dp_at_same_accuracy.method == "nearest" for r in matched)
    caveat = (
        f"; for {nearest} of them no DP-SGD regime lay on both sides, so the nearest one's figures stand in"
        if nearest
        else ""
    )
    return [
        f"At the same test accuracy, DP-SGD leaks less than flooding on the {where} for {len(worse)} of "
        f"{len(matched)} flooded regimes (TPR at 1% FPR of {attack_name(result.main_attack)}, read off DP-SGD's "
        f"accuracy frontier; point estimates{caveat}: see \u201cSame accuracy\u201d)."
    ]


def _sweep_sentence(result: AuditResult) -> list[str]:
    """The recommended flood level of an automatic sweep, its cost and its leak."""
    sweep = result.flood_sweep
    if sweep is None:
        return []
    if sweep.recommended is None:
        return [
            f"No flood level of the sweep kept test accuracy within {100 * sweep.tolerance:g} points of the standard "
            "regime, so none is recommended."
        ]
    point = next(p for p in sweep.points if p.flood_level == sweep.recommended)
    return [
        f"Recommended flood level: b = {general(sweep.recommended)} ({general(sweep.multipliers[sweep.points.index(point)])} "
        f"x the standard models' test loss of {decimal(sweep.standard_test_loss)}), by the stated rule ({sweep.rule}): it changes test accuracy by "
        f"{100 * point.accuracy_change:+.1f} points and leaves a {sweep.leak_metric} of {percent(point.leak)}."
    ]


def _paired_sentence(baseline: RegimeResult, regime: RegimeResult, attack: str) -> str:
    """What ``regime`` did to the leak, on paired models, and at what cost."""
    comparison = regime.versus_standard
    metric = comparison.metric
    before, after = _reading(baseline, attack, metric), _reading(regime, attack, metric)
    values = f"{_show(before, metric)} to {_show(after, metric)}"
    change = _difference_text(comparison.leak, metric)
    if comparison.verdict == "cut":
        what = f"cut {_phrase(metric, attack)} from {values} (by {change})"
    elif comparison.verdict == "raised":
        what = f"raised {_phrase(metric, attack)} from {values} (by {change})"
    else:
        what = f"made no clear change to {_phrase(metric, attack)} ({values}; difference {change})"
    return f"{_describe(regime)} {what}, {_accuracy_text(comparison.test_accuracy)}."


def _canary_sentence(baseline: RegimeResult, compared: list[RegimeResult], attack: str) -> str:
    """The worst case: what each regime did to the leak on the canaries."""
    worst = baseline.worst_case
    metric = compared[0].versus_standard.canary_metric
    base = _canary_reading(baseline, attack, metric)
    opening = f"On the {worst.count} {_kind_phrase(worst.kind)}, {_phrase(metric, attack)} is {_show(base, metric)} for {baseline.label}"
    if worst is not None and worst.population_tpr > 0:
        opening += (
            f" ({worst.canary_tpr / worst.population_tpr:.1f} times the population's TPR at the "
            f"{_fpr_text(worst.fpr)} FPR the canaries resolve)"
        )
    clauses = []
    for regime in compared:
        comparison = regime.versus_standard
        change = _difference_text(comparison.canary_leak, metric)
        value = _show(_canary_reading(regime, attack, metric), metric)
        if comparison.canary_verdict == "no clear change":
            clauses.append(f"{_describe(regime, start=False)} made no clear change ({value}; difference {change})")
        else:
            clauses.append(f"{_describe(regime, start=False)} {comparison.canary_verdict} it to {value} (by {change})")
    return f"{opening}; {_listing(clauses)}."


def _canary_reading(regime: RegimeResult, attack: str, metric: str) -> Reading | None:
    summary = regime.canary_attacks[attack]
    return tpr_reading(summary, HEADLINE_FPR) if metric == "tpr" else auc_reading(summary)


def _kind_phrase(kind: str) -> str:
    return {"mislabelled": "mislabelled canaries", "ood": "out-of-distribution canaries"}.get(kind, f"{kind} canaries")


def _fpr_text(fpr: float) -> str:
    return f"{100 * fpr:.2g}%"


def _marginal_sentence(baseline: RegimeResult, regime: RegimeResult, attack: str) -> str:
    metric = "tpr" if _resolved(baseline, attack) and _resolved(regime, attack) else "auc"
    before, after = _reading(baseline, attack, metric), _reading(regime, attack, metric)
    return (
        f"{_describe(regime)}: {_phrase(metric, attack)} {_show(after, metric)} against {_show(before, metric)} "
        f"for {baseline.label}, {_accuracy_change(baseline, regime)}."
    )


def _correction_note(comparison: Comparison) -> str:
    names = {"tpr": "TPR at 1% FPR", "auc": "AUC"}
    what = names[comparison.metric]
    if comparison.canary_leak is not None:
        what += f" on the population, {names[comparison.canary_metric]} on the canaries"
    what += " and test accuracy"
    return (
        f"Bracketed differences are intervals of the paired difference (model m of every regime shares its "
        f"training half and seed) at {100 * comparison.level:.2f}%: {comparison.n_comparisons} intervals "
        f"({what} for each regime against {comparison.baseline}), Bonferroni-corrected so that all hold "
        f"together with {100 * comparison.family_level:g}% confidence."
    )


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
    return [
        f"{attack_name(attack)} is not the strongest attack everywhere: a higher AUC, above its confidence "
        f"interval, came from {found} (see \u201cEvery attack\u201d)."
    ]


def _reading(regime: RegimeResult, attack: str, metric: str) -> Reading | None:
    summary = regime.attacks[attack]
    return tpr_reading(summary, HEADLINE_FPR) if metric == "tpr" else auc_reading(summary)


def _resolved(regime: RegimeResult, attack: str) -> bool:
    reading = tpr_reading(regime.attacks[attack], HEADLINE_FPR)
    return reading is not None and reading.resolvable and not is_missing(reading.value)


def _phrase(metric: str, attack: str) -> str:
    return f"the {'TPR at 1% FPR' if metric == 'tpr' else 'AUC'} of {attack_name(attack)}"


def _show(reading: Reading | None, metric: str) -> str:
    """Value with its interval in brackets, e.g. ``9.1% [7.8–10.5%]``."""
    if reading is None:
        return "\u2013"
    if metric == "tpr":
        value, interval = percent(reading.value), percent_interval(reading.interval)
    else:
        value, interval = decimal(reading.value), decimal_interval(reading.interval)
    return f"{value} [{interval}]" if interval else value


def _difference_text(difference: Difference, metric: str) -> str:
    """The size of a difference with the interval of the signed difference (this regime
    minus the baseline): points of TPR, or AUC units."""
    if metric == "tpr":
        return f"{abs(100 * difference.estimate):.1f} points [{100 * difference.low:+.1f} to {100 * difference.high:+.1f}]"
    return f"{abs(difference.estimate):.3f} [{difference.low:+.3f} to {difference.high:+.3f}]"


def _accuracy_text(difference: Difference) -> str:
    """The paired change in test accuracy, in points, with its interval."""
    points = 100 * difference.estimate
    interval = f"[{100 * difference.low:+.1f} to {100 * difference.high:+.1f}]"
    if abs(points) < 0.05:
        return f"with test accuracy unchanged {interval}"
    if points < 0:
        return f"at a cost of {-points:.1f} points of test accuracy {interval}"
    return f"while raising test accuracy by {points:.1f} points {interval}"


def _accuracy_change(baseline: RegimeResult, regime: RegimeResult) -> str:
    before, after = baseline.mean("test_accuracy"), regime.mean("test_accuracy")
    if is_missing(before) or is_missing(after):
        return "with no test accuracy recorded"
    return f"test accuracy {percent(after)} against {percent(before)}"


def _describe(regime: RegimeResult, *, start: bool = True) -> str:
    """How a sentence names a regime: "Flooding at b = 0.3", "DP-SGD (ε = 8)"; in lower
    case where it does not start the sentence."""
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


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
