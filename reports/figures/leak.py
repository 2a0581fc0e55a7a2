"""Figures of leak against utility and training: the privacy-utility frontier and the relation
of attack AUC to training loss and member confidence."""

from __future__ import annotations

from collections import defaultdict

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from reports.figures.common import (
    CHANCE,
    WIDTH,
    attack_label,
    literal,
)
from reports.figures.layout import arrange
from reports.formatting import is_missing
from reports.readings import auc_reading, tpr_reading
from reports.style import regime_styles, strength
from results.records import AuditResult
from results.vocabulary import HEADLINE_FPR, RegimeKind


def frontier_figure(result: AuditResult, *, x: str) -> Figure | None:
    """Privacy-utility frontier: mean test accuracy (y) against the main attack's leak (x).

    ``x`` is ``"tpr"`` (TPR at 1% FPR), ``"auc"``, or ``"canary_tpr"`` (TPR at 1% FPR on the
    canaries: the worst case; None without canaries). One marker per regime. Each kind of
    defence is a curve that starts at the standard regime (flood level 0, epsilon infinite)
    and runs through its regimes in order of strength: flood levels joined by one line,
    iFlood levels by another, DP-SGD epsilons by a third (one per iFlood level combined with
    DP-SGD). Hollow markers: TPR not resolvable. Horizontal bars: the stored confidence
    interval.
    """
    if x not in ("tpr", "auc", "canary_tpr"):
        raise ValueError(f"x must be 'tpr', 'auc' or 'canary_tpr', got {x!r}")
    styles = regime_styles(result)
    points = []
    for regime in result.regimes:
        attack = (regime.canary_attacks if x == "canary_tpr" else regime.attacks).get(result.main_attack)
        if attack is None:
            continue
        reading = auc_reading(attack) if x == "auc" else tpr_reading(attack, HEADLINE_FPR)
        accuracy = regime.mean("test_accuracy")
        if reading is None or is_missing(reading.value) or is_missing(accuracy):
            continue
        points.append((regime, reading, accuracy))
    if not points:
        return None

    figure = Figure(figsize=(WIDTH, 4.8))
    ax = figure.add_subplot()
    baseline = [p for p in points if p[0].regime == RegimeKind.STANDARD][:1]
    curves: dict[tuple[str, float | None], list] = defaultdict(list)
    for point in points:
        regime = point[0]
        if regime.regime in (RegimeKind.FLOOD, RegimeKind.IFLOOD):
            curves[(regime.regime, None)].append(point)
        elif regime.regime == RegimeKind.DP:
            curves[(RegimeKind.DP, regime.flood_level)].append(point)
    for curve in curves.values():
        curve = baseline + sorted(curve, key=lambda p: strength(p[0]))
        if len(curve) > 1:
            colour = styles[curve[-1][0].label].colour
            ax.plot(
                [p[1].value for p in curve],
                [p[2] for p in curve],
                color=colour,
                linewidth=1.2,
                alpha=0.8,
                zorder=1,
            )
    any_unresolved = False
    for regime, reading, accuracy in points:
        style = styles[regime.label]
        if reading.interval:
            low, high = reading.interval
            ax.errorbar(
                reading.value,
                accuracy,
                xerr=[[max(reading.value - low, 0)], [max(high - reading.value, 0)]],
                color=style.colour,
                linewidth=1,
                capsize=2,
                zorder=2,
            )
        any_unresolved |= not reading.resolvable
        ax.scatter(
            reading.value,
            accuracy,
            s=50,
            marker=style.marker,
            zorder=3,
            linewidths=1.5,
            facecolors=style.colour if reading.resolvable else "none",
            edgecolors=style.colour,
            label=literal(regime.label),
        )
    name = attack_label(result.main_attack)
    if x in ("tpr", "canary_tpr"):
        ax.axvline(HEADLINE_FPR, **CHANCE, label="guessing")
        ax.set_xlabel(f"TPR at 1% FPR{' on the canaries' if x == 'canary_tpr' else ''}, {name}")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    else:
        ax.axvline(0.5, **CHANCE, label="guessing")
        ax.set_xlabel(f"AUC, {name}")
    ax.set_ylabel("test accuracy (mean over pool)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.margins(x=0.1, y=0.1)
    ax.grid(alpha=0.3)
    if any_unresolved:
        ax.scatter(
            [], [], marker="o", facecolors="none", edgecolors="0.3", label="hollow: TPR not resolvable"
        )
    return arrange(figure, legend_columns=2)


def relation_figure(result: AuditResult, *, x: str) -> Figure | None:
    """The central claim measured: does a model's final training loss (or its mean confidence
    on members) predict how well the main attack finds its members?

    ``x`` is ``"train_loss"`` (log axis) or ``"member_confidence"``. Small translucent points:
    one per target model (its own AUC); large labelled marker: the regime's mean against its
    pooled AUC.
    """
    if x not in ("train_loss", "member_confidence"):
        raise ValueError(f"x must be 'train_loss' or 'member_confidence', got {x!r}")
    styles = regime_styles(result)
    figure = Figure(figsize=(WIDTH, 4.0))
    ax = figure.add_subplot()
    drawn = False
    for regime in result.regimes:
        attack = regime.attacks.get(result.main_attack)
        mean_x = regime.mean(x)
        if attack is None or is_missing(attack.auc) or is_missing(mean_x):
            continue
        style = styles[regime.label]
        # auc_per_target follows the order of models; a length mismatch would pair the wrong
        # model with the wrong AUC, so then only the regime mean is drawn.
        if len(attack.auc_per_target) == len(regime.models):
            pairs = [
                (getattr(m, x), a)
                for m, a in zip(regime.models, attack.auc_per_target, strict=True)
                if not is_missing(getattr(m, x)) and not is_missing(a)
            ]
            if pairs:
                xs, ys = zip(*pairs, strict=True)
                ax.scatter(xs, ys, color=style.colour, marker=style.marker, s=16, alpha=0.45, linewidths=0)
        ax.scatter(
            mean_x,
            attack.auc,
            color=style.colour,
            marker=style.marker,
            s=70,
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
            label=literal(regime.label),
        )
        drawn = True
    if not drawn:
        return None
    ax.axhline(0.5, **CHANCE)
    if x == "train_loss":
        ax.set_xscale("log")
        ax.set_xlabel("final training loss (eval mode, after the last epoch)")
    else:
        ax.set_xlabel("mean confidence on members")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # "95.0%100.0%" collided at 6 ticks
    ax.set_ylabel(f"AUC, {attack_label(result.main_attack)}")
    ax.margins(x=0.1, y=0.1)
    ax.grid(alpha=0.3)
    return arrange(figure, legend_columns=3)
