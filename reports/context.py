"""Everything the report template shows, gathered once from an :class:`AuditResult`.

Figures are drawn here, in parallel, from the figure functions, and leave as PNG data URIs; a section with nothing
to show gets an empty list or None, and the template prints a one-line note instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from reports import figures
from reports.claim_tables import (
    matched_table,
    sweep_table,
    tuning_tables,
    worst_case_table,
)
from reports.datauri import image_to_data_uri, png_to_data_uri
from reports.drawing import Builder, draw_pngs
from reports.formatting import attack_name
from reports.provenance import effective_config, environment_pairs, flatten
from reports.readings import attack_names
from reports.tables import (
    ExampleRow,
    attacks_table,
    example_rows,
    pooling_note,
    privacy_summary,
    privacy_table,
    summary_table,
)
from reports.verdict import verdict
from results.records import AuditResult
from results.serialization import to_json_dict


@dataclass(frozen=True)
class FigureView:
    """An embedded figure: its PNG data URI and the text alternative for screen readers."""

    uri: str
    alt: str


@dataclass(frozen=True)
class SubstitutionGroup:
    """A regime whose architecture DP-SGD had to modify: counts by kind and every line."""

    label: str
    summary: list[str]
    lines: list[str]


@dataclass(frozen=True)
class ExampleGroup:
    """One regime's most vulnerable examples; ``feature_count`` > 0 means tabular rows."""

    label: str
    rows: list[ExampleRow]
    feature_count: int


def report_context(result: AuditResult) -> dict[str, Any]:
    """The template's variables for ``result``."""
    attacks = attack_names(result)
    return {
        "run_name": result.run_name,
        "main_attack": attack_name(result.main_attack),
        "regime_labels": [r.label for r in result.regimes],
        "verdict": verdict(result),
        "ci_percent": _ci_percent(result),
        "summary": summary_table(result),
        "worst_case": worst_case_table(result),
        "matched": matched_table(result),
        "sweep": sweep_table(result),
        "tuning": tuning_tables(result),
        "tuning_space": next((r.dp_tuning for r in result.regimes if r.dp_tuning), None),
        "pooling_note": pooling_note(result),
        "attacks_table": attacks_table(result) if len(attacks) > 1 else None,
        **_figure_views(result, attacks),
        "examples": _example_groups(result),
        "privacy": privacy_table(result),
        "privacy_summary": privacy_summary(result),
        "config": effective_config(result),
        "dataset": flatten(to_json_dict(result.dataset)),
        "architecture": flatten(to_json_dict(result.architecture)) if result.architecture else [],
        "substitutions": [
            SubstitutionGroup(label=r.label, summary=r.substitution_summary, lines=r.substitutions)
            for r in result.regimes
            if r.substitutions
        ],
        "environment": environment_pairs(result),
        "schema_version": result.schema_version,
    }


def _ci_percent(result: AuditResult) -> str:
    """The level of the stored confidence intervals as text ("95%"), "bootstrap" if they differ."""
    levels = {
        a.ci_level for r in result.regimes for a in r.attacks.values() if a.auc_ci or any(t.ci for t in a.tpr_at_fpr)
    }
    return f"{100 * levels.pop():g}%" if len(levels) == 1 else "bootstrap"


def _figure_views(result: AuditResult, attacks: list[str]) -> dict[str, list[FigureView]]:
    """Every figure section, drawn in parallel (:func:`reports.drawing.draw_pngs`); figures
    with nothing to draw (None) are left out."""
    sections: dict[str, list[tuple[Builder, str]]] = {
        "frontier": [
            (
                lambda: figures.frontier_figure(result, x="tpr"),
                "Test accuracy against TPR at 1% FPR, one marker per regime",
            ),
            (
                lambda: figures.frontier_figure(result, x="auc"),
                "Test accuracy against attack AUC, one marker per regime",
            ),
            (
                lambda: figures.frontier_figure(result, x="canary_tpr"),
                "Test accuracy against TPR at 1% FPR on the canaries, one marker per regime",
            ),
        ],
        "roc_main": [(lambda: figures.roc_overlay_figure(result), "ROC curves of the main attack for every regime")],
        "roc_attacks": [
            (
                functools.partial(figures.roc_attacks_figure, r, attacks=attacks, main_attack=result.main_attack),
                f"ROC curves of every attack, {r.label}",
            )
            for r in result.regimes
        ],
        "distributions": [
            (functools.partial(figures.histogram_figure, r), f"Member and non-member distributions, {r.label}")
            for r in result.regimes
        ],
        "training_loss": [
            (lambda: figures.training_loss_figure(result), "Training loss per epoch for each regime")
        ],
        "snapshots": [(lambda: figures.snapshot_figure(result), "Attack AUC against training loss during training")],
        "relation": [
            (lambda: figures.relation_figure(result, x="train_loss"), "Attack AUC against final training loss"),
            (
                lambda: figures.relation_figure(result, x="member_confidence"),
                "Attack AUC against mean member confidence",
            ),
        ],
        "per_class": [(lambda: figures.per_class_figure(result), "Attack AUC per class and regime")],
    }
    plan = [(name, alt) for name, entries in sections.items() for _, alt in entries]
    pngs = draw_pngs([builder for entries in sections.values() for builder, _ in entries])
    views: dict[str, list[FigureView]] = {name: [] for name in sections}
    for (name, alt), png in zip(plan, pngs, strict=True):
        if png is not None:
            views[name].append(FigureView(uri=png_to_data_uri(png), alt=alt))
    return views


def _example_groups(result: AuditResult) -> list[ExampleGroup]:
    class_names = {c.label: c.name for r in result.regimes for c in r.per_class}
    groups = []
    for regime in result.regimes:
        rows = example_rows(regime, class_names=class_names, thumbnail=image_to_data_uri)
        if rows:
            groups.append(
                ExampleGroup(
                    label=regime.label, rows=rows, feature_count=max(len(row.features) for row in rows)
                )
            )
    return groups
