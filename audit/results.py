"""Result types of an audit: what ``results.json`` holds and what the report renders.

Plain dataclasses with no torch and no file I/O beyond (de)serialising dicts, so that
``reports`` can depend on them alone. Every figure in the report is drawn from these
objects; nothing is recomputed at render time.

Directions: attack scores are higher = member; ``tpr_at_fpr`` maps an FPR target written as
a string (``"0.001"``) to the largest TPR whose FPR is <= that target.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Curve:
    """A monotone curve sampled at a few hundred points (ROC: x = FPR, y = TPR)."""

    x: list[float]
    y: list[float]


@dataclass
class Histogram:
    """Counts of a per-example quantity for members and non-members over shared bin edges.

    ``edges`` has one more entry than ``members`` and ``non_members``.
    """

    quantity: str
    edges: list[float]
    members: list[int]
    non_members: list[int]


@dataclass
class AttackSummary:
    """One attack against every target model of one regime, pooled over the targets.

    Scores of every target are pooled: ``n_members`` and ``n_non_members`` count pooled
    (target, example) pairs. ``auc_per_target`` holds one AUC per target model (the spread
    across targets). ``tpr_resolvable[k]`` is False when the pooled non-members number fewer
    than 1/FPR for the FPR target ``k``: no threshold can then have an FPR above 0 and at most
    the target, so the TPR there is noise and the report says so. ``auc_ci`` and
    ``tpr_at_fpr_ci`` are bootstrap intervals at level ``ci_level``.

    Added after schema version 1 was first written, with defaults so older files still load:
    ``ci_level``, ``n_targets`` (target models pooled) and ``min_non_members_per_target``
    (the fewest non-members any one target had; below 1/FPR a single target cannot resolve
    that FPR, which the report's footnote states).
    """

    attack: str
    auc: float
    tpr_at_fpr: dict[str, float]
    tpr_resolvable: dict[str, bool]
    advantage: float
    n_members: int
    n_non_members: int
    auc_per_target: list[float]
    roc: Curve
    auc_ci: list[float] | None = None
    tpr_at_fpr_ci: dict[str, list[float]] | None = None
    epsilon_lower_bound: float | None = None
    ci_level: float = 0.95
    n_targets: int | None = None
    min_non_members_per_target: int | None = None

    @property
    def auc_spread(self) -> float:
        """Standard deviation of the per-target AUCs (0 for a single target)."""
        n = len(self.auc_per_target)
        if n < 2:
            return 0.0
        mean = sum(self.auc_per_target) / n
        return math.sqrt(sum((a - mean) ** 2 for a in self.auc_per_target) / (n - 1))


@dataclass
class EpochRecord:
    """Training history of one model after one epoch.

    ``train_loss`` is the mean of the objective's mini-batch cross-entropy over the epoch
    (what flooding acts on); ``eval_train_loss`` and the accuracies are measured in eval mode
    after the epoch on the first 1,024 examples (in random order) of the model's training
    half and of the test part.
    """

    epoch: int
    train_loss: float
    eval_train_loss: float
    train_accuracy: float
    test_accuracy: float


@dataclass
class ModelSummary:
    """One trained model of a pool: its final figures and per-epoch history."""

    index: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float
    member_confidence: float
    non_member_confidence: float
    epsilon: float | None
    history: list[EpochRecord]
    seconds: float
    cached: bool = False


@dataclass
class Snapshot:
    """The pool of a regime as it stood after ``epoch``: mean training loss and the attack's
    pooled AUC on the models' snapshot outputs (the curve of leak against training loss)."""

    epoch: int
    train_loss: float
    attack: str
    auc: float


@dataclass
class ClassVulnerability:
    """The main attack's figures restricted to the candidates of one class."""

    label: int
    name: str
    auc: float
    tpr_at_1pct_fpr: float
    n_members: int
    n_non_members: int


@dataclass
class VulnerableExample:
    """One of the audit-pool examples the main attack identifies most reliably.

    ``vulnerability`` is the mean over the models where the example is IN of the fraction of
    that model's non-members it outscores (1.0 = always ranked above every non-member).
    ``image`` is ``[H][W][channels]`` in [0, 1] for image data, else None; ``features`` holds
    the raw row for tabular data (at most 32 values).
    """

    index: int
    label: int
    vulnerability: float
    image: list | None = None
    features: list[float] | None = None


@dataclass
class RegimeResult:
    """Everything measured for one training regime (a pool of M models)."""

    label: str
    regime: str
    params: dict[str, float]
    models: list[ModelSummary]
    attacks: dict[str, AttackSummary]
    histograms: list[Histogram] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    per_class: list[ClassVulnerability] = field(default_factory=list)
    vulnerable_examples: list[VulnerableExample] = field(default_factory=list)

    def mean(self, attribute: str) -> float:
        """Mean of a :class:`ModelSummary` attribute over the pool (NaN where undefined)."""
        values = [getattr(m, attribute) for m in self.models if getattr(m, attribute) is not None]
        return sum(values) / len(values) if values else math.nan

    @property
    def flood_level(self) -> float | None:
        return self.params.get("flood_level")

    @property
    def epsilon(self) -> float | None:
        """Privacy spent by the accountant (the largest over the pool), None if not DP."""
        eps = [m.epsilon for m in self.models if m.epsilon is not None]
        return max(eps) if eps else None


@dataclass
class AuditResult:
    """The outcome of one audit, as written to ``results.json``."""

    run_name: str
    config: dict[str, Any]
    dataset: dict[str, Any]
    regimes: list[RegimeResult]
    environment: dict[str, Any]
    main_attack: str
    schema_version: int = SCHEMA_VERSION

    def regime(self, label: str) -> RegimeResult:
        for regime in self.regimes:
            if regime.label == label:
                return regime
        raise KeyError(f"no regime labelled {label!r}; have {[r.label for r in self.regimes]}")

    def to_dict(self) -> dict[str, Any]:
        return _finite(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditResult:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"results.json has schema version {version!r}; this flood-audit reads version "
                f"{SCHEMA_VERSION}: re-run the audit with this version"
            )
        regimes = [_regime_from_dict(r) for r in data["regimes"]]
        return cls(
            run_name=data["run_name"],
            config=data["config"],
            dataset=data["dataset"],
            regimes=regimes,
            environment=data["environment"],
            main_attack=data["main_attack"],
            schema_version=version,
        )


def _regime_from_dict(data: dict[str, Any]) -> RegimeResult:
    models = [
        ModelSummary(**{**m, "history": [EpochRecord(**e) for e in m["history"]]})
        for m in data["models"]
    ]
    attacks = {
        name: AttackSummary(**{**a, "roc": Curve(**a["roc"])}) for name, a in data["attacks"].items()
    }
    return RegimeResult(
        label=data["label"],
        regime=data["regime"],
        params=data["params"],
        models=models,
        attacks=attacks,
        histograms=[Histogram(**h) for h in data["histograms"]],
        snapshots=[Snapshot(**s) for s in data["snapshots"]],
        per_class=[ClassVulnerability(**c) for c in data["per_class"]],
        vulnerable_examples=[VulnerableExample(**v) for v in data["vulnerable_examples"]],
    )


def _finite(value: Any) -> Any:
    """Replace NaN and infinities by None: strict JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
