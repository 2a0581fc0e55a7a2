"""The records every layer shares: configuration, results, their vocabularies, and how they
are written to disk.

Layer: the bottom. This package imports nothing of flood-audit's and nothing that trains;
``attacks``, ``models``, ``reports`` and ``audit`` all build on it.

- :mod:`results.vocabulary`: FPR targets, regime kinds, the interval level.
- :mod:`results.config`: :class:`AuditConfig`, the settings of one audit.
- :mod:`results.records`: :class:`AuditResult` and the records it holds (``results.json``).
- :mod:`results.claims`: the records behind the report's claims (worst case, epsilon bound,
  comparisons, matched accuracy, flood sweep).
- :mod:`results.serialization`: records to strict JSON and back.
- :mod:`results.files`: atomic writes of JSON, ``.npz`` and text; cache-key hashing.
"""

from results.claims import (
    Comparison,
    Difference,
    DpTuning,
    FloodSweep,
    MatchedDp,
    PrivacyAudit,
    SweepPoint,
    TuningTrial,
    WorstCase,
)
from results.config import AuditConfig, config_fields
from results.records import (
    SCHEMA_VERSION,
    ArchitectureRecord,
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
    ReplicateFigures,
    Snapshot,
    TprAtFpr,
    VulnerableExample,
)
from results.serialization import from_json_dict, to_json_dict
from results.vocabulary import (
    CI_LEVEL,
    DEFENCE_KINDS,
    FPR_TARGETS,
    HEADLINE_FPR,
    RegimeKind,
)

__all__ = [
    "DpTuning",
    "TuningTrial",
    "ArchitectureRecord",
    "CI_LEVEL",
    "DEFENCE_KINDS",
    "FPR_TARGETS",
    "HEADLINE_FPR",
    "SCHEMA_VERSION",
    "AttackSummary",
    "AuditConfig",
    "AuditResult",
    "ClassVulnerability",
    "Comparison",
    "Curve",
    "Difference",
    "DatasetRecord",
    "EnvironmentRecord",
    "EpochRecord",
    "FloodSweep",
    "Histogram",
    "MatchedDp",
    "ModelSummary",
    "PrivacyAudit",
    "RegimeKind",
    "RegimeParams",
    "RegimeResult",
    "ReplicateFigures",
    "Snapshot",
    "SweepPoint",
    "TprAtFpr",
    "VulnerableExample",
    "WorstCase",
    "config_fields",
    "from_json_dict",
    "to_json_dict",
]
