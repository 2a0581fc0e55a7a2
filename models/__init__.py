"""Model architectures by name, and saving/loading their weights without pickle.

Layer: a leaf. It uses torch and :mod:`results.files` (atomic writes), never ``attacks``,
``reports`` or ``audit``.

    >>> from models import create_model
    >>> model = create_model("mlp", input_shape=(64,), num_classes=10)
    >>> sum(p.numel() for p in model.parameters()) > 0
    True
"""

from models.registry import available_architectures, create_model
from models.weights import load_weights, save_weights, unwrap

__all__ = ["available_architectures", "create_model", "load_weights", "save_weights", "unwrap"]
