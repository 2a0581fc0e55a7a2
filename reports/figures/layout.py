"""Figure margins computed from what a figure holds, instead of matplotlib's constrained layout.

Constrained layout finds room for labels by laying out every tick label before the figure is
drawn, and drawing lays them out again: most of a report figure's cost (in the first
release's profile, 8.8 s of 12 s of report rendering). The report's figures are regular: one
column of axes, each with or without a title, a y label of one or two lines, tick labels whose
text the axis' own locator and formatter give without drawing anything, and a legend under the
axes (:mod:`reports.figures.legend`). Their margins follow from the font's text extents alone.
``tests/reports/test_figure_layout.py`` draws every figure and checks that no text leaves the
picture and no two labels overlap.

Log axes get their ticks here too: decades labelled as plain text ("10⁻³", no mathtext to
parse) when the axis spans more than 1.5 decades, else 1-2-5 steps labelled as decimals, so a
narrow log axis never shows a single label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, Locator, LogLocator, NullLocator

from reports.figures.legend import place_legend
from reports.figures.text_extent import POINTS, text_extent

PAD = 0.06  # inches kept clear at the figure's edges
LABEL_GAP = 4 / POINTS  # between tick labels and an axis label (matplotlib's labelpad)
TITLE_GAP = 6 / POINTS  # between a title and its axes (axes.titlepad)
TICK_SPACE = 7 / POINTS  # tick length (3.5 pt) + tick label pad (3.5 pt)
PANEL_GAP = 0.08  # between the decorations of two stacked axes
LEGEND_FONT_SIZE = 8  # points
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def arrange(figure: Figure, *, legend_columns: int = 0) -> Figure:
    """Place ``figure``'s axes (one column, in creation order) with room for every label, and
    with ``legend_columns`` > 0 a legend of every axes' labelled artists centred under them
    (fewer columns when the labels would not fit side by side). Returns ``figure``."""
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                _log_ticks(axis)
            locator = axis.get_major_locator()
            if not isinstance(locator, (FixedLocator, NullLocator, _InView)):
                axis.set_major_locator(_InView(locator))
    legend_height = 0.0
    if legend_columns:
        legend = place_legend(figure, columns=legend_columns, bottom=PAD, margin=PAD, font_size=LEGEND_FONT_SIZE)
        legend_height = legend + PANEL_GAP if legend else 0.0
    # Twice: how many ticks a locator picks depends on the axis' length, which the first pass
    # sets; the second measures the tick labels the figure will draw.
    for _ in range(2):
        _place(figure, legend_height=legend_height)
    return figure


def set_title(ax: Axes, text: str, *, fontsize: float) -> None:
    """``ax``'s title, just above it. The explicit ``y`` turns off matplotlib's automatic
    title placement, which measured the x axis' tick labels at every draw to see whether they
    reach above the axes (here they never do; :func:`arrange` leaves the title its room):
    about a tenth of a report figure's drawing, for identical pixels."""
    ax.set_title(text, fontsize=fontsize, y=1.0)


def _place(figure: Figure, *, legend_height: float) -> None:
    width, height = figure.get_size_inches()
    axes = figure.axes
    # Each axis' tick labels measured once, before any axes moves (locators and formatters
    # run again only to pin the axis labels where the axes end up).
    x_ticks, y_ticks = [_tick_labels(ax.xaxis) for ax in axes], [_tick_labels(ax.yaxis) for ax in axes]
    left = PAD + max(max(_left_decoration(ax, y), _left_overhang(x)) for ax, x, y in zip(axes, x_ticks, y_ticks))
    right = PAD + max(_right_overhang(x) for x in x_ticks)
    for ax in axes:
        _wrap(ax.xaxis.label, width=width - left - right)
        _wrap(ax.title, width=width - left - right)
    above = [_above(ax) for ax in axes]
    below = [_below(ax, x) for ax, x in zip(axes, x_ticks)]
    top = PAD + above[0]
    bottom = PAD + legend_height + below[-1]
    gaps = sum(below[i] + above[i + 1] + PANEL_GAP for i in range(len(axes) - 1))
    panel = (height - top - bottom - gaps) / len(axes)
    if panel <= 0.5 or width - left - right <= 0.5:
        raise ValueError(f"a {width:g} x {height:g} inch figure has no room for its axes; make it larger")
    y = height - top
    for i, ax in enumerate(axes):
        _wrap(ax.yaxis.label, width=panel)  # the y label runs along the axes' height
        y -= panel
        ax.set_position([left / width, y / height, (width - left - right) / width, panel / height])
        _pin_axis_labels(ax, width=width - left - right, height=panel)
        if i + 1 < len(axes):
            y -= below[i] + above[i + 1] + PANEL_GAP


