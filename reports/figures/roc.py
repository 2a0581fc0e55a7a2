"""ROC figures on log-log axes: the main attack across regimes, and every attack per regime,
with the (epsilon, delta)-DP ceiling for DP-SGD regimes."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from attacks.metrics import dp_tpr_bound
from reports.figures.common import (
    CHANCE,
    WIDTH,
    attack_label,
    literal,
    log_floor,
)
from reports.figures.layout import arrange, set_title
from reports.formatting import decimal, epsilon_text, is_missing
from reports.style import regime_styles
from results.records import AuditResult, RegimeResult


def roc_overlay_figure(result: AuditResult) -> Figure | None:
    """ROC curves of the main attack, one per regime, on log-log axes.

    The dotted diagonal is a random guess. For DP-SGD regimes with a recorded delta the
    dashed line in the regime's colour is the (epsilon, delta)-DP bound: no attack can
    rise above it if the accountant is right.
    """
    styles = regime_styles(result)
    curves = [
        (r, r.attacks[result.main_attack])
        for r in result.regimes
        if result.main_attack in r.attacks and r.attacks[result.main_attack].roc.x
    ]
    if not curves:
        return None
    figure = Figure(figsize=(WIDTH, 5.0))
    ax = figure.add_subplot()
    low = log_floor([a.roc.x for _, a in curves])
    for regime, attack in curves:
        colour = styles[regime.label].colour
        ax.plot(
            attack.roc.x,
            attack.roc.y,
            color=colour,
            linewidth=1.6,
            label=f"{literal(regime.label)} (AUC {decimal(attack.auc)})",
        )
        _draw_dp_bound(ax, regime, low=low, colour=colour)
    _finish_roc_axes(ax, low=low)
    set_title(ax, attack_label(result.main_attack), fontsize=10)
    return arrange(figure, legend_columns=2)


def roc_attacks_figure(regime: RegimeResult, *, attacks: list[str], main_attack: str) -> Figure | None:
    """ROC curves of every attack against one regime (log-log), the main attack drawn thicker.

    ``attacks`` fixes the style of each attack across regimes' panels. Attacks of one family
    (the name up to its first hyphen: ``loss`` and ``loss-class``, ``lira-online`` and
    ``lira-offline``) share a colour and differ in line style, so a dozen attacks stay
    distinguishable with ten colours.
    """
    present = [name for name in attacks if name in regime.attacks and regime.attacks[name].roc.x]
    if not present:
        return None
    styles = _attack_styles(attacks)
    figure = Figure(figsize=(WIDTH, 4.4 + 0.12 * max(0, len(present) - 6)))
    ax = figure.add_subplot()
    low = log_floor([regime.attacks[name].roc.x for name in present])
    for name in present:
        roc = regime.attacks[name].roc
        colour, linestyle = styles[name]
        ax.plot(
            roc.x,
            roc.y,
            color=colour,
            linestyle=linestyle,
            label=attack_label(name),
            linewidth=2.2 if name == main_attack else 1.2,
        )
    _draw_dp_bound(ax, regime, low=low, colour="0.2")
    _finish_roc_axes(ax, low=low)
    set_title(ax, literal(regime.label), fontsize=10)
    return arrange(figure, legend_columns=2)


def _attack_styles(attacks: list[str]) -> dict[str, tuple[str, str | tuple]]:
    """(colour, line style) per attack: one colour per family, one line style per member of
    a family, both in order of first appearance. Dotted is kept for the random-guess line."""
    linestyles = ["-", "--", "-.", (0, (5, 1, 1, 1, 1, 1))]
    families: dict[str, list[str]] = defaultdict(list)
    for name in attacks:
        families[name.split("-")[0]].append(name)
    styles = {}
    for number, members in enumerate(families.values()):
        for variant, name in enumerate(members):
            styles[name] = (f"C{number % 10}", linestyles[variant % len(linestyles)])
    return styles


def _draw_dp_bound(ax: Axes, regime: RegimeResult, *, low: float, colour: str | tuple[float, ...]) -> None:
    """The (epsilon, delta)-DP ceiling on TPR, for a DP regime that recorded delta."""
    epsilon, delta = regime.epsilon, regime.params.delta
    if epsilon is None or is_missing(delta):
        return
    fpr = np.logspace(np.log10(low), 0, 200)
    ax.plot(
        fpr,
        dp_tpr_bound(fpr, epsilon=epsilon, delta=delta),
        color=colour,
        linestyle="--",
        linewidth=1.2,
        label=f"DP bound, \u03b5 = {epsilon_text(epsilon)}",
    )


def _finish_roc_axes(ax: Axes, *, low: float) -> None:
    ax.plot([low, 1], [low, 1], **CHANCE, label="random guess")
    ax.set_xscale("log", nonpositive="clip")
    ax.set_yscale("log", nonpositive="clip")
    ax.set_xlim(low, 1)
    ax.set_ylim(low, 1.05)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.grid(alpha=0.3, which="major")
