"""Each wording branch of the verdict, on small handmade results whose numbers are read off."""

from __future__ import annotations

from reports.verdict import verdict
from results.records import (
    AttackSummary,
    AuditResult,
    Curve,
    ModelSummary,
    RegimeParams,
    RegimeResult,
    TprAtFpr,
)
from results.vocabulary import RegimeKind
from tests.reports.synthetic import result_of

ATTACK = "lira-online"


def _attack(
    *, tpr: float, tpr_ci=None, auc: float = 0.7, auc_ci=None, resolvable: bool = True
) -> AttackSummary:
    return AttackSummary(
        attack=ATTACK,
        auc=auc,
        tpr_at_fpr=[TprAtFpr(fpr=0.01, tpr=tpr, resolvable=resolvable, ci=tpr_ci)],
        advantage=0.2,
        n_members=1000,
        n_non_members=1000,
        auc_per_target=[auc],
        roc=Curve(x=[0, 1], y=[0, 1]),
        auc_ci=auc_ci,
    )


def _regime(label: str, kind: str, attack: AttackSummary, *, test_accuracy: float, **params) -> RegimeResult:
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
        label=label, regime=RegimeKind(kind), params=RegimeParams(**params), models=[model], attacks={ATTACK: attack}
    )


def _result(*regimes: RegimeResult) -> AuditResult:
    return result_of(*regimes, main_attack=ATTACK)


def _standard(tpr=0.091, tpr_ci=(0.078, 0.105), **kwargs) -> RegimeResult:
    return _regime(
        "standard",
        "standard",
        _attack(tpr=tpr, tpr_ci=list(tpr_ci) if tpr_ci else None, **kwargs),
        test_accuracy=0.552,
    )


def test_disjoint_intervals_claim_a_cut_with_its_accuracy_cost():
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.032, tpr_ci=[0.024, 0.041]),
        test_accuracy=0.538,
        flood_level=0.3,
    )
    dp = _regime(
        "dp(eps=8)",
        "dp",
        _attack(tpr=0.011, tpr_ci=[0.007, 0.016]),
        test_accuracy=0.492,
        epsilon=8.0,
        delta=1e-5,
    )
    sentences = verdict(_result(_standard(), flood, dp))
    assert sentences == [
        "Flooding at b = 0.3 cut the TPR at 1% FPR of LiRA (online) from 9.1% [7.8\u201310.5%] to "
        "3.2% [2.4\u20134.1%], at a cost of 1.4 points of test accuracy.",
        "DP-SGD (\u03b5 = 8) cut the TPR at 1% FPR of LiRA (online) from 9.1% [7.8\u201310.5%] to "
        "1.1% [0.7\u20131.6%], at a cost of 6.0 points of test accuracy.",
    ]


def test_overlapping_intervals_claim_no_change():
    flood = _regime(
        "flood(b=0.1)",
        "flood",
        _attack(tpr=0.085, tpr_ci=[0.072, 0.099]),
        test_accuracy=0.550,
        flood_level=0.1,
    )
    (sentence,) = verdict(_result(_standard(), flood))
    assert sentence.startswith(
        "Flooding at b = 0.1 made no clear change to the TPR at 1% FPR of LiRA (online)"
    )
    assert "intervals overlap" in sentence and "cut" not in sentence


def test_a_rise_is_called_a_rise():
    flood = _regime(
        "flood(b=0.1)", "flood", _attack(tpr=0.2, tpr_ci=[0.18, 0.22]), test_accuracy=0.552, flood_level=0.1
    )
    (sentence,) = verdict(_result(_standard(), flood))
    assert "raised the TPR at 1% FPR of LiRA (online) from 9.1%" in sentence
    assert "with test accuracy unchanged" in sentence


def test_without_intervals_the_cut_is_qualified():
    flood = _regime("flood(b=0.3)", "flood", _attack(tpr=0.032), test_accuracy=0.56, flood_level=0.3)
    (sentence,) = verdict(_result(_standard(tpr_ci=None), flood))
    assert (
        "cut the TPR at 1% FPR of LiRA (online) from 9.1% to 3.2% (no confidence intervals recorded"
        in sentence
    )
    assert "while raising test accuracy by 0.8 points" in sentence


def test_baseline_without_measurable_leak_is_said_so():
    flood = _regime(
        "iflood(b=0.2)",
        "iflood",
        _attack(tpr=0.009, tpr_ci=[0.005, 0.014]),
        test_accuracy=0.54,
        flood_level=0.2,
    )
    sentences = verdict(_result(_standard(tpr=0.012, tpr_ci=(0.008, 0.017)), flood))
    assert sentences[0].startswith("The standard model shows no measurable leak")
    assert "1.2% [0.8\u20131.7%]" in sentences[0]
    assert (
        sentences[1]
        == "Per-example flooding (iFlood) at b = 0.2 cost 1.2 points of test accuracy, with no leak to cut."
    )
    assert not any(" cut the " in s for s in sentences)


