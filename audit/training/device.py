"""Which torch device an audit trains on."""

from __future__ import annotations

import torch

from audit.errors import AuditInputError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cpu`` and ``cuda[:N]`` as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise AuditInputError(f"device {name!r} asked for, but CUDA is not available here; use --device cpu or auto")
    return torch.device(name)
