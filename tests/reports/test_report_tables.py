"""The tables' contents and the figure details that real (demo) data showed to matter."""

from __future__ import annotations

import dataclasses

import numpy as np

from reports import figures
from reports.provenance import effective_config, environment_pairs
from reports.tables import (
    attacks_table,
    pooling_note,
    privacy_summary,
    privacy_table,
    summary_table,
)
from results.records import Histogram


def test_summary_table_leads_with_the_main_attack_and_puts_1pct_first(audit_result):
    table = summary_table(audit_result)
    assert [g.title for g in table.groups] == ["LiRA (online)", "Models (mean over pool)", ""]
    assert table.groups[0].columns == ["AUC", "TPR @ 1% FPR", "TPR @ 0.1% FPR"]
    assert [row.label for row in table.rows] == [r.label for r in audit_result.regimes]
    standard = table.rows[0].cells
    attack = audit_result.regimes[0].attacks["lira-online"]
    assert standard[0].text.startswith(f"{attack.auc:.3f} \u00b1")
    assert standard[1].text == f"{100 * attack.at(0.01).tpr:.1f}%" and not standard[1].unresolved
    assert standard[2].unresolved  # the fixture's 0.1% FPR is not resolvable
    assert table.rows[-1].cells[-1].text == "7.93"  # epsilon to three significant figures


def test_attacks_table_marks_the_strongest_attack_of_each_regime(audit_result):
    table = attacks_table(audit_result)
    assert [row.label for row in table.rows] == ["LiRA (online)", "loss threshold"]
    assert [g.title for g in table.groups] == [r.label for r in audit_result.regimes]
    lira, loss = table.rows
    # LiRA has the larger AUC in every regime of the fixture: bold in every AUC column.
    assert all(cell.best for cell in lira.cells[0::2]) and not any(cell.best for cell in loss.cells[0::2])
    assert "group" in table.cell_classes(2, lira.cells[2]) and "group" not in table.cell_classes(
        1, lira.cells[1]
    )


def test_privacy_table_has_a_row_per_audited_regime_and_flags_a_bound_above_the_accountant(audit_result):
    table = privacy_table(audit_result)
    assert [row.label for row in table.rows] == [r.label for r in audit_result.regimes]
    assert [c for g in table.groups for c in g.columns] == [
        "accountant \u03b5", "\u03b5 \u2265", "\u03b4", "attack", "right guesses", "candidates",
    ]
    dp_row = table.rows[-1].cells
    assert dp_row[0].text == "7.93" and table.rows[0].cells[0].text == "not DP"
    assert not table.any_exceeded
    dp = audit_result.regimes[-1]
    broken = dataclasses.replace(dp, privacy_audit=dataclasses.replace(dp.privacy_audit, epsilon_lower_bound=9.5))
    result = dataclasses.replace(audit_result, regimes=[*audit_result.regimes[:-1], broken])
    table = privacy_table(result)
    assert table.any_exceeded and table.rows[-1].cells[1].exceeded and table.rows[-1].cells[1].text == "9.50"
    assert "above the guarantee" in privacy_summary(result)[0]
    without = dataclasses.replace(
        audit_result, regimes=[dataclasses.replace(r, privacy_audit=None) for r in audit_result.regimes]
    )
    assert privacy_table(without) is None and privacy_summary(without) == []


def test_pooling_note_gives_counts_and_the_per_target_shortfall(audit_result):
    regimes = [
        dataclasses.replace(
            r,
            attacks={
                n: dataclasses.replace(
                    a,
                    n_targets=4,
                    min_non_members_per_target=480,
                    tpr_at_fpr=[dataclasses.replace(t, resolvable=True) for t in a.tpr_at_fpr],
                )
                for n, a in r.attacks.items()
            },
        )
        for r in audit_result.regimes
    ]
    note = pooling_note(dataclasses.replace(audit_result, regimes=regimes))
    assert note.startswith(
        "Each regime's attack figures pool 4 target models, 2,000 members and 2,000 non-members"
    )
    assert "(at least 480 non-members per target)" in note
    assert "resolve a 0.1% FPR on its own (it would need 1,000)" in note


def test_effective_config_spells_out_defaults(audit_result):
    config = dataclasses.replace(audit_result.config, regimes=(), attacks=(), cache_dir="")
    pairs = dict(effective_config(dataclasses.replace(audit_result, config=config)))
    assert pairs["regimes"] == "standard, flood(b=0.1), flood(b=0.3), iflood(b=0.2), dp(eps=8) (default)"
    assert pairs["attacks"] == "loss, lira-online (default)"
    assert pairs["cache_dir"] == "(default)"


def test_environment_counts_cached_models(audit_result):
    regime = audit_result.regimes[0]
    models = [dataclasses.replace(m, cached=True) for m in regime.models]
    result = dataclasses.replace(audit_result, regimes=[dataclasses.replace(regime, models=models)])
    pairs = dict(environment_pairs(result))
    assert pairs["models"] == "4 in 1 pools: 0 trained in this run, 4 loaded from the cache"
    assert pairs["seconds"] == "312.4 s (5 min 12 s)"


def test_loss_histogram_whose_first_edge_is_zero_gets_a_log_axis(audit_result):
    """The pipeline's loss bins start at 0 and are log-spaced after it; on a linear axis
    every bin below 0.1 collapsed into one sliver at the left edge."""
    edges = np.geomspace(1e-5, 12.0, 41)
    edges[0] = 0.0
    counts = np.arange(40).tolist()
    histogram = Histogram(quantity="loss", edges=edges.tolist(), members=counts, non_members=counts[::-1])
    regime = dataclasses.replace(audit_result.regimes[0], histograms=[histogram])
    ax = figures.histogram_figure(regime).axes[0]
    assert ax.get_xscale() == "log"
    assert "leftmost bar: all below 1.4e-05" in ax.get_xlabel()
    confidence = dataclasses.replace(histogram, quantity="confidence", edges=np.linspace(0, 1, 41).tolist())
    regime = dataclasses.replace(regime, histograms=[confidence])
    assert figures.histogram_figure(regime).axes[0].get_xscale() == "linear"


def test_every_attack_gets_its_own_colour_and_line_style():
    attacks = [
        "lira-online", "loss", "loss-class", "confidence", "confidence-class", "entropy", "entropy-class",
        "modified-entropy", "modified-entropy-class", "shadow", "lira-offline", "rmia", "label-only",
    ]  # fmt: skip
    styles = figures.roc._attack_styles(attacks)
    assert len(set(styles.values())) == len(attacks)
    assert styles["loss"][0] == styles["loss-class"][0] and styles["loss"][1] != styles["loss-class"][1]


def test_frontier_draws_each_defence_as_a_line_from_the_standard_regime(audit_result):
    ax = figures.frontier_figure(audit_result, x="auc").axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 1 and line.get_linestyle() == "-"]
    standard = audit_result.regimes[0].attacks["lira-online"].auc
    # flood (standard, b=0.1, b=0.3), iflood (standard, b=0.2), dp (standard, eps=8)
    assert sorted(len(line.get_xdata()) for line in lines) == [2, 2, 3]
    assert all(line.get_xdata()[0] == standard for line in lines)
