"""The report's figures, each drawn from result objects and returned as a matplotlib Figure.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through pyplot, so no
global figure registry or interactive backend is involved. Each function returns None when
the result holds nothing for it to draw; the report then prints a one-line note instead.

Figures are about 4 inches wide: on a desktop two sit side by side, on a phone each fills the
screen, and matplotlib's default 10 pt text stays legible in both. Regimes are told apart
by legends below the axes rather than labels beside the points, which collide when two
regimes land close together.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from attacks.metrics import dp_tpr_bound
from results.records import AuditResult, RegimeResult
from results.vocabulary import HEADLINE_FPR, RegimeKind
from reports.formatting import attack_name, decimal, epsilon_text, is_missing
from reports.readings import auc_reading, tpr_reading
from reports.style import regime_styles, strength

_WIDTH = 3.8  # inches
_MEMBER_COLOUR = "#c2410c"
_NON_MEMBER_COLOUR = "#0f766e"
_CHANCE = dict(color="0.55", linestyle=":", linewidth=1)
_MAX_CLASSES = 20  # more bars than this per regime cannot be read at phone width


def frontier_figure(result: AuditResult, *, x: str) -> Figure | None:
    """Privacy-utility frontier: mean test accuracy (y) against the main attack's leak (x).

    ``x`` is ``"tpr"`` (TPR at 1% FPR) or ``"auc"``. One marker per regime. Each kind of
    defence is a curve that starts at the standard regime (flood level 0, epsilon infinite)
    and runs through its regimes in order of strength: flood levels joined by one line,
    iFlood levels by another, DP-SGD epsilons by a third (one per iFlood level combined with
    DP-SGD). Hollow markers: TPR not resolvable. Horizontal bars: the stored confidence
    interval.
    """
    if x not in ("tpr", "auc"):
        raise ValueError(f"x must be 'tpr' or 'auc', got {x!r}")
    styles = regime_styles(result)
    points = []
    for regime in result.regimes:
        attack = regime.attacks.get(result.main_attack)
        if attack is None:
            continue
        reading = auc_reading(attack) if x == "auc" else tpr_reading(attack, HEADLINE_FPR)
        accuracy = regime.mean("test_accuracy")
        if reading is None or is_missing(reading.value) or is_missing(accuracy):
            continue
        points.append((regime, reading, accuracy))
    if not points:
        return None

    figure = Figure(figsize=(_WIDTH, 4.8), layout="constrained")
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
            label=_text(regime.label),
        )
    name = _text_attack(result.main_attack)
    if x == "tpr":
        ax.axvline(HEADLINE_FPR, **_CHANCE, label="guessing")
        ax.set_xlabel(f"TPR at 1% FPR, {name}")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    else:
        ax.axvline(0.5, **_CHANCE, label="guessing")
        ax.set_xlabel(f"AUC, {name}")
    ax.set_ylabel("test accuracy (mean over pool)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.margins(x=0.1, y=0.1)
    ax.grid(alpha=0.3)
    if any_unresolved:
        ax.scatter(
            [], [], marker="o", facecolors="none", edgecolors="0.3", label="hollow: TPR not resolvable"
        )
    _legend_below(figure, ncols=2)
    return figure


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
    figure = Figure(figsize=(_WIDTH, 5.0), layout="constrained")
    ax = figure.add_subplot()
    low = _log_floor([a.roc.x for _, a in curves])
    for regime, attack in curves:
        colour = styles[regime.label].colour
        ax.plot(
            attack.roc.x,
            attack.roc.y,
            color=colour,
            linewidth=1.6,
            label=f"{_text(regime.label)} (AUC {decimal(attack.auc)})",
        )
        _draw_dp_bound(ax, regime, low=low, colour=colour)
    _finish_roc_axes(ax, low=low)
    ax.set_title(_text_attack(result.main_attack), fontsize=10)
    _legend_below(figure, ncols=2)
    return figure


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
    figure = Figure(figsize=(_WIDTH, 4.4 + 0.12 * max(0, len(present) - 6)), layout="constrained")
    ax = figure.add_subplot()
    low = _log_floor([regime.attacks[name].roc.x for name in present])
    for name in present:
        roc = regime.attacks[name].roc
        colour, linestyle = styles[name]
        ax.plot(
            roc.x,
            roc.y,
            color=colour,
            linestyle=linestyle,
            label=_text_attack(name),
            linewidth=2.2 if name == main_attack else 1.2,
        )
    _draw_dp_bound(ax, regime, low=low, colour="0.2")
    _finish_roc_axes(ax, low=low)
    ax.set_title(_text(regime.label), fontsize=10)
    _legend_below(figure, ncols=2)
    return figure


def histogram_figure(regime: RegimeResult) -> Figure | None:
    """Members' and non-members' distributions of each recorded quantity (confidence, loss).

    Bars show the fraction of each group per bin, so groups of different sizes compare; the
    further apart the two shapes, the easier membership is to infer.
    """
    if not regime.histograms:
        return None
    figure = Figure(figsize=(_WIDTH, 2.2 * len(regime.histograms) + 0.4), layout="constrained")
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
            (histogram.non_members, _NON_MEMBER_COLOUR, "non-members", True),
            (histogram.members, _MEMBER_COLOUR, "members", False),
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
    axes[0].set_title(_text(regime.label), fontsize=10)
    axes[0].legend(fontsize=8, frameon=False)
    return figure


def training_loss_figure(result: AuditResult) -> Figure | None:
    """Mini-batch training loss per epoch: mean over each pool's models, band from min to max.

    Log scale, because the quantity that matters is how close to zero the loss gets; the
    dashed line in a regime's colour is its flood level, where the loss should settle.
    """
    styles = regime_styles(result)
    figure = Figure(figsize=(_WIDTH, 4.6), layout="constrained")
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
            label=_text(regime.label),
        )
        if regime.flood_level:
            ax.axhline(regime.flood_level, color=colour, linestyle="--", linewidth=1)
        drawn = True
    if not drawn:
        return None
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.grid(alpha=0.3)
    _legend_below(figure, ncols=3)
    return figure


def snapshot_figure(result: AuditResult) -> Figure | None:
    """Attack AUC against mean training loss as training went on, one curve per regime.

    Read right to left: training lowers the loss, and the curve shows how the leak grew with
    it. The final epoch carries the larger marker.
    """
    attack = _snapshot_attack(result)
    if attack is None:
        return None
    styles = regime_styles(result)
    figure = Figure(figsize=(_WIDTH, 4.6), layout="constrained")
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
            label=_text(regime.label),
        )
        ax.scatter(losses[-1:], aucs[-1:], color=style.colour, marker=style.marker, s=70, zorder=3)
    ax.axhline(0.5, **_CHANCE)
    ax.set_xscale("log")
    ax.set_xlabel("mean loss on the training half at snapshot")
    ax.set_ylabel(f"AUC, {_text_attack(attack)}")
    ax.grid(alpha=0.3)
    _legend_below(figure, ncols=3)
    return figure


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
    figure = Figure(figsize=(_WIDTH, 4.0), layout="constrained")
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
            label=_text(regime.label),
        )
        drawn = True
    if not drawn:
        return None
    ax.axhline(0.5, **_CHANCE)
    if x == "train_loss":
        ax.set_xscale("log")
        ax.set_xlabel("final training loss")
    else:
        ax.set_xlabel("mean confidence on members")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # "95.0%100.0%" collided at 6 ticks
    ax.set_ylabel(f"AUC, {_text_attack(result.main_attack)}")
    ax.margins(x=0.1, y=0.1)
    ax.grid(alpha=0.3)
    _legend_below(figure, ncols=3)
    return figure


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
    truncated = len(labels) > _MAX_CLASSES
    if truncated:
        labels = sorted(sorted(labels, key=lambda label: -best[label])[:_MAX_CLASSES])
    figure = Figure(figsize=(_WIDTH * 1.25, 4.2), layout="constrained")
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
            label=_text(regime.label),
        )
    ax.axhline(0.5, **_CHANCE)
    ax.set_xticks(
        positions,
        [_text(names[label]) for label in labels],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
        fontsize=9,
    )
    low = min((e.auc for r in regimes for e in r.per_class if not is_missing(e.auc)), default=0.5)
    ax.set_ylim(min(0.45, low - 0.02), None)
    ax.set_ylabel(f"AUC, {_text_attack(result.main_attack)}")
    if truncated:
        ax.set_title(f"the {_MAX_CLASSES} most vulnerable of {len(names)} classes", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    _legend_below(figure, ncols=3)
    return figure


def _text(text: str) -> str:
    """User text (regime labels, class names) drawn literally: matplotlib would read $...$ as math."""
    return text.replace("$", r"\$")


def _text_attack(attack: str) -> str:
    return _text(attack_name(attack))


def _legend_below(figure: Figure, *, ncols: int) -> None:
    """A legend under the axes; one column when labels are long (regime labels are user text)."""
    labels = [label for ax in figure.axes for label in ax.get_legend_handles_labels()[1]]
    if max((len(label) for label in labels), default=0) > 24:
        ncols = 1
    figure.legend(loc="outside lower center", ncols=ncols, fontsize=8, frameon=False)


def _log_binned(edges: np.ndarray) -> bool:
    """Whether histogram bins are log-spaced (so a log axis shows them evenly): the positive
    edges span more than a factor 100 and the last bin is much wider than the first."""
    positive = edges[edges > 0]
    if len(positive) < 3 or positive[-1] / positive[0] <= 100:
        return False
    widths = np.diff(positive)
    return bool(widths[-1] > 10 * widths[0])


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


def _snapshot_attack(result: AuditResult) -> str | None:
    """The attack whose snapshots to plot: the main attack if recorded, else the most frequent."""
    counts: dict[str, int] = defaultdict(int)
    for regime in result.regimes:
        for snapshot in regime.snapshots:
            counts[snapshot.attack] += 1
    if not counts:
        return None
    return result.main_attack if result.main_attack in counts else max(counts, key=counts.get)


def _log_floor(fpr_curves: list[list[float]]) -> float:
    """Lower limit of log ROC axes: the smallest positive FPR drawn, but not below 1e-5."""
    positive = [v for curve in fpr_curves for v in curve if v is not None and v > 0]
    return max(min(positive, default=1e-3), 1e-5)


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
    ax.plot([low, 1], [low, 1], **_CHANCE, label="random guess")
    ax.set_xscale("log", nonpositive="clip")
    ax.set_yscale("log", nonpositive="clip")
    ax.set_xlim(low, 1)
    ax.set_ylim(low, 1.05)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.grid(alpha=0.3, which="major")
