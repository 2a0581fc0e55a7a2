"""What identifies an architecture: its spec, its options and the structure of its weights.

The identity goes into the model cache key and the report's provenance. The structure hash
covers the state_dict's keys and shapes, not its values: two freshly initialised models of
one architecture share it, so it names the architecture, not one trained model.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from models.errors import ArchitectureError, describe
from models.weights import unwrap


def architecture_identity(model: nn.Module, *, name: str, options: Mapping[str, Any] | None) -> dict:
    """``{"name", "options", "parameters", "structure"}`` of ``model`` built as spec ``name``.

    ``options``: as JSON would hold them (keys sorted, tuples as lists, anything else as its
    ``repr``); ``parameters``: the count of parameter values; ``structure``: the first 16 hex
    digits of the SHA-256 of the sorted state_dict ``(key, shape)`` pairs. Pure: reads the
    model, changes nothing. An Opacus-wrapped model is read through its inner module.

        >>> from torch import nn
        >>> identity = architecture_identity(nn.Linear(3, 2), name="linear", options={})
        >>> identity["parameters"], len(identity["structure"])
        (8, 16)
    """
    module = unwrap(model)
    layout = sorted((key, list(tensor.shape)) for key, tensor in module.state_dict().items())
    return {
        "name": name,
        "options": json.loads(json.dumps(dict(options or {}), sort_keys=True, default=repr)),
        "parameters": sum(p.numel() for p in module.parameters()),
        "structure": hashlib.sha256(json.dumps(layout).encode()).hexdigest()[:16],
    }


def architecture_code_version(name: str) -> str:
    """What, besides flood-audit's own source, determines the code of architecture ``name``,
    for cache keys: a model trained by other code must never be reused.

    ``""`` for a built-in (its source is in ``models/``, which the cache key covers);
    ``"torchvision VERSION"`` for ``torchvision:NAME``; for ``package.module:factory``,
    ``"sha256:"`` and 16 hex digits of the module's source file, read from disk now (the
    module is imported if it is not yet). Only that file: edits to modules it imports are
    not seen, so clear the cache after changing those.

        >>> architecture_code_version("cnn")
        ''
    """
    module_name, separator, _ = name.partition(":")
    if not separator:
        return ""
    if module_name == "torchvision":
        import torchvision

        return f"torchvision {torchvision.__version__}"
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - the user's module: any error while importing it is bad input
        raise ArchitectureError(f"architecture {name!r}: cannot import module {module_name!r} ({describe(error)})") from None
    try:
        source = inspect.getsourcefile(module)
    except TypeError:  # a module compiled into Python has no source file
        source = None
    if source is None:
        return "unknown"
    return "sha256:" + hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]
