"""Figures of per-example distributions: member and non-member histograms, and the attack
per class."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure

from reports.figures.common import (
    CHANCE,
    MAX_CLASSES,
    MEMBER_COLOUR,
    NON_MEMBER_COLOUR,
    WIDTH,
    attack_label,
    literal,
)
from reports.figures.layout import arrange, set_title
from reports.formatting import is_missing
from reports.style import regime_styles
from results.records import AuditResult, RegimeResult


def histogram_figure(regime: RegimeResult) -> Figure | None:
    """Members' and non-members' distributions of each recorded quantity (confidence, loss).

    Bars show the fraction of each group per bin, so groups of different sizes compare; the
    further apart the two shapes, the easier membership is to infer.
    """
    if not regime.histograms:
        return None
    figure = Figure(figsize=(WIDTH, 2.2 * len(regime.histograms) + 0.4))
    axes = figure.subplots(len(regime.histograms), 1, squeeze=False)[:, 0]
    for ax, histogram in zip(axes, regime.histograms, strict=True):
        edges = np.asarray(histogram.edges, dtype=float)
        label = histogram.quantity
        log_axis = _log_binned(edges)
        if log_axis and edges[0] <= 0:
            # The first bin runs from 0 and holds every value below edges[1]; on a log axis
            # it is drawn one bin-ratio wide, and the axis label says what it holds.
            label += f" (leftmost bar: all below {edges[1]:.2g})"
            edges = np.concatenate([[edges[1] ** 2 / edges[2]], edges[1:]])
        for counts, colour, group, fill in (
            (histogram.non_members, NON_MEMBER_COLOUR, "non-members", True),
            (histogram.members, MEMBER_COLOUR, "members", False),
        ):
            counts = np.asarray(counts, dtype=float)
            fraction = counts / counts.sum() if counts.sum() > 0 else counts
            ax.stairs(
                fraction,
                edges,
                color=colour,
                fill=fill,
                alpha=0.35 if fill else 1.0,
                linewidth=1.6,
                label=group,
            )
        if log_axis:
            ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("fraction")
    set_title(axes[0], literal(regime.label), fontsize=10)
    axes[0].legend(fontsize=8, frameon=False)
    return arrange(figure)


def per_class_figure(result: AuditResult) -> Figure | None:
    """Main-attack AUC restricted to each class, one bar per regime in each class group.

    With more than 20 classes only the 20 with the highest AUC in any regime are shown.
    """
    regimes = [r for r in result.regimes if r.per_class]
    if not regimes:
        return None
    styles = regime_styles(result)
    names: dict[int, str] = {}
    best: dict[int, float] = defaultdict(float)
    for regime in regimes:
        for entry in regime.per_class:
            names.setdefault(entry.label, entry.name)
            if not is_missing(entry.auc):
                best[entry.label] = max(best[entry.label], entry.auc)
    labels = sorted(names)
    truncated = len(labels) > MAX_CLASSES
    if truncated:
        labels = sorted(sorted(labels, key=lambda label: -best[label])[:MAX_CLASSES])
    figure = Figure(figsize=(WIDTH * 1.25, 4.2))
    ax = figure.add_subplot()
    width = 0.8 / len(regimes)
    positions = np.arange(len(labels))
    for i, regime in enumerate(regimes):
        auc = {e.label: e.auc for e in regime.per_class}
        values = [np.nan if is_missing(auc.get(label)) else auc[label] for label in labels]
        ax.bar(
            positions + (i - (len(regimes) - 1) / 2) * width,
            values,
            width,
            color=styles[regime.label].colour,
            label=literal(regime.label),
        )
    ax.axhline(0.5, **CHANCE)
    ax.set_xticks(
        positions,
        [literal(names[label]) for label in labels],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
        fontsize=9,
    )
    low = min((e.auc for r in regimes for e in r.per_class if not is_missing(e.auc)), default=0.5)
    ax.set_ylim(min(0.45, low - 0.02), None)
    ax.set_ylabel(f"AUC, {attack_label(result.main_attack)}")
    if truncated:
        set_title(ax, f"the {MAX_CLASSES} most vulnerable of {len(names)} classes", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    return arrange(figure, legend_columns=3)


def _log_binned(edges: np.ndarray) -> bool:
    """Whether histogram bins are log-spaced (so a log axis shows them evenly): the positive
    edges span more than a factor 100 and the last bin is much wider than the first."""
    positive = edges[edges > 0]
    if len(positive) < 3 or positive[-1] / positive[0] <= 100:
        return False
    widths = np.diff(positive)
    return bool(widths[-1] > 10 * widths[0])
