"""Result records of an audit: what ``results.json`` holds and what the report renders.

Plain dataclasses, no torch, no numpy, no file I/O: every layer can depend on them, and
:mod:`results.serialization` turns them into JSON and back. Every figure in the report is
drawn from these objects; nothing is recomputed at render time.

Directions: attack scores are higher = member; a TPR "at FPR t" is the largest TPR whose FPR
is <= t. Rates and accuracies are fractions in [0, 1]; losses are cross-entropies in nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from results.claims import (
    Comparison,
    DpTuning,
    FloodSweep,
    MatchedDp,
    PrivacyAudit,
    WorstCase,
)
from results.config import AuditConfig
from results.serialization import from_json_dict, to_json_dict
from results.vocabulary import CI_LEVEL, RegimeKind

SCHEMA_VERSION = 2


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
class TprAtFpr:
    """An attack's TPR at one FPR target.

    ``resolvable`` is False when the pooled non-members number fewer than 1/``fpr``: no
    threshold can then have an FPR above 0 and at most ``fpr``, so ``tpr`` is noise and the
    report says so. ``ci``: interval at the attack's ``ci_level``, or None.
    """

    fpr: float
    tpr: float
    resolvable: bool
    ci: list[float] | None = None


@dataclass
class AttackSummary:
    """One attack against every target model of one regime, pooled over the targets.

    ``n_members`` and ``n_non_members`` count pooled (target, example) pairs.
    ``auc_per_target`` holds one AUC per target model (the spread across targets);
    ``n_targets`` target models were pooled, the fewest non-members of any one of them being
    ``min_non_members_per_target`` (below 1/FPR a single target cannot resolve that FPR).
    """

    attack: str
    auc: float
    tpr_at_fpr: list[TprAtFpr]
    advantage: float
    n_members: int
    n_non_members: int
    auc_per_target: list[float]
    roc: Curve
    auc_ci: list[float] | None = None
    ci_level: float = CI_LEVEL
    n_targets: int | None = None
    min_non_members_per_target: int | None = None

    def at(self, fpr: float) -> TprAtFpr | None:
        """The TPR record at the FPR target ``fpr`` (matched by value), or None."""
        return next((t for t in self.tpr_at_fpr if math.isclose(t.fpr, fpr, rel_tol=1e-9)), None)

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

    Two training losses, measured differently: ``train_loss`` is the running mean, over the
    epoch's mini-batches, of the cross-entropy in training mode as each batch was seen
    (what flooding acts on; not the flooded objective itself); ``eval_train_loss`` is the
    cross-entropy in eval mode after the epoch. It, the accuracies and ``test_loss`` are
    measured on the first 1,024 examples (in random order) of the model's training half and
    of the test part.
    """

    epoch: int
    train_loss: float
    eval_train_loss: float
    train_accuracy: float
    test_accuracy: float
    test_loss: float = math.nan


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
class RegimeParams:
    """A regime's numeric settings; None where they do not apply."""

    flood_level: float | None = None
    epsilon: float | None = None
    delta: float | None = None
    max_grad_norm: float | None = None


@dataclass
class ReplicateFigures:
    """One replicate's headline figures for one regime: the main attack's pooled ``auc`` and
    ``tpr`` at the headline FPR, the mean ``test_accuracy`` of the pool's models, and the
    one-run ``epsilon_lower_bound`` of the replicate's own audit model."""

    replicate: int
    seed: int
    auc: float
    tpr: float
    test_accuracy: float
    epsilon_lower_bound: float | None = None


