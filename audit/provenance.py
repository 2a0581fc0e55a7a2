"""Where and how a run ran: software versions, hardware, seed and timing."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime
from importlib import metadata

import torch

import audit
from results.records import EnvironmentRecord

_PACKAGES = ("torch", "opacus", "numpy", "scikit-learn", "matplotlib", "jinja2")


def environment_record(device: torch.device, *, started_at: datetime, seconds: float, seed: int) -> EnvironmentRecord:
    """The environment of a run that started at ``started_at`` and took ``seconds``."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return EnvironmentRecord(
        flood_audit=audit.__version__,
        python=sys.version.split()[0],
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        device=str(device),
        device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        packages=versions,
        seed=seed,
        started_at=started_at.isoformat(timespec="seconds"),
        seconds=round(seconds, 2),
    )
