"""Model weights as ``.npz`` files: arrays only, so loading never executes code.

Private (Opacus-wrapped) models are saved through their inner module, so a DP model's file
loads into a plain model exactly like a non-private one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside an Opacus ``GradSampleModule`` (or the model itself)."""
    return getattr(model, "_module", model)


def save_weights(model: nn.Module, path: Path) -> None:
    """Write ``model``'s state_dict as an ``.npz`` file, atomically (temp file + rename)."""
    state = {name: tensor.detach().cpu().numpy() for name, tensor in unwrap(model).state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **state)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_weights(model: nn.Module, path: Path) -> nn.Module:
    """Load weights written by :func:`save_weights` into ``model`` (strict); returns it."""
    with np.load(path, allow_pickle=False) as arrays:
        state = {name: torch.from_numpy(arrays[name]) for name in arrays.files}
    unwrap(model).load_state_dict(state, strict=True)
    return model
