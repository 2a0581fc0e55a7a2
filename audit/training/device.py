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


def choose_threads(requested: int) -> int:
    """Set torch's intra-op threads for this process and return how many.

    ``requested`` > 0 is taken as given. 0 chooses one thread: the audit's models are small
    (the demo's MLP multiplies 64 x 256 matrices), so a second thread mostly adds
    synchronisation, and torch's threads spin while they wait: when anything else runs on a
    2-core machine, default threads made the same audit three times slower (70.9 s against
    23.8 s with one thread). Pass ``--threads N`` for large models on an idle machine.
    """
    threads = requested if requested > 0 else 1
    torch.set_num_threads(threads)
    return threads