def _pin_axis_labels(ax: Axes, *, width: float, height: float) -> None:
    """The axis labels of ``ax`` (``width`` x ``height`` inches) just beyond its tick labels,
    where :func:`_place` left them room. Placed by hand, they spare matplotlib measuring every
    tick label again at each draw to place them."""
    ax.xaxis.set_label_coords(0.5, -(_tick_extent(_tick_labels(ax.xaxis), along="x") + LABEL_GAP) / height)
    ax.yaxis.set_label_coords(-(_tick_extent(_tick_labels(ax.yaxis), along="y") + LABEL_GAP) / width, 0.5)


class _InView(Locator):
    """Another locator's ticks, only those inside the view. matplotlib makes a tick (two
    marks, a grid line, two labels) for every location a locator returns, also for those
    outside the view that it then does not draw: a third of a report figure's ticks."""

    def __init__(self, base: Locator):
        self.base = base

    def set_axis(self, axis: Axis) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self) -> np.ndarray:
        return _within_view(self.axis, np.asarray(self.base(), dtype=float))

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        return self.base.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self.base.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self.base.nonsingular(v0, v1)


def _within_view(axis: Axis, locations: np.ndarray) -> np.ndarray:
    low, high = sorted(axis.get_view_interval())
    tolerance = 1e-9 * max(abs(low), abs(high), 1.0)
    return locations[(locations >= low - tolerance) & (locations <= high + tolerance)]


def _log_ticks(axis: Axis) -> None:
    low, high = sorted(axis.get_view_interval())
    if low <= 0 or not math.isfinite(low):
        return
    if math.log10(high / low) > 1.5:
        axis.set_major_locator(LogLocator(base=10, numticks=7))
        axis.set_major_formatter(FuncFormatter(_decade_text))
    else:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def _decade_text(value: float, _position: int | None = None) -> str:
    """``0.001`` -> ``"10⁻³"`` in plain text (unicode superscripts, no mathtext)."""
    exponent = round(math.log10(value)) if value > 0 else 0
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _wrap(label: Artist, *, width: float) -> None:
    """Break a label's text at spaces into lines no wider than ``width`` inches (a word longer
    than that keeps a line of its own)."""
    text, size = label.get_text(), label.get_fontsize()
    if not text or text_extent(text, size).width <= width:
        return
    lines: list[str] = []
    for word in text.split():
        if lines and text_extent(f"{lines[-1]} {word}", size).width <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    label.set_text("\n".join(lines))


@dataclass(frozen=True)
class _TickLabels:
    """The major tick labels an axis will draw, their font size and rotation, and whether
    the axis is drawn at all."""

    texts: list[str]
    size: float
    rotation: float
    visible: bool


def _tick_labels(axis: Axis) -> _TickLabels:
    locations = _within_view(axis, np.asarray(axis.get_major_locator()(), dtype=float))
    texts = [t for t in axis.get_major_formatter().format_ticks(list(locations)) if t]
    label = axis.majorTicks[0].label1  # one tick: its text properties are every tick's
    return _TickLabels(texts, label.get_fontsize(), label.get_rotation(), axis.get_visible())


def _tick_extent(ticks: _TickLabels, *, along: str) -> float:
    """How far the tick labels reach out from the axis line, in inches."""
    if not ticks.visible or not ticks.texts:
        return 0.0
    extents = [text_extent(t, ticks.size, rotation=ticks.rotation) for t in ticks.texts]
    return TICK_SPACE + max(e.height if along == "x" else e.width for e in extents)


def _label_extent(label: Artist, *, thickness: str) -> float:
    text = label.get_text()
    if not text:
        return 0.0
    extent = text_extent(text, label.get_fontsize())
    return LABEL_GAP + (extent.height if thickness == "height" else extent.width)


def _left_decoration(ax: Axes, y_ticks: _TickLabels) -> float:
    # The y label is rotated 90 degrees: its text height runs across the figure.
    return _tick_extent(y_ticks, along="y") + _label_extent(ax.yaxis.label, thickness="height")


def _below(ax: Axes, x_ticks: _TickLabels) -> float:
    return _tick_extent(x_ticks, along="x") + _label_extent(ax.xaxis.label, thickness="height")


def _above(ax: Axes) -> float:
    title = ax.title.get_text()
    return TITLE_GAP + text_extent(title, ax.title.get_fontsize()).height if title else 0.0


def _left_overhang(x_ticks: _TickLabels) -> float:
    """How far x tick labels reach left of the axes: half an unrotated label centred on the
    first tick, or the whole of a rotated one (rotated labels end at their tick)."""
    if not x_ticks.texts:
        return 0.0
    if x_ticks.rotation:
        return text_extent(x_ticks.texts[0], x_ticks.size, rotation=x_ticks.rotation).width
    return text_extent(x_ticks.texts[0], x_ticks.size).width / 2


def _right_overhang(x_ticks: _TickLabels) -> float:
    """Half the width of an unrotated x tick label centred at the right end of the axis."""
    if not x_ticks.texts or x_ticks.rotation:
        return 0.0
    return text_extent(x_ticks.texts[-1], x_ticks.size).width / 2
