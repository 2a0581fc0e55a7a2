"""Figure functions, the DP bound they draw, and the small formatting helpers."""

from __future__ import annotations

import base64
import dataclasses
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from attacks.metrics import dp_tpr_bound
from reports import figures
from reports.datauri import figure_to_data_uri, image_to_data_uri
from reports.figures.legend import legend_texts
from reports.formatting import percent, percent_interval
from reports.readings import tpr_reading
from results.records import TprAtFpr


def test_dp_bound_matches_hand_computed_values():
    # epsilon = ln 2, delta = 0: TPR <= min(2 FPR, 1 - (1 - FPR) / 2).
    bound = dp_tpr_bound(np.array([0.0, 0.1, 0.6, 1.0]), epsilon=math.log(2), delta=0.0)
    np.testing.assert_allclose(bound, [0.0, 0.2, 0.8, 1.0])
    # epsilon = 0 and delta = 0: no test beats guessing.
    np.testing.assert_allclose(dp_tpr_bound(np.array([0.01, 0.5]), epsilon=0.0, delta=0.0), [0.01, 0.5])
    # delta lifts the bound at FPR 0.
    assert dp_tpr_bound(np.array([0.0]), epsilon=1.0, delta=1e-3)[0] == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "build",
    [
        lambda r: figures.frontier_figure(r, x="tpr"),
        lambda r: figures.frontier_figure(r, x="auc"),
        figures.roc_overlay_figure,
        lambda r: figures.roc_attacks_figure(
            r.regimes[-1], attacks=["lira-online", "loss"], main_attack="lira-online"
        ),
        lambda r: figures.histogram_figure(r.regimes[0]),
        figures.training_loss_figure,
        figures.snapshot_figure,
        lambda r: figures.relation_figure(r, x="train_loss"),
        lambda r: figures.relation_figure(r, x="member_confidence"),
        figures.per_class_figure,
    ],
)
def test_figures_draw_from_the_result(build, audit_result):
    figure = build(audit_result)
    assert isinstance(figure, Figure)
    assert all(ax.has_data() for ax in figure.axes)


def test_roc_figures_draw_the_dp_bound_for_dp_regimes_only(audit_result):
    overlay = figures.roc_overlay_figure(audit_result)
    labels = [line.get_label() for line in overlay.axes[0].get_lines()]
    assert sum(label.startswith("DP bound") for label in labels) == 1
    standard = figures.roc_attacks_figure(
        audit_result.regimes[0], attacks=["lira-online"], main_attack="lira-online"
    )
    assert not any(line.get_label().startswith("DP bound") for line in standard.axes[0].get_lines())


def test_figures_return_none_when_there_is_nothing_to_draw(audit_result):
    bare_regime = dataclasses.replace(
        audit_result.regimes[0], attacks={}, histograms=[], snapshots=[], per_class=[], models=[]
    )
    bare = dataclasses.replace(audit_result, regimes=[bare_regime])
    assert figures.frontier_figure(bare, x="tpr") is None
    assert figures.roc_overlay_figure(bare) is None
    assert figures.histogram_figure(bare_regime) is None
    assert figures.training_loss_figure(bare) is None
    assert figures.snapshot_figure(bare) is None
    assert figures.relation_figure(bare, x="train_loss") is None
    assert figures.per_class_figure(bare) is None


def test_unknown_axis_choice_is_refused(audit_result):
    with pytest.raises(ValueError, match="'accuracy'"):
        figures.frontier_figure(audit_result, x="accuracy")
    with pytest.raises(ValueError, match="'auc'"):
        figures.relation_figure(audit_result, x="auc")


@pytest.mark.parametrize("shape", [(8, 8, 1), (5, 7, 3)])
def test_thumbnails_are_pngs(shape):
    uri = image_to_data_uri(np.random.default_rng(0).uniform(0, 1, shape).tolist())
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


def test_percent_formatting():
    assert percent(0.0035) == "0.35%"
    assert percent(0.091) == "9.1%"
    assert percent(None) == percent(math.nan) == "\u2013"
    assert percent_interval([0.0062, 0.02]) == "0.6\u20132.0%"
    assert percent_interval([0.001, 0.009]) == "0.10\u20130.90%"
    assert percent_interval(None) == ""


def test_tpr_reading_matches_fpr_targets_by_value(audit_result):
    attack = audit_result.regimes[0].attacks["lira-online"]
    # 0.1 * 0.1 is 0.010000000000000002, not 0.01: still the same target.
    moved = dataclasses.replace(attack, tpr_at_fpr=[TprAtFpr(fpr=0.1 * 0.1, tpr=0.07, resolvable=False)])
    reading = tpr_reading(moved, 0.01)
    assert (reading.value, reading.resolvable, reading.interval) == (0.07, False, None)
    assert tpr_reading(moved, 0.001) is None


def test_frontier_marks_unresolvable_tpr_hollow(audit_result):
    regime = audit_result.regimes[0]
    attack = regime.attacks["lira-online"]
    unresolved = dataclasses.replace(
        attack, tpr_at_fpr=[dataclasses.replace(t, resolvable=False) for t in attack.tpr_at_fpr]
    )
    regime = dataclasses.replace(regime, attacks={"lira-online": unresolved})
    figure = figures.frontier_figure(dataclasses.replace(audit_result, regimes=[regime]), x="tpr")
    labels = [text.get_text() for text in legend_texts(figure)]
    assert "hollow: TPR not resolvable" in labels


def test_dollar_signs_in_labels_are_drawn_literally(audit_result):
    """Matplotlib parses $...$ as math; a label like this one would otherwise fail to draw."""
    regimes = [
        dataclasses.replace(r, label=f"$\\undefined{{{i}}}$ run")
        for i, r in enumerate(audit_result.regimes[:2])
    ]
    figure = figures.relation_figure(dataclasses.replace(audit_result, regimes=regimes), x="train_loss")
    assert figure_to_data_uri(figure).startswith("data:image/png;base64,")