def test_unresolvable_tpr_falls_back_to_auc():
    standard = _standard(resolvable=False, auc=0.74, auc_ci=[0.728, 0.752])
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.03, auc=0.62, auc_ci=[0.608, 0.632], resolvable=False),
        test_accuracy=0.538,
        flood_level=0.3,
    )
    sentences = verdict(_result(standard, flood))
    assert "unresolved" in sentences[0] and "compares AUC" in sentences[0]
    assert sentences[1].startswith(
        "Flooding at b = 0.3 cut the AUC of LiRA (online) from 0.740 [0.728\u20130.752] "
        "to 0.620 [0.608\u20130.632]"
    )
    assert len(sentences) == 2


def test_the_least_leaky_flooding_regime_is_reported():
    weak = _regime(
        "flood(b=0.1)", "flood", _attack(tpr=0.06, tpr_ci=[0.05, 0.07]), test_accuracy=0.548, flood_level=0.1
    )
    strong = _regime(
        "flood(b=0.3)", "flood", _attack(tpr=0.03, tpr_ci=[0.02, 0.04]), test_accuracy=0.538, flood_level=0.3
    )
    (sentence,) = verdict(_result(_standard(), weak, strong))
    assert sentence.startswith("Flooding at b = 0.3 cut")


def test_no_standard_regime_means_no_baseline():
    flood = _regime("flood(b=0.3)", "flood", _attack(tpr=0.03), test_accuracy=0.538, flood_level=0.3)
    (sentence,) = verdict(_result(flood))
    assert "no standard (undefended) regime" in sentence


def test_standard_alone_asks_for_defences():
    (sentence,) = verdict(_result(_standard()))
    assert sentence.startswith("Only the standard regime was audited")
    assert "9.1% [7.8\u201310.5%]" in sentence


def test_fixture_verdict_has_one_sentence_per_kind_of_defence(audit_result):
    sentences = verdict(audit_result)
    assert len(sentences) == 3
    assert sentences[0].startswith("Flooding at b = 0.3 cut")
    assert sentences[1].startswith("Per-example flooding (iFlood) at b = 0.2 cut")
    assert sentences[2].startswith("DP-SGD (\u03b5 = 8) cut")


def test_iflood_gets_its_own_sentence_even_when_it_raises_the_leak():
    """Seen on the demo audit: batch flooding cut the leak while iFlood raised it; a verdict
    naming only the better flooding regime hid that."""
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.017, tpr_ci=[0.010, 0.026]),
        test_accuracy=0.507,
        flood_level=0.3,
    )
    iflood = _regime(
        "iflood(b=0.2)",
        "iflood",
        _attack(tpr=0.088, tpr_ci=[0.077, 0.106]),
        test_accuracy=0.546,
        flood_level=0.2,
    )
    sentences = verdict(_result(_standard(tpr=0.057, tpr_ci=(0.045, 0.071)), flood, iflood))
    assert sentences == [
        (
            "Flooding at b = 0.3 cut the TPR at 1% FPR of LiRA (online) from 5.7% [4.5\u20137.1%] to "
            "1.7% [1.0\u20132.6%], at a cost of 4.5 points of test accuracy."
        ),
        (
            "Per-example flooding (iFlood) at b = 0.2 raised the TPR at 1% FPR of LiRA (online) from "
            "5.7% [4.5\u20137.1%] to 8.8% [7.7\u201310.6%], at a cost of 0.6 points of test accuracy."
        ),
    ]


def test_a_stronger_attack_beyond_the_main_attacks_interval_is_named():
    standard = _standard()
    flood = _regime(
        "flood(b=0.3)",
        "flood",
        _attack(tpr=0.032, tpr_ci=[0.024, 0.041], auc=0.54, auc_ci=[0.52, 0.56]),
        test_accuracy=0.538,
        flood_level=0.3,
    )
    rmia = AttackSummary(**{**vars(_attack(tpr=0.05, auc=0.58)), "attack": "rmia"})
    close = AttackSummary(**{**vars(_attack(tpr=0.05, auc=0.55)), "attack": "rmia"})  # inside the interval
    flood.attacks["rmia"] = rmia
    standard.attacks["rmia"] = close
    sentences = verdict(_result(standard, flood))
    assert sentences[-1] == (
        "LiRA (online) is not the strongest attack everywhere: a higher AUC, above its confidence "
        "interval, came from RMIA on flood(b=0.3) (see \u201cEvery attack\u201d)."
    )


def test_no_leak_lists_three_defences_in_one_sentence():
    standard = _standard(tpr=0.012, tpr_ci=(0.008, 0.017))
    defences = [
        _regime(
            "flood(b=0.3)",
            "flood",
            _attack(tpr=0.01, tpr_ci=[0.006, 0.015]),
            test_accuracy=0.54,
            flood_level=0.3,
        ),
        _regime(
            "iflood(b=0.2)",
            "iflood",
            _attack(tpr=0.01, tpr_ci=[0.006, 0.015]),
            test_accuracy=0.55,
            flood_level=0.2,
        ),
        _regime("dp(eps=8)", "dp", _attack(tpr=0.01, tpr_ci=[0.006, 0.015]), test_accuracy=0.49, epsilon=8.0),
    ]
    sentences = verdict(_result(standard, *defences))
    assert sentences[1] == (
        "Flooding at b = 0.3 cost 1.2 points of test accuracy, per-example flooding (iFlood) at b = 0.2 "
        "cost 0.2 points of test accuracy and DP-SGD (\u03b5 = 8) cost 6.2 points of test accuracy, "
        "with no leak to cut."
    )
