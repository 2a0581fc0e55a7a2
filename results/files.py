"""Writing artifacts (JSON, ``.npz``, text; never pickle) so that an interrupted write never
leaves a half-written file that looks complete: write to a temporary file beside the target,
then rename it into place. The one home of that rule: model weights, cache entries, results
and the HTML report all go through :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file gets the permissions any new file of the user gets (unlike
    ``tempfile.mkstemp``'s private 0600), so a report or result is as readable as if it had
    been written directly. On failure it is removed and ``path`` keeps its old content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, data: Any) -> None:
    """Write JSON-ready ``data`` to ``path`` atomically; NaN and infinity are refused."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_npz(path: Path, *, compress: bool = True, **arrays: np.ndarray) -> None:
    """Write named arrays to an ``.npz`` file atomically (never pickled objects)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        (np.savez_compressed if compress else np.savez)(handle, **arrays)


def digest_sources(digest: Any, packages: Iterable[ModuleType]) -> None:
    """Feed ``digest`` (a ``hashlib`` object) the name and bytes of every module file of each
    package, in name order: the source of what computes a cached artifact, so that a code
    change is another cache key."""
    for package in packages:
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())


def stable_hash(data: Any) -> str:
    """A short hex digest of JSON-serialisable ``data`` (keys sorted): a cache key."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]
