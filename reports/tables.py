"""The report's tables as plain rows of formatted strings, ready for the template to lay out.

Values are read from the result objects and formatted here; the template only places them,
and escapes them (run names, paths and config values are user text). Every numeric table is
a :class:`Table`: a corner heading, column groups, and one row per regime or attack, so the
template lays all of them out with one macro.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reports.formatting import (
    MISSING,
    attack_name,
    decimal,
    decimal_interval,
    epsilon_text,
    general,
    is_missing,
    percent,
    percent_interval,
)
from reports.readings import attack_names, replicate_spreads, tpr_reading
from results.records import AttackSummary, AuditResult, RegimeResult
from results.vocabulary import FPR_TARGETS, HEADLINE_FPR


@dataclass(frozen=True)
class Cell:
    """One table cell: main text, an optional second line (an interval) and flags.

    ``unresolved``: the TPR could not be resolved (a dagger follows it); ``best``: the largest
    value of its column (bold); ``exceeded``: an empirical epsilon above the accountant's.
    """

    text: str
    detail: str = ""
    unresolved: bool = False
    best: bool = False
    exceeded: bool = False


@dataclass(frozen=True)
class ColumnGroup:
    """Columns under one heading. A group with an empty title must hold one column, whose
    heading then spans both header rows."""

    title: str
    columns: list[str]


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    """A table with a corner heading (what a row is), grouped columns and rows of cells."""

    id: str
    corner: str
    groups: list[ColumnGroup]
    rows: list[Row]

    def cell_classes(self, index: int, cell: Cell) -> str:
        """CSS classes of the ``index``-th cell of a row: ``group`` where a column group starts
        (a rule is drawn there), ``best`` and ``exceeded`` from the cell's flags."""
        starts, column = set(), 0
        for group in self.groups:
            starts.add(column)
            column += len(group.columns)
        flags = (("group", index in starts), ("best", cell.best), ("exceeded", cell.exceeded))
        return " ".join(name for name, on in flags if on)

    @property
    def any_unresolved(self) -> bool:
        return any(cell.unresolved for row in self.rows for cell in row.cells)

    @property
    def any_exceeded(self) -> bool:
        return any(cell.exceeded for row in self.rows for cell in row.cells)


@dataclass(frozen=True)
class ExampleRow:
    """A most-vulnerable example: thumbnail URI for images, feature strings for tabular data."""

    index: int
    label: str
    score: str
    image: str | None = None
    features: list[str] = field(default_factory=list)


def summary_table(result: AuditResult) -> Table:
    """One row per regime: the main attack's AUC and TPRs first (what the report is about),
    then test accuracy and how closely the pool fitted its training data, then DP epsilon."""
    attack = result.main_attack
    replicates = max((len(r.replicates) for r in result.regimes), default=0)
    rows = []
    for regime in result.regimes:
        cells = attack_cells(regime.attacks.get(attack), fprs=headline_first())
        cells += [
            Cell(percent(regime.mean("test_accuracy"))),
            Cell(percent(regime.mean("train_accuracy"))),
            Cell(decimal(regime.mean("train_loss"), 4)),
            Cell(percent(regime.mean("member_confidence"))),
            Cell(percent(regime.mean("non_member_confidence"))),
            Cell(epsilon_text(regime.epsilon) if regime.epsilon is not None else MISSING),
        ]
        spreads = replicate_spreads(regime)
        if replicates > 1:
            cells += (
                [
                    Cell(f"{decimal(spreads['auc'].mean)} \u00b1\u00a0{decimal(spreads['auc'].sd)}"),
                    Cell(f"{percent(spreads['tpr'].mean)} \u00b1\u00a0{percent(spreads['tpr'].sd)}"),
                    Cell(f"{percent(spreads['test_accuracy'].mean)} \u00b1\u00a0{percent(spreads['test_accuracy'].sd)}"),
                ]
                if spreads
                else [Cell(MISSING)] * 3
            )
        rows.append(Row(label=regime.label, cells=cells))
    groups = [
        ColumnGroup(attack_name(attack), ["AUC", *(tpr_heading(f) for f in headline_first())]),
        ColumnGroup(
            "Models (mean over pool)",
            ["test acc.", "train acc.", "final train loss", "confidence, members", "confidence, non-members"],
        ),
        ColumnGroup("", ["DP \u03b5 spent"]),
    ]
    if replicates > 1:
        groups.append(
            ColumnGroup(f"over {replicates} replicates (mean \u00b1 sd)", ["AUC", tpr_heading(HEADLINE_FPR), "test acc."])
        )
    return Table(id="summary-table", corner="Regime", groups=groups, rows=rows)


