"""Each wording branch of the verdict, on small handmade results whose numbers are read off."""

from __future__ import annotations

from reports.verdict import verdict
from results.claims import Comparison, Difference
from results.records import (
    AttackSummary,
    Curve,
    ModelSummary,
    RegimeParams,
    RegimeResult,
    TprAtFpr,
)
from results.vocabulary import RegimeKind
from tests.reports.synthetic import result_of

ATTACK = "lira-online"


def _attack(*, tpr: float, tpr_ci=None, auc: float = 0.7, auc_ci=None, resolvable: bool = True, name=ATTACK) -> AttackSummary:
    return AttackSummary(
        attack=name,
        auc=auc,
        tpr_at_fpr=[TprAtFpr(fpr=0.01, tpr=tpr, resolvable=resolvable, ci=tpr_ci)],
        advantage=0.2,
        n_members=1000,
        n_non_members=1000,
        auc_per_target=[auc],
        roc=Curve(x=[0, 1], y=[0, 1]),
        auc_ci=auc_ci,
    )


def _comparison(leak, accuracy, *, verdict_word, metric="tpr", n=4, level=0.9875) -> Comparison:
    return Comparison(
        baseline="standard",
        metric=metric,
        leak=Difference(*leak),
        test_accuracy=Difference(*accuracy),
        level=level,
        family_level=0.95,
        n_comparisons=n,
        verdict=verdict_word,
    )


def _regime(label, kind, attack, *, test_accuracy, comparison=None, **params) -> RegimeResult:
    model = ModelSummary(
        index=0,
        train_loss=0.1,
        train_accuracy=0.9,
        test_accuracy=test_accuracy,
        member_confidence=0.9,
        non_member_confidence=0.6,
        epsilon=params.get("epsilon"),
        history=[],
        seconds=1.0,
    )
    return RegimeResult(
        label=label,
        regime=RegimeKind(kind),
        params=RegimeParams(**params),
        models=[model],
        attacks={attack.attack: attack},
        versus_standard=comparison,
    )


def _standard(**kwargs) -> RegimeResult:
    return _regime("standard", "standard", _attack(tpr=0.091, tpr_ci=[0.078, 0.105], **kwargs), test_accuracy=0.552)


def _flood(level, tpr, comparison, *, ci=(0.024, 0.041)) -> RegimeResult:
    return _regime(
        f"flood(b={level})",
        "flood",
        _attack(tpr=tpr, tpr_ci=list(ci)),
        test_accuracy=0.538,
        comparison=comparison,
        flood_level=level,
    )


def test_a_paired_interval_below_zero_claims_a_cut_with_its_accuracy_cost():
    flood = _flood(0.3, 0.032, _comparison((-0.059, -0.081, -0.037), (-0.014, -0.02, -0.008), verdict_word="cut"))
    sentences = verdict(result_of(_standard(), flood, main_attack=ATTACK))
    assert sentences[0] == (
        "Flooding at b = 0.3 cut the TPR at 1% FPR of LiRA (online) from 9.1% [7.8\u201310.5%] to 3.2% "
        "[2.4\u20134.1%] (by 5.9 points [-8.1 to -3.7]), at a cost of 1.4 points of test accuracy [-2.0 to -0.8]."
    )
    assert sentences[1] == (
        "Bracketed differences are intervals of the paired difference (model m of every regime shares its training "
        "half and seed) at 98.75%: 4 intervals (TPR at 1% FPR and test accuracy for each regime against standard), "
        "Bonferroni-corrected so that all hold together with 95% confidence."
    )


def test_an_interval_across_zero_claims_no_change_even_if_the_point_estimates_differ():
    flood = _flood(0.1, 0.07, _comparison((-0.021, -0.05, 0.008), (0.001, -0.002, 0.004), verdict_word="no clear change"))
    (sentence, *_) = verdict(result_of(_standard(), flood, main_attack=ATTACK))
    assert sentence == (
        "Flooding at b = 0.1 made no clear change to the TPR at 1% FPR of LiRA (online) (9.1% [7.8\u201310.5%] to "
        "7.0% [2.4\u20134.1%]; difference 2.1 points [-5.0 to +0.8]), while raising test accuracy by 0.1 points "
        "[-0.2 to +0.4]."
    )


