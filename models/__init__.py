"""Model architectures by name, and saving/loading their weights without pickle.

Layer: a leaf. It uses torch (and torchvision for ``torchvision:NAME`` specs) and
:mod:`results.files` (atomic writes), never ``attacks``, ``reports`` or ``audit``.

    >>> from models import create_model
    >>> model = create_model("mlp", input_shape=(64,), num_classes=10)
    >>> sum(p.numel() for p in model.parameters()) > 0
    True
"""

from models.device import prepare_for_device, training_autocast
from models.errors import ArchitectureError
from models.identity import architecture_code_version, architecture_identity
from models.registry import (
    available_architectures,
    check_architecture,
    check_architecture_spec,
    create_model,
)
from models.weights import load_weights, save_weights, unwrap

__all__ = [
    "ArchitectureError",
    "architecture_code_version",
    "architecture_identity",
    "available_architectures",
    "check_architecture",
    "check_architecture_spec",
    "create_model",
    "load_weights",
    "prepare_for_device",
    "save_weights",
    "training_autocast",
    "unwrap",
]
