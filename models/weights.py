"""Model weights as ``.npz`` files: arrays only, so loading never executes code.

Private (Opacus-wrapped) models are saved through their inner module, so a DP model's file
loads into a plain model exactly like a non-private one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from results.files import write_npz


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside an Opacus ``GradSampleModule`` (or the model itself)."""
    return getattr(model, "_module", model)


def save_weights(model: nn.Module, path: Path) -> None:
    """Write ``model``'s state_dict as an ``.npz`` file, atomically (temp file + rename)."""
    state = {name: tensor.detach().cpu().numpy() for name, tensor in unwrap(model).state_dict().items()}
    write_npz(Path(path), compress=False, **state)


def load_weights(model: nn.Module, path: Path) -> nn.Module:
    """Load weights written by :func:`save_weights` into ``model`` (strict); returns it."""
    with np.load(path, allow_pickle=False) as arrays:
        state = {name: torch.from_numpy(arrays[name]) for name in arrays.files}
    unwrap(model).load_state_dict(state, strict=True)
    return model
