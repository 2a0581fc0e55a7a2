"""Reading lists of example indices (members, non-members) from ``.npy``, ``.json`` or text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit.errors import AuditInputError

_FORMS = "give the examples' indices in the data set as --dataset loads it (.npy, a JSON list, or text)"


def read_indices(path: str | Path, *, num_examples: int, what: str) -> np.ndarray:
    """Example indices from ``.npy``, ``.json`` (a list, or an object with a ``members`` /
    ``indices`` list) or text (integers separated by white space or commas).

    Returns int64 ``[k]``; refuses indices out of ``[0, num_examples)`` and duplicates.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"{what} file {path} does not exist: check the --{what} path")
    try:
        if path.suffix == ".npy":
            raw = np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            raw = json.loads(path.read_text())
            if isinstance(raw, dict):
                raw = raw.get("members", raw.get("indices"))
        else:
            raw = path.read_text().replace(",", " ").split()
    except (ValueError, TypeError, json.JSONDecodeError):
        raise AuditInputError(f"{what} file {path} must hold integer indices (npy, json list or text)") from None
    return check_indices(raw, num_examples=num_examples, source=f"{what} file {path}")


def check_indices(raw: object, *, num_examples: int, source: str) -> np.ndarray:
    """``raw`` (a list or array of numbers) as int64 indices ``[k]`` into a data set of
    ``num_examples``; refuses an empty list, non-integers, indices out of ``[0,
    num_examples)`` (no negative index silently counting from the end) and duplicates.
    ``source`` names where they came from in the error (e.g. "members file m.npy")."""
    try:
        values = np.asarray(raw, dtype=np.float64).ravel()
    except (ValueError, TypeError):
        raise AuditInputError(f"{source} must hold integer indices: {_FORMS}") from None
    if values.size == 0:
        raise AuditInputError(f"{source} holds no indices: {_FORMS}")
    if not np.all(values == np.round(values)):
        raise AuditInputError(f"{source} holds non-integer values; indices must be whole numbers")
    indices = values.astype(np.int64)
    bad = indices[(indices < 0) | (indices >= num_examples)]
    if bad.size:
        raise AuditInputError(
            f"{source} has {bad.size} indices out of range [0, {num_examples}) (first: {bad[0]}); "
            "indices refer to the data set as --dataset loads it"
        )
    unique, counts = np.unique(indices, return_counts=True)
    if (counts > 1).any():
        raise AuditInputError(
            f"{source} lists {int((counts > 1).sum())} indices more than once (first: {unique[counts > 1][0]}): "
            "list each example once (e.g. numpy.unique of the indices)"
        )
    return indices
