"""The records every layer shares: configuration, results, their vocabularies, and how they
are written to disk.

Layer: the bottom. This package imports nothing of flood-audit's and nothing that trains;
``attacks``, ``models``, ``reports`` and ``audit`` all build on it.

- :mod:`results.vocabulary`: FPR targets, regime kinds, the interval level.
- :mod:`results.config`: :class:`AuditConfig`, the settings of one audit.
- :mod:`results.records`: :class:`AuditResult` and the records it holds (``results.json``).
- :mod:`results.serialization`: records to strict JSON and back.
- :mod:`results.files`: atomic writes of JSON, ``.npz`` and text; cache-key hashing.
"""

from results.config import AuditConfig, config_fields
from results.records import (
    SCHEMA_VERSION,
    AttackSummary,
    AuditResult,
    ClassVulnerability,
    Comparison,
    Curve,
    DatasetRecord,
    Difference,
    EnvironmentRecord,
    EpochRecord,
    Histogram,
    ModelSummary,
    PrivacyAudit,
    RegimeParams,
    RegimeResult,
    ReplicateFigures,
    Snapshot,
    TprAtFpr,
    VulnerableExample,
    WorstCase,
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
    "Histogram",
    "ModelSummary",
    "PrivacyAudit",
    "RegimeKind",
    "RegimeParams",
    "RegimeResult",
    "ReplicateFigures",
    "Snapshot",
    "TprAtFpr",
    "VulnerableExample",
    "WorstCase",
    "config_fields",
    "from_json_dict",
    "to_json_dict",
]
