"""Figures of training: loss per epoch with the flood level marked, and attack AUC along
training (snapshots)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.figure import Figure

from reports.figures.common import (
    CHANCE,
    WIDTH,
    attack_label,
    literal,
)
from reports.figures.layout import arrange
from reports.formatting import is_missing
from reports.style import regime_styles
from results.records import AuditResult


def training_loss_figure(result: AuditResult) -> Figure | None:
    """Mini-batch training loss per epoch: mean over each pool's models, band from min to max.

    Log scale, because the quantity that matters is how close to zero the loss gets; the
    dashed line in a regime's colour is its flood level, where the loss should settle.
    """
    styles = regime_styles(result)
    figure = Figure(figsize=(WIDTH, 4.6))
    ax = figure.add_subplot()
    drawn = False
    for regime in result.regimes:
        by_epoch: dict[int, list[float]] = defaultdict(list)
        for model in regime.models:
            for record in model.history:
                if not is_missing(record.train_loss):
                    by_epoch[record.epoch].append(record.train_loss)
        if not by_epoch:
            continue
        epochs = sorted(by_epoch)
        losses = [by_epoch[e] for e in epochs]
        colour = styles[regime.label].colour
        ax.fill_between(
            epochs, [min(v) for v in losses], [max(v) for v in losses], color=colour, alpha=0.2, linewidth=0
        )
        ax.plot(
            epochs,
            [float(np.mean(v)) for v in losses],
            color=colour,
            linewidth=1.6,
            label=literal(regime.label),
        )
        if regime.flood_level:
            ax.axhline(regime.flood_level, color=colour, linestyle="--", linewidth=1)
        drawn = True
    if not drawn:
        return None
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mini-batch training loss\n(running mean over the epoch, training mode)")
    ax.grid(alpha=0.3)
    return arrange(figure, legend_columns=3)


def snapshot_figure(result: AuditResult) -> Figure | None:
    """Attack AUC against mean training loss as training went on, one curve per regime.

    Read right to left: training lowers the loss, and the curve shows how the leak grew with
    it. The final epoch carries the larger marker.
    """
    attack = _snapshot_attack(result)
    if attack is None:
        return None
    styles = regime_styles(result)
    figure = Figure(figsize=(WIDTH, 4.6))
    ax = figure.add_subplot()
    for regime in result.regimes:
        snapshots = sorted((s for s in regime.snapshots if s.attack == attack), key=lambda s: s.epoch)
        snapshots = [s for s in snapshots if not is_missing(s.train_loss) and not is_missing(s.auc)]
        if not snapshots:
            continue
        style = styles[regime.label]
        losses, aucs = [s.train_loss for s in snapshots], [s.auc for s in snapshots]
        ax.plot(
            losses,
            aucs,
            color=style.colour,
            marker=style.marker,
            markersize=4,
            linewidth=1.4,
            label=literal(regime.label),
        )
        ax.scatter(losses[-1:], aucs[-1:], color=style.colour, marker=style.marker, s=70, zorder=3)
    ax.axhline(0.5, **CHANCE)
    ax.set_xscale("log")
    ax.set_xlabel("training loss at snapshot (eval mode, mean over the pool)")
    ax.set_ylabel(f"AUC, {attack_label(attack)}")
    ax.grid(alpha=0.3)
    return arrange(figure, legend_columns=3)


def _snapshot_attack(result: AuditResult) -> str | None:
    """The attack whose snapshots to plot: the main attack if recorded, else the most frequent."""
    counts: dict[str, int] = defaultdict(int)
    for regime in result.regimes:
        for snapshot in regime.snapshots:
            counts[snapshot.attack] += 1
    if not counts:
        return None
    return result.main_attack if result.main_attack in counts else max(counts, key=counts.get)
