"""The report's provenance tables: the effective configuration, the data set and the
environment, as ``(key, text)`` pairs."""

from __future__ import annotations

import json
from typing import Any

from reports.formatting import MISSING, general
from results.records import AuditResult
from results.serialization import to_json_dict


def flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as ``(dotted.key, text)`` pairs, in the mapping's own order."""
    pairs = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            pairs.extend(flatten(value, prefix=f"{name}."))
        else:
            pairs.append((name, _setting_text(value)))
    return pairs


def effective_config(result: AuditResult) -> list[tuple[str, str]]:
    """The configuration as flattened pairs, with "use the default" values spelled out.

    An empty ``regimes`` or ``attacks`` list means "the default set"; the result records
    exactly which regimes and attacks ran, so those are shown instead of ``[]``. Other empty
    strings are shown as "(default)" rather than as a blank cell.
    """
    ran = {
        "regimes": ", ".join(r.label for r in result.regimes),
        "attacks": ", ".join(dict.fromkeys(name for r in result.regimes for name in r.attacks)),
    }
    pairs = []
    config = to_json_dict(result.config)
    for key, value in flatten(config):
        raw = config.get(key)
        if key in ran and raw in ([], ()) and ran[key]:
            value = f"{ran[key]} (default)"
        elif key == "test_size" and raw == 0:
            value = f"0 (default: every example outside the pool, {result.dataset.test_size} here)"
        elif raw == "":
            value = "(default)"
        pairs.append((key, value))
    return pairs


def environment_pairs(result: AuditResult) -> list[tuple[str, str]]:
    """The environment as flattened pairs; durations carry their unit, and a last pair says
    how many models this run trained and how many it loaded from the cache (a run that
    found every model cached takes seconds, which the duration alone would not explain)."""
    pairs = []
    environment = to_json_dict(result.environment)
    for key, value in flatten(environment):
        raw = environment.get(key)
        if key in ("seconds", "duration_seconds") and isinstance(raw, (int, float)):
            minutes, seconds = divmod(raw, 60)
            value = f"{raw:.1f} s" + (f" ({int(minutes)} min {seconds:.0f} s)" if minutes else "")
        pairs.append((key, value))
    models = [m for r in result.regimes for m in r.models]
    if models:
        cached = sum(m.cached for m in models)
        trained = len(models) - cached
        text = f"{len(models)} in {len(result.regimes)} pools: {trained} trained in this run, {cached} loaded from the cache"
        pairs.append(("models", text))
    return pairs


def _setting_text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return general(value)
    return json.dumps(value, ensure_ascii=False)
