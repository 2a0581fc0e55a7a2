"""What this process may use of the machine it runs on."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The CPU cores this process may run on: ``sched_getaffinity`` honours limits set on it
    (taskset, container CPU sets) where ``os.cpu_count`` reports the whole machine; macOS
    lacks it."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
