"""The report's hand-placed legend: matplotlib's order and geometry, a copy of each handle's
look, and matplotlib's own legend for handles it cannot copy."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from reports.figures.legend import legend_texts, place_legend


def _figure() -> Figure:
    figure = Figure(figsize=(4.0, 4.0))
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="C0", linestyle="--", linewidth=2.5, marker="o", label="line")
    ax.scatter([0.5], [0.5], s=49, marker="^", facecolors="none", edgecolors="C1", label="scatter")
    ax.bar([0.2], [0.3], 0.1, color="C2", label="bars")
    ax.axhline(0.5, color="0.5", linestyle=":", label="guessing")
    ax.plot([0, 1], [1, 0], label="fifth")
    return figure


def test_entries_fill_the_first_column_first_in_order():
    figure = _figure()
    height = place_legend(figure, columns=2, bottom=0.1, margin=0.06, font_size=8)
    texts = legend_texts(figure)
    # matplotlib's order: the axes' artists in the order added, containers (the bars) last
    assert [t.get_text() for t in texts] == ["line", "scatter", "guessing", "fifth", "bars"]
    x = [t.get_position()[0] for t in texts]
    y = [t.get_position()[1] for t in texts]
    assert x[0] == x[1] == x[2] < x[3] == x[4]  # 3 + 2, as np.array_split splits 5 into 2 columns
    assert y[0] > y[1] > y[2] and y[3] == y[0] and y[4] == y[1]
    assert 0.1 < min(y) * 4.0 and max(y) * 4.0 < 0.1 + height
    assert not figure.legends


def test_handles_copy_the_look_of_what_they_stand_for():
    figure = _figure()
    place_legend(figure, columns=2, bottom=0.1, margin=0.06, font_size=8)
    lines = [a for a in figure.artists if isinstance(a, Line2D)]
    dashed = next(line for line in lines if line.get_linestyle() == "--")
    assert dashed.get_linewidth() == 2.5 and dashed.get_marker() == "None"
    marker = next(line for line in lines if line.get_marker() == "o")
    assert marker.get_linestyle() == "None" and len(marker.get_xdata()) == 1
    (box,) = [a for a in figure.artists if isinstance(a, Rectangle)]
    assert np.allclose(box.get_facecolor(), figure.axes[0].patches[0].get_facecolor())
    (scatter,) = [a for a in figure.artists if isinstance(a, PathCollection)]
    assert scatter.get_sizes().tolist() == [49] and len(scatter.get_facecolor()) == 0  # hollow stays hollow


def test_long_labels_fall_back_to_one_column():
    figure = Figure(figsize=(3.0, 3.0))
    ax = figure.add_subplot()
    for i in range(3):
        ax.plot([0, 1], [i, i], label=f"a regime label long enough to fill half the figure {i}")
    place_legend(figure, columns=3, bottom=0.05, margin=0.06, font_size=8)
    assert len({t.get_position()[0] for t in legend_texts(figure)}) == 1


def test_other_handles_get_matplotlibs_legend():
    figure = Figure(figsize=(4.0, 4.0))
    ax = figure.add_subplot()
    ax.vlines([0.3, 0.6], 0, 1, label="a line collection")
    ax.plot([0, 1], [0, 1], label="a line")
    height = place_legend(figure, columns=2, bottom=0.1, margin=0.06, font_size=8)
    assert len(figure.legends) == 1 and height > 0
    assert [t.get_text() for t in legend_texts(figure)] == ["a line collection", "a line"]
