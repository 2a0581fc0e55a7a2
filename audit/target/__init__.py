"""Auditing one trained model of the user's: loading it safely, reading its member indices,
and the audit that fixes it as the target.

- :mod:`~audit.target.loading`: :func:`load_target_model` (TorchScript, state_dicts,
  flood-audit checkpoints; pickled code refused).
- :mod:`~audit.target.indices`: :func:`read_indices`.
- :mod:`~audit.target.audit`: :func:`audit_target_model`.
"""

from audit.target.audit import TargetAudit, audit_target_model
from audit.target.indices import read_indices
from audit.target.loading import (
    CHECKPOINT_FORMAT,
    TargetModel,
    load_target_model,
    manifest_path,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "TargetAudit",
    "TargetModel",
    "audit_target_model",
    "load_target_model",
    "manifest_path",
    "read_indices",
]
