"""A realistic synthetic audit for the report tests: five regimes, two attacks, every section filled.

Numbers follow the shape of shared/REFERENCES.md (standard training leaks most, flooding
less as b grows, DP-SGD least and at the largest accuracy cost), drawn from a seeded
generator so every run builds the same result. ROC curves come from the binormal model,
TPR = Phi(Phi^-1(FPR) + d) with d = sqrt(2) Phi^-1(AUC), so each curve matches its AUC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from results.claims import Comparison, Difference, PrivacyAudit
from results.config import AuditConfig
from results.records import (
    AttackSummary,
    AuditResult,
    ClassVulnerability,
    Curve,
    DatasetRecord,
    EnvironmentRecord,
    EpochRecord,
    Histogram,
    ModelSummary,
    RegimeParams,
    RegimeResult,
    Snapshot,
    TprAtFpr,
    VulnerableExample,
)
from results.vocabulary import RegimeKind

MODELS = 4
EPOCHS = 12
NON_MEMBERS_PER_TARGET = 500  # < 1000: TPR at 0.1% FPR is unresolvable, at 1% it is not
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_NORMAL = NormalDist()


@dataclass(frozen=True)
class _Plan:
    """What one synthetic regime should look like."""

    label: str
    regime: RegimeKind
    params: RegimeParams
    final_loss: float
    test_accuracy: float
    member_confidence: float
    auc: dict  # attack -> pooled AUC
    epsilon: float | None = None


PLANS = (
    _Plan("standard", RegimeKind.STANDARD, RegimeParams(), 0.02, 0.552, 0.97, {"loss": 0.66, "lira-online": 0.74}),
    _Plan(
        "flood(b=0.1)", RegimeKind.FLOOD, RegimeParams(flood_level=0.1), 0.10, 0.548, 0.91, {"loss": 0.63, "lira-online": 0.69}
    ),
    _Plan(
        "flood(b=0.3)", RegimeKind.FLOOD, RegimeParams(flood_level=0.3), 0.31, 0.538, 0.78, {"loss": 0.59, "lira-online": 0.62}
    ),
    _Plan(
        "iflood(b=0.2)",
        RegimeKind.IFLOOD,
        RegimeParams(flood_level=0.2),
        0.21,
        0.541,
        0.84,
        {"loss": 0.61, "lira-online": 0.65},
    ),
    _Plan(
        "dp(eps=8)",
        RegimeKind.DP,
        RegimeParams(epsilon=8.0, delta=1e-5, max_grad_norm=1.0),
        1.25,
        0.492,
        0.41,
        {"loss": 0.51, "lira-online": 0.53},
        epsilon=7.93,
    ),
)


def build_audit_result(
    *, run_name: str = "cifar10-flood-sweep", data_path: str = "/data/cifar10"
) -> AuditResult:
    rng = np.random.default_rng(7)
    return AuditResult(
        run_name=run_name,
        config=AuditConfig(
            run_name=run_name,
            dataset=f"imagefolder:{data_path}",
            pool_size=1000,
            regimes=tuple(p.label for p in PLANS),
            models_per_regime=MODELS,
            epochs=EPOCHS,
            learning_rate=0.001,
            attacks=("loss", "lira-online"),
            main_attack="lira-online",
            seed=0,
        ),
        dataset=DatasetRecord(
            name="cifar10", num_classes=10, input_shape=[1, 8, 8], pool_size=1000, test_size=2000, fingerprint="3f9a0c1e"
        ),
        regimes=_compared([_regime(plan, rng) for plan in PLANS]),
        environment=EnvironmentRecord(
            flood_audit="0.2.0",
            python="3.11.7",
            platform="Linux-x86_64",
            cpu_count=2,
            device="cpu",
            device_name="x86_64",
            packages={"torch": "2.14.1", "numpy": "2.4.6", "opacus": "1.5.4"},
            seed=0,
            started_at="2025-01-15T10:42:07+00:00",
            seconds=312.4,
        ),
        main_attack="lira-online",
    )


def _compared(regimes: list[RegimeResult]) -> list[RegimeResult]:
    """Paired comparisons with the standard regime, differences read off the plans."""
    standard, others = regimes[0], regimes[1:]
    level = 1 - 0.05 / (2 * len(others))
    for regime in others:
        leak = regime.attacks["lira-online"].at(0.01).tpr - standard.attacks["lira-online"].at(0.01).tpr
        accuracy = regime.mean("test_accuracy") - standard.mean("test_accuracy")
        regime.versus_standard = Comparison(
            baseline=standard.label,
            metric="tpr",
            leak=Difference(leak, leak - 0.015, leak + 0.015),
            test_accuracy=Difference(accuracy, accuracy - 0.006, accuracy + 0.006),
            level=level,
            family_level=0.95,
            n_comparisons=2 * len(others),
            verdict="cut" if leak + 0.015 < 0 else ("raised" if leak - 0.015 > 0 else "no clear change"),
        )
    return regimes


def _regime(plan: _Plan, rng: np.random.Generator) -> RegimeResult:
    models = [_model(plan, i, rng) for i in range(MODELS)]
    attacks = {name: _attack(name, auc, plan, rng) for name, auc in plan.auc.items()}
    main_auc = plan.auc["lira-online"]
    bound = max(0.0, 6 * (main_auc - 0.5) - 0.05)
    return RegimeResult(
        label=plan.label,
        regime=plan.regime,
        params=plan.params,
        models=models,
        attacks=attacks,
        histograms=_histograms(plan, rng),
        snapshots=[
            Snapshot(
                epoch=e,
                train_loss=_loss_at(plan, e),
                attack="lira-online",
                auc=0.5 + (main_auc - 0.5) * e / EPOCHS,
            )
            for e in range(3, EPOCHS + 1, 3)
        ],
        per_class=[
            ClassVulnerability(
                label=c,
                name=name,
                auc=float(np.clip(main_auc + rng.normal(0, 0.03), 0.4, 1)),
                tpr_at_1pct_fpr=float(rng.uniform(0.01, 0.1)),
                n_members=200,
                n_non_members=200,
            )
            for c, name in enumerate(CLASSES)
        ],
        privacy_audit=PrivacyAudit(
            epsilon_lower_bound=bound,
            confidence=0.95,
            delta=1e-5,
            m=1000,
            r=200,
            v=100 + int(100 * (main_auc - 0.5)),
            k_plus=100,
            k_minus=100,
            attack="lira-online",
            meaning=f"With 95% confidence the training algorithm is not (eps, 1e-05)-DP for any eps below {bound:.2f}.",
        ),
        vulnerable_examples=[
            VulnerableExample(
                index=int(rng.integers(0, 1000)),
                label=int(rng.integers(0, 10)),
                vulnerability=1.0 - 0.01 * k,
                image=rng.uniform(0, 1, (8, 8, 1)).round(3).tolist(),
            )
            for k in range(6)
        ],
    )


def _model(plan: _Plan, index: int, rng: np.random.Generator) -> ModelSummary:
    history = [
        EpochRecord(
            epoch=e,
            train_loss=_loss_at(plan, e) * float(rng.uniform(0.9, 1.1)),
            eval_train_loss=_loss_at(plan, e) * 0.9,
            train_accuracy=min(0.999, 0.4 + 0.6 * (1 - math.exp(-e / 3))),
            test_accuracy=plan.test_accuracy * (1 - math.exp(-e / 2)),
        )
        for e in range(1, EPOCHS + 1)
    ]
    final = history[-1].train_loss
    return ModelSummary(
        index=index,
        train_loss=final,
        train_accuracy=float(np.clip(math.exp(-final) + 0.05, 0, 1)),
        test_accuracy=plan.test_accuracy + float(rng.normal(0, 0.004)),
        member_confidence=plan.member_confidence + float(rng.normal(0, 0.01)),
        non_member_confidence=0.6 * plan.member_confidence + float(rng.normal(0, 0.01)),
        epsilon=None if plan.epsilon is None else plan.epsilon - 0.01 * index,
        history=history,
        seconds=25.0 + index,
    )


def _attack(name: str, auc: float, plan: _Plan, rng: np.random.Generator) -> AttackSummary:
    fpr = np.concatenate([[0.0], np.logspace(-4, 0, 150)])
    separation = math.sqrt(2) * _NORMAL.inv_cdf(auc)
    tpr = np.array([0.0] + [_NORMAL.cdf(_NORMAL.inv_cdf(min(f, 1 - 1e-12)) + separation) for f in fpr[1:]])
    n = MODELS * NON_MEMBERS_PER_TARGET
    tpr_at = []
    for target in (0.001, 0.01):
        value = float(np.interp(target, fpr, tpr))
        half_width = 1.96 * math.sqrt(value * (1 - value) / n) + 0.002
        ci = [max(0.0, value - half_width), value + half_width]
        tpr_at.append(TprAtFpr(fpr=target, tpr=value, resolvable=target >= 0.01, ci=ci))  # as NON_MEMBERS_PER_TARGET says
    return AttackSummary(
        attack=name,
        auc=auc,
        tpr_at_fpr=tpr_at,
        advantage=float(np.max(tpr - fpr)),
        n_members=n,
        n_non_members=n,
        auc_per_target=[auc + float(rng.normal(0, 0.01)) for _ in range(MODELS)],
        roc=Curve(x=fpr.tolist(), y=tpr.tolist()),
        auc_ci=[auc - 0.012, auc + 0.012],
    )


def _histograms(plan: _Plan, rng: np.random.Generator) -> list[Histogram]:
    # Confidence on the true label: members sharply near 1 for standard training, less so
    # with flooding; the non-member spread stays wide.
    members = rng.beta(40 * plan.member_confidence, 40 * (1 - plan.member_confidence) + 1, 2000)
    non_members = rng.beta(4, 2.5, 2000)
    confidence_edges = np.linspace(0, 1, 21)
    loss_edges = np.logspace(-3, 1, 25)
    histograms = []
    for quantity, edges, transform in (
        ("confidence", confidence_edges, lambda p: p),
        ("loss", loss_edges, lambda p: -np.log(np.clip(p, 1e-6, 1))),
    ):
        histograms.append(
            Histogram(
                quantity=quantity,
                edges=edges.tolist(),
                members=np.histogram(np.clip(transform(members), edges[0], edges[-1]), edges)[0].tolist(),
                non_members=np.histogram(np.clip(transform(non_members), edges[0], edges[-1]), edges)[
                    0
                ].tolist(),
            )
        )
    return histograms


def _loss_at(plan: _Plan, epoch: int) -> float:
    """Training loss decaying from ln(10) towards the plan's final loss."""
    return plan.final_loss + (math.log(10) - plan.final_loss) * math.exp(-epoch / 2.5)


def result_of(*regimes: RegimeResult, main_attack: str) -> AuditResult:
    """A result holding ``regimes`` with placeholder configuration, data set and environment
    records (for tests of the parts that read only the regimes)."""
    return AuditResult(
        run_name="t",
        config=AuditConfig(main_attack=main_attack),
        dataset=DatasetRecord(name="d", num_classes=10, input_shape=[1], pool_size=0, test_size=0, fingerprint=""),
        regimes=list(regimes),
        environment=EnvironmentRecord(
            flood_audit="0", python="3", platform="p", cpu_count=1, device="cpu", device_name="cpu",
            packages={}, seed=0, started_at="", seconds=0.0,
        ),
        main_attack=main_attack,
    )
