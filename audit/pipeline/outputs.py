"""The output folder of an audit: checked before anything trains, written so that a reader
never sees a mix of two runs.

Every output of a run (``results.json``, ``scores.npz``, ``config.toml``, ``report.html``)
is first written completely under a staging name in the output folder; only when all of
them exist are they renamed into place, one quick rename each (renames need no free space).
A run that fails while writing (a full disk while rendering, say) removes its staged files
and leaves the previous run's outputs as they were; the trained models stay in the cache.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audit.config import write_config_toml
from audit.errors import AuditInputError, OutputError
from reports import render_report
from results.config import AuditConfig
from results.files import write_json, write_npz
from results.records import AuditResult

OUTPUT_FILES = ("results.json", "scores.npz", "config.toml", "report.html")


def check_writable(folder: Path, *, what: str, option: str) -> None:
    """Create ``folder`` if needed and prove a file can be written there, or raise
    :class:`AuditInputError` naming the folder, the reason and the option to change."""
    if folder.exists() and not folder.is_dir():
        raise AuditInputError(f"{what} {folder} is a file, not a folder: pass another {option} or remove the file")
    probe = folder / f".write-test-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise AuditInputError(
            f"cannot write to {what} {folder} ({error.strerror or error}): pass another {option}"
        ) from None


def write_outputs(
    folder: Path, *, result: AuditResult, config: AuditConfig, arrays: dict[str, np.ndarray], cache_dir: Path
) -> None:
    """Write every output of a run into ``folder``: all staged first, then renamed into place.

    Raises :class:`OutputError` (one line, the cached models named) if any of them cannot be
    written; the folder then still holds the previous run's outputs, untouched.
    """
    stamp = secrets.token_hex(4)
    writers: dict[str, Callable[[Path], object]] = {
        "scores.npz": lambda path: write_npz(path, **arrays),
        "results.json": lambda path: write_json(path, result.to_dict()),
        "config.toml": lambda path: write_config_toml(path, config),
        "report.html": lambda path: render_report(result, path),
    }
    staged: list[tuple[Path, Path]] = []
    try:
        for name in OUTPUT_FILES:
            path = folder / f".{name}.{stamp}.staged"
            staged.append((path, folder / name))
            writers[name](path)
    except OSError as error:
        for path, _ in staged:
            path.unlink(missing_ok=True)
        raise OutputError(
            f"could not write the outputs to {folder} ({error.strerror or error}); the previous outputs are "
            f"untouched and every trained model is cached in {cache_dir}: fix the cause and run the same command "
            "again (nothing will be retrained)"
        ) from None
    except BaseException:
        for path, _ in staged:
            path.unlink(missing_ok=True)
        raise
    for path, final in staged:
        os.replace(path, final)
