"""Tables of the report's claims beyond the summary: the worst case on canaries, flooding
against DP-SGD at the same accuracy, and the automatic flood sweep."""

from __future__ import annotations

from reports.formatting import MISSING, attack_name, general, percent, percent_interval
from reports.tables import (
    Cell,
    ColumnGroup,
    Row,
    Table,
    attack_cells,
    headline_first,
    tpr_heading,
)
from results.records import AuditResult
from results.vocabulary import HEADLINE_FPR


def worst_case_table(result: AuditResult) -> Table | None:
    """One row per regime: the main attack on the canaries (AUC and TPR at each FPR target,
    with intervals) and, at the lowest FPR the canaries resolve, the canaries' TPR against the
    population's. None when the audit planted no canaries."""
    attack = result.main_attack
    regimes = [r for r in result.regimes if r.worst_case is not None and attack in r.canary_attacks]
    if not regimes:
        return None
    rows = []
    for regime in regimes:
        worst = regime.worst_case
        ratio = worst.canary_tpr / worst.population_tpr if worst.population_tpr > 0 else None
        cells = attack_cells(regime.canary_attacks[attack], fprs=headline_first())
        cells += [
            Cell(_fpr_text(worst.fpr)),
            Cell(percent(worst.canary_tpr), detail=percent_interval(worst.canary_tpr_ci)),
            Cell(percent(worst.population_tpr), detail=percent_interval(worst.population_tpr_ci)),
            Cell(MISSING if ratio is None else f"{ratio:.1f}\u00d7"),
        ]
        rows.append(Row(label=regime.label, cells=cells))
    first = regimes[0].worst_case
    groups = [
        ColumnGroup(
            f"{attack_name(attack)} on {first.count} {first.kind} canaries",
            ["AUC", *(tpr_heading(f) for f in headline_first())],
        ),
        ColumnGroup("at the lowest FPR the canaries resolve", ["FPR", "canaries", "population", "ratio"]),
    ]
    return Table(id="worst-case-table", corner="Regime", groups=groups, rows=rows)


def _fpr_text(fpr: float) -> str:
    return f"{100 * fpr:.2g}%"


def matched_table(result: AuditResult) -> Table | None:
    """One row per flooded regime: its test accuracy and leak (population, canaries) next to
    DP-SGD's at the same accuracy, and how DP-SGD's figures were read. None without any."""
    regimes = [r for r in result.regimes if r.dp_at_same_accuracy is not None]
    if not regimes:
        return None
    canaries = any(r.dp_at_same_accuracy.canary_leak is not None for r in regimes)
    rows = []
    for regime in regimes:
        matched = regime.dp_at_same_accuracy
        how = (
            f"between {' and '.join(matched.dp_regimes)}"
            if matched.method == "interpolated"
            else f"nearest: {matched.dp_regimes[0]} at {percent(matched.dp_test_accuracy)}"
        )
        cells = [Cell(percent(matched.test_accuracy)), Cell(percent(matched.leak)), Cell(percent(matched.dp_leak))]
        if canaries:
            cells += [Cell(percent(matched.canary_leak)), Cell(percent(matched.dp_canary_leak))]
        rows.append(Row(label=regime.label, cells=[*cells, Cell(how)]))
    heading = tpr_heading(HEADLINE_FPR)
    groups = [
        ColumnGroup("", ["test acc."]),
        ColumnGroup(f"{heading}, population", ["flooding", "DP-SGD"]),
        *([ColumnGroup(f"{heading}, canaries", ["flooding", "DP-SGD"])] if canaries else []),
        ColumnGroup("", ["DP-SGD read"]),
    ]
    return Table(id="matched-table", corner="Regime", groups=groups, rows=rows)


def sweep_table(result: AuditResult) -> Table | None:
    """The automatic flood sweep: one row per level, the recommended one marked best."""
    sweep = result.flood_sweep
    if sweep is None:
        return None
    rows = [
        Row(
            label=point.label,
            cells=[
                Cell(general(multiplier)),
                Cell(f"{100 * point.accuracy_change:+.1f}"),
                Cell(percent(point.leak), best=point.flood_level == sweep.recommended),
                Cell("yes" if point.within_tolerance else "no"),
            ],
        )
        for multiplier, point in zip(sweep.multipliers, sweep.points)
    ]
    groups = [
        ColumnGroup("", ["x test loss"]),
        ColumnGroup("", ["test acc. change (points)"]),
        ColumnGroup("", [sweep.leak_metric]),
        ColumnGroup("", [f"within {100 * sweep.tolerance:g} points"]),
    ]
    return Table(id="sweep-table", corner="Flood level", groups=groups, rows=rows)


def tuning_tables(result: AuditResult) -> list[Table]:
    """One table per tuned DP-SGD regime: every configuration tried with its validation
    accuracy, the chosen one marked best."""
    tables = []
    for regime in result.regimes:
        tuning = regime.dp_tuning
        if tuning is None:
            continue
        rows = [
            Row(
                label=f"{number + 1}{' (configured)' if number == 0 else ''}",
                cells=[
                    Cell(general(trial.learning_rate)),
                    Cell(str(trial.batch_size)),
                    Cell(str(trial.epochs)),
                    Cell(general(trial.max_grad_norm)),
                    Cell(percent(trial.validation_accuracy), best=number == tuning.chosen),
                    Cell(MISSING if trial.epsilon is None else f"{trial.epsilon:.3g}"),
                ],
            )
            for number, trial in enumerate(tuning.trials)
        ]
        groups = [
            ColumnGroup(regime.label, ["learning rate", "expected batch", "epochs", "clipping norm"]),
            ColumnGroup(f"{tuning.validation_size:,} validation examples", ["accuracy", "\u03b5 spent"]),
        ]
        tables.append(Table(id=f"tuning-{len(tables)}", corner="Trial", groups=groups, rows=rows))
    return tables