@dataclass
class RegimeResult:
    """Everything measured for one training regime (a pool of M models).

    ``attacks`` are measured on the population (every candidate but the canaries),
    ``canary_attacks`` on the canaries alone (empty without canaries); ``histograms`` and
    ``per_class`` describe the population. ``substitutions`` lists the layers DP-SGD had to
    replace to train the architecture (one line each; ``substitution_summary`` counts them
    by kind); empty when none were needed."""

    label: str
    regime: RegimeKind
    params: RegimeParams
    models: list[ModelSummary]
    attacks: dict[str, AttackSummary]
    histograms: list[Histogram] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    per_class: list[ClassVulnerability] = field(default_factory=list)
    vulnerable_examples: list[VulnerableExample] = field(default_factory=list)
    replicates: list[ReplicateFigures] = field(default_factory=list)
    privacy_audit: PrivacyAudit | None = None
    versus_standard: Comparison | None = None
    canary_attacks: dict[str, AttackSummary] = field(default_factory=dict)
    worst_case: WorstCase | None = None
    dp_at_same_accuracy: MatchedDp | None = None
    dp_tuning: DpTuning | None = None
    substitutions: list[str] = field(default_factory=list)
    substitution_summary: list[str] = field(default_factory=list)

    def mean(self, attribute: str) -> float:
        """Mean of a :class:`ModelSummary` attribute over the pool (NaN where undefined)."""
        values = [getattr(m, attribute) for m in self.models if getattr(m, attribute) is not None]
        return sum(values) / len(values) if values else math.nan

    @property
    def flood_level(self) -> float | None:
        return self.params.flood_level

    @property
    def epsilon(self) -> float | None:
        """Privacy spent by the accountant (the largest over the pool), None if not DP."""
        eps = [m.epsilon for m in self.models if m.epsilon is not None]
        return max(eps) if eps else None


@dataclass
class DatasetRecord:
    """The data set an audit drew its candidates from.

    ``input_shape``: one example's shape (``[C, H, W]`` for images, ``[F]`` for tables);
    ``pool_size`` candidates; ``test_size`` held-out examples; ``fingerprint``: digest of the
    data, part of every cache key; ``class_names``: one per class where the data set names
    them (image folders, torchvision data sets), else empty.
    """

    name: str
    num_classes: int
    input_shape: list[int]
    pool_size: int
    test_size: int
    fingerprint: str
    class_names: list[str] = field(default_factory=list)


@dataclass
class ArchitectureRecord:
    """The architecture every model of the audit was built as: its spec ``name`` and
    ``options``, its ``parameters`` count, ``structure`` (a hash of the state_dict's keys and
    shapes) and ``code`` (the torchvision version or the user factory's source hash; empty for
    the built-ins). All of it is part of every model's cache key."""

    name: str
    options: dict[str, Any]
    parameters: int
    structure: str
    code: str


@dataclass
class EnvironmentRecord:
    """Software, hardware, seed and timing of a run (``seconds``: wall clock of the run)."""

    flood_audit: str
    python: str
    platform: str
    cpu_count: int | None
    device: str
    device_name: str
    packages: dict[str, str]
    seed: int
    started_at: str
    seconds: float


@dataclass
class AuditResult:
    """The outcome of one audit, as written to ``results.json``."""

    run_name: str
    config: AuditConfig
    dataset: DatasetRecord
    regimes: list[RegimeResult]
    environment: EnvironmentRecord
    main_attack: str
    flood_sweep: FloodSweep | None = None
    architecture: ArchitectureRecord | None = None
    schema_version: int = SCHEMA_VERSION

    def regime(self, label: str) -> RegimeResult:
        for regime in self.regimes:
            if regime.label == label:
                return regime
        raise KeyError(f"no regime labelled {label!r}; have {[r.label for r in self.regimes]}")

    def to_dict(self) -> dict:
        """Strict-JSON-ready values (NaN and infinities become None)."""
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AuditResult:
        """Read parsed ``results.json``; ``ValueError`` for another schema version, ``KeyError``
        or ``TypeError`` (naming the field) for a file that does not match this one."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"results.json has schema version {version!r}; this flood-audit reads version "
                f"{SCHEMA_VERSION}: re-run the audit with this version"
            )
        return from_json_dict(cls, data)