def attacks_table(result: AuditResult) -> Table:
    """Every attack (rows) against every regime (column groups): AUC and TPR at 1% FPR.

    The largest AUC and the largest TPR of each regime are marked ``best``: the attack a
    defence has to stop is the strongest one, not only the main attack.
    """
    attacks = attack_names(result)
    columns: list[list[Cell]] = []  # one list of cells per (regime, figure), top to bottom
    for regime in result.regimes:
        summaries = [regime.attacks.get(name) for name in attacks]
        aucs = [None if a is None else a.auc for a in summaries]
        tprs = [_tpr_value(a, HEADLINE_FPR) for a in summaries]
        # No intervals here: they would double the table's width and height; the main
        # attack's are in the summary table.
        auc_cells = [Cell(decimal(a)) for a in aucs]
        tpr_cells = [_tpr_cell(a, HEADLINE_FPR, intervals=False) for a in summaries]
        columns += [_mark_best(auc_cells, aucs), _mark_best(tpr_cells, tprs)]
    rows = [
        Row(label=attack_name(name), cells=[column[i] for column in columns])
        for i, name in enumerate(attacks)
    ]
    groups = [ColumnGroup(r.label, ["AUC", tpr_heading(HEADLINE_FPR)]) for r in result.regimes]
    return Table(id="attacks-table", corner="Attack", groups=groups, rows=rows)


def privacy_table(result: AuditResult) -> Table | None:
    """One row per regime with a one-run epsilon audit: the accountant's epsilon (DP-SGD
    regimes), the 95% lower bound, and the evidence behind it (attack, correct guesses of
    all guesses, candidates). A lower bound above the accountant's epsilon is flagged: a
    correct DP-SGD run produces one with probability under 5%. None without any audit."""
    regimes = [r for r in result.regimes if r.privacy_audit is not None]
    if not regimes:
        return None
    rows = []
    for regime in regimes:
        audit = regime.privacy_audit
        exceeded = regime.epsilon is not None and audit.epsilon_lower_bound > regime.epsilon
        rows.append(
            Row(
                label=regime.label,
                cells=[
                    Cell(epsilon_text(regime.epsilon) if regime.epsilon is not None else "not DP"),
                    Cell(decimal(audit.epsilon_lower_bound, 2), exceeded=exceeded),
                    Cell(general(audit.delta)),
                    Cell(attack_name(audit.attack)),
                    Cell(f"{audit.v:,} of {audit.r:,}", detail=f"{audit.k_plus:,} IN, {audit.k_minus:,} OUT"),
                    Cell(f"{audit.m:,}"),
                ],
            )
        )
    groups = [
        ColumnGroup("", ["accountant \u03b5"]),
        ColumnGroup(f"one-run audit ({100 * regimes[0].privacy_audit.confidence:g}% confidence)", ["\u03b5 \u2265", "\u03b4"]),
        ColumnGroup("evidence", ["attack", "right guesses", "candidates"]),
    ]
    return Table(id="dp-table", corner="Regime", groups=groups, rows=rows)


def privacy_summary(result: AuditResult) -> list[str]:
    """One sentence per DP-SGD regime: the accountant's epsilon against the one-run lower
    bound, so the reader need not read the table for it."""
    sentences = []
    for regime in result.regimes:
        if regime.epsilon is None or regime.privacy_audit is None:
            continue
        bound = regime.privacy_audit.epsilon_lower_bound
        guarantee = f"{regime.label}: the accountant guarantees \u03b5 \u2264 {epsilon_text(regime.epsilon)}"
        if bound > regime.epsilon:
            relation = "above the guarantee, which a correct DP-SGD run produces with probability under 5%"
        elif bound > regime.epsilon / 2:
            relation = "close to the guarantee"
        elif bound == 0.0:
            relation = "no evidence against any \u03b5: these attacks do not come near what the guarantee allows"
        else:
            relation = "far below the guarantee: these attacks do not come near what it allows"
        sentences.append(
            f"{guarantee}; the one-run audit shows \u03b5 \u2265 {decimal(bound, 2)} with "
            f"{100 * regime.privacy_audit.confidence:g}% confidence, {relation}."
        )
    return sentences


