"""The report's tables as plain rows of formatted strings, ready for the template to lay out.

Values are read from the result objects and formatted here; the template only places them,
and escapes them (run names, paths and config values are user text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audit.results import AttackSummary, AuditResult, RegimeResult
from reports.formatting import (
    MISSING,
    attack_name,
    decimal,
    decimal_interval,
    general,
    is_missing,
    percent,
    percent_interval,
)
from reports.readings import attack_names, tpr_reading

_TPR_FPRS = (0.001, 0.01)


@dataclass(frozen=True)
class Cell:
    """One table cell: main text, an optional second line (an interval) and an unresolved flag."""

    text: str
    detail: str = ""
    unresolved: bool = False


@dataclass(frozen=True)
class SummaryRow:
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class SummaryTable:
    """One row per regime: training figures, then AUC and TPR at 0.1% / 1% FPR per attack, then ε."""

    attacks: list[str]
    rows: list[SummaryRow]
    any_unresolved: bool


@dataclass(frozen=True)
class PrivacyRow:
    label: str
    accountant: str
    delta: str
    bounds: list[str]
    exceeded: bool


@dataclass(frozen=True)
class ExampleRow:
    """A most-vulnerable example: thumbnail URI for images, feature strings for tabular data."""

    index: int
    label: str
    score: str
    image: str | None = None
    features: list[str] = field(default_factory=list)


def summary_table(result: AuditResult) -> SummaryTable:
    attacks = attack_names(result)
    rows = []
    for regime in result.regimes:
        cells = [
            Cell(percent(regime.mean("train_accuracy"))),
            Cell(percent(regime.mean("test_accuracy"))),
            Cell(decimal(regime.mean("train_loss"), 4)),
            Cell(percent(regime.mean("member_confidence"))),
            Cell(percent(regime.mean("non_member_confidence"))),
        ]
        for name in attacks:
            cells.extend(_attack_cells(regime.attacks.get(name)))
        cells.append(Cell(general(regime.epsilon) if regime.epsilon is not None else MISSING))
        rows.append(SummaryRow(label=regime.label, cells=cells))
    return SummaryTable(
        attacks=[attack_name(name) for name in attacks],
        rows=rows,
        any_unresolved=any(cell.unresolved for row in rows for cell in row.cells),
    )


def privacy_table(result: AuditResult) -> tuple[list[str], list[PrivacyRow]]:
    """Accountant epsilon against each attack's empirical lower bound, per regime that has either.

    A lower bound above the accountant's epsilon is flagged: a correct DP-SGD run cannot
    produce one, so it points at a bug in training, accounting or the attack.
    """
    attacks = attack_names(result)
    rows = []
    for regime in result.regimes:
        bounds = [_bound(regime.attacks.get(name)) for name in attacks]
        if regime.epsilon is None and all(is_missing(b) for b in bounds):
            continue
        exceeded = regime.epsilon is not None and any(
            not is_missing(b) and b > regime.epsilon for b in bounds
        )
        rows.append(
            PrivacyRow(
                label=regime.label,
                accountant=general(regime.epsilon) if regime.epsilon is not None else "not DP",
                delta=general(regime.params["delta"]) if "delta" in regime.params else MISSING,
                bounds=[decimal(b, 2) for b in bounds],
                exceeded=exceeded,
            )
        )
    return [attack_name(name) for name in attacks], rows


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


def flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as ``(dotted.key, text)`` pairs, in the mapping's own order."""
    pairs = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            pairs.extend(flatten(value, prefix=f"{name}."))
        else:
            pairs.append((name, _setting_text(value)))
    return pairs


def _attack_cells(attack: AttackSummary | None) -> list[Cell]:
    if attack is None:
        return [Cell(MISSING)] * (1 + len(_TPR_FPRS))
    auc = decimal(attack.auc)
    if len(attack.auc_per_target) > 1:
        # No-break space after the sign: a narrow (printed) column may wrap before it, not after.
        auc = f"{auc} \u00b1\u00a0{decimal(attack.auc_spread)}"
    cells = [Cell(auc, detail=decimal_interval(attack.auc_ci))]
    for fpr in _TPR_FPRS:
        reading = tpr_reading(attack, fpr)
        if reading is None:
            cells.append(Cell(MISSING))
        else:
            cells.append(
                Cell(
                    percent(reading.value),
                    detail=percent_interval(reading.interval),
                    unresolved=not reading.resolvable,
                )
            )
    return cells


def _bound(attack: AttackSummary | None) -> float | None:
    return None if attack is None else attack.epsilon_lower_bound


def _setting_text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return general(value)
    return json.dumps(value, ensure_ascii=False)
