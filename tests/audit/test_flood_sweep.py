"""--flood-levels auto: levels from the standard models' test loss, and the stated rule that
recommends one, on synthetic sweeps whose answer is known; DP-SGD read at a flooded
regime's accuracy."""

from __future__ import annotations

import pytest

from audit.analysis.flood_sweep import MULTIPLIERS, flood_sweep, recommend, sweep_levels
from audit.analysis.matching import match_dp_accuracy
from audit.errors import AuditInputError
from audit.run import main as run_main
from results.claims import SweepPoint
from results.records import (
    AttackSummary,
    Curve,
    EpochRecord,
    ModelSummary,
    RegimeParams,
    RegimeResult,
    TprAtFpr,
)
from results.vocabulary import RegimeKind


def _regime(label, kind, *, accuracy, tpr, canary_tpr=None, test_loss=0.5, **params) -> RegimeResult:
    def attack(value):
        return {
            "loss": AttackSummary(
                attack="loss", auc=0.6, tpr_at_fpr=[TprAtFpr(fpr=0.01, tpr=value, resolvable=True)], advantage=0.1,
                n_members=1, n_non_members=1, auc_per_target=[0.6], roc=Curve(x=[0, 1], y=[0, 1]),
            )
        }

    history = [EpochRecord(epoch=1, train_loss=0.1, eval_train_loss=0.1, train_accuracy=1.0, test_accuracy=accuracy, test_loss=test_loss)]
    model = ModelSummary(index=0, train_loss=0.1, train_accuracy=1.0, test_accuracy=accuracy, member_confidence=0.9,
                         non_member_confidence=0.8, epsilon=params.get("epsilon"), history=history, seconds=0.0)
    return RegimeResult(
        label=label, regime=RegimeKind(kind), params=RegimeParams(**params), models=[model], attacks=attack(tpr),
        canary_attacks=attack(canary_tpr) if canary_tpr is not None else {},
    )


def test_levels_are_multiples_of_the_standard_models_test_loss():
    loss, levels = sweep_levels(_regime("standard", "standard", accuracy=0.9, tpr=0.05, test_loss=0.4))
    assert loss == pytest.approx(0.4) and levels == pytest.approx([0.4 * m for m in MULTIPLIERS])


@pytest.mark.parametrize("test_loss", [0.0, float("inf"), float("nan")])
def test_a_test_loss_levels_cannot_be_derived_from_is_bad_input_naming_the_fix(test_loss):
    with pytest.raises(AuditInputError) as error:
        sweep_levels(_regime("standard", "standard", accuracy=0.9, tpr=0.05, test_loss=test_loss))
    message = str(error.value)
    assert f"--flood-levels auto cannot derive flood levels: the standard models' mean test loss is {test_loss}" in message
    assert "e.g. --flood-levels 0.05 0.1 0.3" in message and "\n" not in message


def test_the_rule_picks_the_lowest_leak_within_the_tolerance():
    standard = _regime("standard", "standard", accuracy=0.90, tpr=0.05, canary_tpr=0.9)
    flooded = [
        _regime("flood(b=0.1)", "flood", accuracy=0.899, tpr=0.04, canary_tpr=0.80, flood_level=0.1),
        _regime("flood(b=0.2)", "flood", accuracy=0.885, tpr=0.03, canary_tpr=0.50, flood_level=0.2),  # the answer
        _regime("flood(b=0.3)", "flood", accuracy=0.881, tpr=0.02, canary_tpr=0.50, flood_level=0.3),  # tie: lower wins
        _regime("flood(b=0.4)", "flood", accuracy=0.870, tpr=0.01, canary_tpr=0.10, flood_level=0.4),  # too costly
    ]
    sweep = flood_sweep(standard, flooded, test_loss=0.4, tolerance=0.02, main_attack="loss")
    assert sweep.recommended == 0.2
    assert [p.within_tolerance for p in sweep.points] == [True, True, True, False]
    assert sweep.leak_metric == "TPR at 1% FPR on the canaries"
    # Without canaries the population's leak decides: then b = 0.3 (TPR 0.02).
    plain = [_regime(r.label, "flood", accuracy=r.models[0].test_accuracy, tpr=r.attacks["loss"].at(0.01).tpr, flood_level=r.flood_level) for r in flooded]
    base = _regime("standard", "standard", accuracy=0.90, tpr=0.05)
    assert flood_sweep(base, plain, test_loss=0.4, tolerance=0.02, main_attack="loss").recommended == 0.3


def test_no_level_is_recommended_when_none_keeps_the_accuracy():
    points = [SweepPoint(flood_level=b, label="", accuracy_change=-0.1, leak=0.0, within_tolerance=False) for b in (0.1, 0.2)]
    assert recommend(points) is None


def test_dp_sgd_is_interpolated_at_the_flooded_accuracy_or_the_nearest_stands_in():
    regimes = [
        _regime("standard", "standard", accuracy=0.95, tpr=0.06, canary_tpr=0.9),
        _regime("flood(b=0.3)", "flood", accuracy=0.90, tpr=0.03, canary_tpr=0.6, flood_level=0.3),
        _regime("flood(b=0.1)", "flood", accuracy=0.97, tpr=0.05, canary_tpr=0.8, flood_level=0.1),
        _regime("dp(eps=1)", "dp", accuracy=0.80, tpr=0.01, canary_tpr=0.02, epsilon=1.0),
        _regime("dp(eps=8)", "dp", accuracy=0.95, tpr=0.02, canary_tpr=0.2, epsilon=8.0),
    ]
    match_dp_accuracy(regimes, main_attack="loss")
    inside, outside = regimes[1].dp_at_same_accuracy, regimes[2].dp_at_same_accuracy
    assert inside.method == "interpolated" and inside.dp_regimes == ["dp(eps=1)", "dp(eps=8)"]
    weight = (0.90 - 0.80) / (0.95 - 0.80)
    assert inside.dp_leak == pytest.approx(0.01 + weight * 0.01) and inside.dp_test_accuracy == pytest.approx(0.90)
    assert inside.dp_canary_leak == pytest.approx(0.02 + weight * 0.18) and inside.canary_leak == 0.6
    assert outside.method == "nearest" and outside.dp_regimes == ["dp(eps=8)"] and outside.dp_leak == 0.02
    assert regimes[0].dp_at_same_accuracy is None and regimes[3].dp_at_same_accuracy is None


def test_auto_without_the_standard_regime_is_refused_before_training(tmp_path, capsys):
    code = run_main(["--flood-levels", "auto", "--regimes", "dp:8", "flood:0.2", "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "add standard to --regimes" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_auto_with_levels_is_refused(tmp_path, capsys):
    assert run_main(["--flood-levels", "auto", "0.3", "--output-dir", str(tmp_path)]) == 2
    assert "auto stands alone" in capsys.readouterr().err