def test_a_rise_is_called_a_rise():
    iflood = _regime(
        "iflood(b=0.2)",
        "iflood",
        _attack(tpr=0.15, tpr_ci=[0.13, 0.17]),
        test_accuracy=0.55,
        comparison=_comparison((0.059, 0.03, 0.09), (0.0, -0.001, 0.001), verdict_word="raised"),
        flood_level=0.2,
    )
    (sentence, *_) = verdict(result_of(_standard(), iflood, main_attack=ATTACK))
    assert sentence.startswith("Per-example flooding (iFlood) at b = 0.2 raised the TPR at 1% FPR of LiRA (online)")
    assert "(by 5.9 points [+3.0 to +9.0]), with test accuracy unchanged [-0.1 to +0.1]." in sentence


def test_every_regime_gets_its_sentence_in_the_audits_order():
    """No regime is picked after the results are in (the old verdict kept the least leaky one)."""
    floods = [
        _flood(level, 0.05, _comparison((-0.04, -0.06, -0.02), (-0.01, -0.02, 0.0), verdict_word="cut", n=6))
        for level in (0.5, 0.1, 0.3)
    ]
    dp = _regime(
        "dp(eps=8)",
        "dp",
        _attack(tpr=0.011, tpr_ci=[0.007, 0.016]),
        test_accuracy=0.49,
        comparison=_comparison((-0.08, -0.1, -0.06), (-0.06, -0.08, -0.04), verdict_word="cut", n=8),
        epsilon=8.0,
        delta=1e-5,
    )
    sentences = verdict(result_of(_standard(), *floods, dp, main_attack=ATTACK))
    assert [s.split(" cut ")[0] for s in sentences[:4]] == [
        "Flooding at b = 0.5",
        "Flooding at b = 0.1",
        "Flooding at b = 0.3",
        "DP-SGD (\u03b5 = 8)",
    ]


def test_auc_replaces_tpr_when_the_audit_compared_auc():
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.0, auc=0.55, auc_ci=[0.53, 0.57], resolvable=False),
        test_accuracy=0.54,
        comparison=_comparison((-0.1, -0.13, -0.07), (-0.01, -0.02, 0.0), verdict_word="cut", metric="auc"),
        flood_level=0.3,
    )
    sentences = verdict(result_of(_standard(auc=0.65, auc_ci=[0.63, 0.67]), flood, main_attack=ATTACK))
    assert "cut the AUC of LiRA (online) from 0.650 [0.630\u20130.670] to 0.550 [0.530\u20130.570] (by 0.100 [-0.130 to -0.070])" in sentences[0]
    assert "4 intervals (AUC and test accuracy" in sentences[1]


def test_without_paired_comparisons_each_figure_stands_alone_and_nothing_is_claimed():
    """A user's single model against baselines: one target per regime, no paired interval."""
    flood = _flood(0.3, 0.032, None)
    sentences = verdict(result_of(_standard(), flood, main_attack=ATTACK))
    assert sentences == [
        "Flooding at b = 0.3: the TPR at 1% FPR of LiRA (online) 3.2% [2.4\u20134.1%] against 9.1% [7.8\u201310.5%] for "
        "standard, test accuracy 53.8% against 55.2%.",
        "Each figure has its own interval (one target model per regime, so no paired comparison is possible); no "
        "cut or rise is claimed.",
    ]


def test_no_standard_regime_means_no_baseline():
    flood = _flood(0.3, 0.032, None)
    (sentence,) = verdict(result_of(flood, main_attack=ATTACK))
    assert sentence.startswith("This audit has no standard (undefended) regime")


def test_standard_alone_asks_for_defences():
    (sentence,) = verdict(result_of(_standard(), main_attack=ATTACK))
    assert sentence == (
        "Only the standard regime was audited: the TPR at 1% FPR of LiRA (online) against it is 9.1% "
        "[7.8\u201310.5%]; add flood or dp regimes to compare defences."
    )


def test_a_stronger_attack_beyond_the_main_attacks_interval_is_named():
    standard = _standard()
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.032, tpr_ci=[0.024, 0.041], auc=0.54, auc_ci=[0.52, 0.56]),
        test_accuracy=0.538,
        comparison=_comparison((-0.059, -0.081, -0.037), (-0.014, -0.02, -0.008), verdict_word="cut"),
        flood_level=0.3,
    )
    flood.attacks["rmia"] = _attack(tpr=0.05, auc=0.58, name="rmia")
    standard.attacks["rmia"] = _attack(tpr=0.05, auc=0.55, name="rmia")  # inside the interval
    sentences = verdict(result_of(standard, flood, main_attack=ATTACK))
    assert sentences[-1] == (
        "LiRA (online) is not the strongest attack everywhere: a higher AUC, above its confidence "
        "interval, came from RMIA on flood(b=0.3) (see \u201cEvery attack\u201d)."
    )