def pooling_note(result: AuditResult) -> str:
    """How many targets and scores each figure pools, for the main attack (one sentence).

    Pooled counts decide whether a TPR at an FPR is resolvable; the per-target minimum says
    whether a single target could have resolved it on its own.
    """
    parts = []
    for regime in result.regimes:
        attack = regime.attacks.get(result.main_attack)
        if attack is None:
            continue
        text = f"{attack.n_members:,} members and {attack.n_non_members:,} non-members"
        if attack.n_targets is not None:
            text = f"{attack.n_targets} target models, {text}"
        if attack.min_non_members_per_target is not None:
            text += f" (at least {attack.min_non_members_per_target:,} non-members per target)"
        parts.append((regime.label, text))
    if not parts:
        return ""
    texts = {text for _, text in parts}
    if len(texts) == 1:
        note = f"Each regime's attack figures pool {texts.pop()}."
    else:
        note = (
            "Attack figures pool, per regime: " + "; ".join(f"{label}: {text}" for label, text in parts) + "."
        )
    per_target = [
        a.min_non_members_per_target
        for r in result.regimes
        if (a := r.attacks.get(result.main_attack)) is not None and a.min_non_members_per_target is not None
    ]
    pooled_only = [
        f for f in FPR_TARGETS if per_target and min(per_target) * f < 1 and _resolved_pooled(result, f)
    ]
    if pooled_only:
        fpr = max(pooled_only)
        note += (
            f" A single target has too few non-members to resolve a {100 * fpr:g}% FPR on its own (it would "
            f"need {round(1 / fpr):,}); the pooled figures resolve it."
        )
    return note


def _resolved_pooled(result: AuditResult, fpr: float) -> bool:
    """Whether the main attack's TPR at ``fpr`` is resolvable (pooled) for every regime."""
    readings = [
        tpr_reading(r.attacks[result.main_attack], fpr)
        for r in result.regimes
        if result.main_attack in r.attacks
    ]
    return bool(readings) and all(reading is not None and reading.resolvable for reading in readings)


def example_rows(
    regime: RegimeResult, *, class_names: dict[int, str], thumbnail: Callable[[list], str]
) -> list[ExampleRow]:
    """Rows for the regime's most vulnerable examples; ``thumbnail`` turns an image into a URI."""
    return [
        ExampleRow(
            index=example.index,
            label=class_names.get(example.label, str(example.label)),
            score=decimal(example.vulnerability, 3),
            image=thumbnail(example.image) if example.image is not None else None,
            features=[general(v) for v in example.features or []],
        )
        for example in regime.vulnerable_examples
    ]


def attack_cells(attack: AttackSummary | None, *, fprs: tuple[float, ...]) -> list[Cell]:
    if attack is None:
        return [Cell(MISSING)] * (1 + len(fprs))
    auc = decimal(attack.auc)
    if len(attack.auc_per_target) > 1:
        # No-break space after the sign: a narrow (printed) column may wrap before it, not after.
        auc = f"{auc} \u00b1\u00a0{decimal(attack.auc_spread)}"
    return [Cell(auc, detail=decimal_interval(attack.auc_ci))] + [_tpr_cell(attack, fpr) for fpr in fprs]


def _tpr_cell(attack: AttackSummary | None, fpr: float, *, intervals: bool = True) -> Cell:
    reading = None if attack is None else tpr_reading(attack, fpr)
    if reading is None:
        return Cell(MISSING)
    return Cell(
        percent(reading.value),
        detail=percent_interval(reading.interval) if intervals else "",
        unresolved=not reading.resolvable,
    )


def _tpr_value(attack: AttackSummary | None, fpr: float) -> float | None:
    reading = None if attack is None else tpr_reading(attack, fpr)
    return None if reading is None else reading.value


def _mark_best(cells: list[Cell], values: list[float | None]) -> list[Cell]:
    """Mark the cells holding the column's largest value (ties: all of them); when fewer than
    two distinct values are known there is nothing to single out."""
    known = [v for v in values if not is_missing(v)]
    if len(set(known)) < 2:
        return cells
    top = max(known)
    return [
        Cell(c.text, c.detail, c.unresolved, best=not is_missing(v) and v == top, exceeded=c.exceeded)
        for c, v in zip(cells, values, strict=True)
    ]


def headline_first() -> tuple[float, ...]:
    """The FPR targets, the headline one first: the verdict's figure stays in view on a
    phone, where the table scrolls."""
    return (HEADLINE_FPR, *(f for f in FPR_TARGETS if f != HEADLINE_FPR))


def tpr_heading(fpr: float) -> str:
    return f"TPR @ {100 * fpr:g}% FPR"
