"""The figures' fixed layout (reports.figures.layout): every figure drawn, every text inside
the picture, no two labels on top of each other, also with long user labels and many classes.
And the parallel drawing gives the bytes of drawing one figure after another."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from reports import figures
from reports.drawing import draw_pngs
from reports.figures.layout import arrange
from reports.figures.legend import legend_texts
from results.records import AuditResult

BUILDERS = {
    "frontier-tpr": lambda r: figures.frontier_figure(r, x="tpr"),
    "frontier-auc": lambda r: figures.frontier_figure(r, x="auc"),
    "roc-overlay": figures.roc_overlay_figure,
    "roc-attacks": lambda r: figures.roc_attacks_figure(
        r.regimes[-1], attacks=list(r.regimes[-1].attacks), main_attack=r.main_attack
    ),
    "histograms": lambda r: figures.histogram_figure(r.regimes[0]),
    "training-loss": figures.training_loss_figure,
    "snapshots": figures.snapshot_figure,
    "relation-loss": lambda r: figures.relation_figure(r, x="train_loss"),
    "relation-confidence": lambda r: figures.relation_figure(r, x="member_confidence"),
    "per-class": figures.per_class_figure,
}


def _long_labels(result: AuditResult) -> AuditResult:
    """Regime labels of 40 characters and 20 classes with long names: legends must fall back
    to one column, rotated class names must fit under the axes."""
    regimes = []
    for i, regime in enumerate(result.regimes):
        per_class = [
            dataclasses.replace(entry, label=k, name=f"class number {k} of many", auc=0.5 + 0.01 * k)
            for k, entry in zip(range(20), itertools.cycle(regime.per_class))
        ]
        regimes.append(dataclasses.replace(regime, label=f"regime {i} with a rather long user label", per_class=per_class))
    return dataclasses.replace(result, regimes=regimes)


def _texts(figure: Figure) -> list[tuple[str, str, Bbox]]:
    """(group, text, extent in pixels) of every text drawn: tick labels, axis labels, titles,
    legend entries. The group says which texts may touch (a tick label its neighbours' group)."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    for number, ax in enumerate(figure.axes):
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                label = tick.label1
                inside = low - 1e-9 * abs(high - low) <= tick.get_loc() <= high + 1e-9 * abs(high - low)
                if inside and label.get_visible() and label.get_text():  # ticks outside the view are not drawn
                    found.append((f"ticks-{axis_name}{number}", label.get_text(), label.get_window_extent(renderer)))
            if axis.label.get_text():
                found.append((f"label-{axis_name}{number}", axis.label.get_text(), axis.label.get_window_extent(renderer)))
        if ax.title.get_text():
            found.append((f"title{number}", ax.title.get_text(), ax.title.get_window_extent(renderer)))
        if ax.get_legend() is not None:
            found.append((f"axes-legend{number}", "legend", ax.get_legend().get_window_extent(renderer)))
    for text in legend_texts(figure):
        found.append(("legend", text.get_text(), text.get_window_extent(renderer)))
    return found


def _check_layout(figure: Figure) -> None:
    width, height = figure.bbox.width, figure.bbox.height
    texts = _texts(figure)
    rotated = any(ax.xaxis.get_major_ticks()[0].label1.get_rotation() for ax in figure.axes)
    assert texts
    for group, text, box in texts:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, (
            f"{group} {text!r} at {box.bounds} leaves the {width:.0f} x {height:.0f} px figure"
        )
    for (group_a, text_a, box_a), (group_b, text_b, box_b) in itertools.combinations(texts, 2):
        corner = {group_a[:7], group_b[:7]} == {"ticks-x", "ticks-y"} and group_a[7:] == group_b[7:]
        # Rotated tick labels sit side by side along a slant: their upright boxes overlap, they do not.
        slanted = group_a == group_b and group_a.startswith("ticks-x") and rotated
        if group_a.startswith("axes-legend") or group_b.startswith("axes-legend") or corner or slanted:
            continue  # a legend inside the axes sits over data, not labels; two axes' ticks meet at the corner
        overlap = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0), min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert min(overlap) <= 1, f"{group_a} {text_a!r} overlaps {group_b} {text_b!r}"


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("labels", ["ordinary", "long"])
def test_every_text_fits_inside_the_figure_and_none_overlap(name, labels, audit_result):
    result = audit_result if labels == "ordinary" else _long_labels(audit_result)
    figure = BUILDERS[name](result)
    assert figure is not None
    _check_layout(figure)


def test_a_label_wider_than_the_axes_is_wrapped_onto_lines():
    figure = Figure(figsize=(3.0, 3.0))
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("a quantity described in a great many words that cannot fit on one line")
    arrange(figure)
    assert ax.xaxis.label.get_text().count("\n") >= 1
    _check_layout(figure)


def test_a_figure_too_small_for_its_labels_is_refused():
    figure = Figure(figsize=(1.0, 0.8))
    figure.add_subplot().set_xlabel("x")
    with pytest.raises(ValueError, match="no room"):
        arrange(figure)


def test_parallel_drawing_gives_the_same_bytes_in_the_same_order(audit_result):
    builders = [lambda name=name: BUILDERS[name](audit_result) for name in sorted(BUILDERS)] + [lambda: None]
    serial = draw_pngs(builders, workers=1)
    parallel = draw_pngs(builders, workers=2)
    assert serial[-1] is None and all(png.startswith(b"\x89PNG") for png in serial[:-1])
    assert parallel == serial


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_arranged_axes_place_ticks_only_inside_the_view(name, audit_result):
    """matplotlib makes a tick (marks, grid line, labels) for every location its locator
    returns, drawn or not: arrange() keeps the ones outside the view from being made."""
    figure = BUILDERS[name](audit_result)
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            locations = axis.get_majorticklocs()
            slack = 1e-9 * max(abs(low), abs(high), 1.0)
            assert len(locations) and all(low - slack <= x <= high + slack for x in locations), (axis, locations)
