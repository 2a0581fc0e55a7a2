"""The registry of attacks by name: ``create_attack("lira-online")``, ``available_attacks()``.

Every attack module imports :mod:`attacks.base` for the protocol; this module imports every
attack module, so the dependency runs one way (registry -> attacks -> base).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any

from attacks import label_only, lira, rmia, shadow, threshold
from attacks.base import AttackInputError, MembershipAttack


@dataclass(frozen=True)
class AttackInfo:
    """What ``--attacks`` help lists for one registered attack."""

    name: str
    description: str
    reference: str


@dataclass(frozen=True)
class _Entry:
    """One registry name: an attack class with some of its options fixed."""

    cls: type[MembershipAttack]
    fixed: dict[str, Any]
    description: str


@functools.cache
def _registry() -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for cls in (
        threshold.LossAttack,
        threshold.ConfidenceAttack,
        threshold.EntropyAttack,
        threshold.ModifiedEntropyAttack,
    ):
        entries[cls.name] = _Entry(cls, {}, cls.description)
        entries[f"{cls.name}-class"] = _Entry(cls, {"per_class": True}, f"{cls.description}, one threshold per class")
    for cls in (shadow.ShadowAttack, lira.LiRAOnline, lira.LiRAOffline, rmia.RMIAAttack, label_only.LabelOnlyAttack):
        entries[cls.name] = _Entry(cls, {}, cls.description)
    return entries


def available_attacks() -> dict[str, AttackInfo]:
    """Every registered attack by name, in a stable order (cheap metric attacks first)."""
    return {name: AttackInfo(name, e.description, e.cls.reference) for name, e in _registry().items()}


def create_attack(name: str, **options: Any) -> MembershipAttack:
    """The registered attack ``name`` with ``options`` (keyword settings of its class).

    >>> create_attack("confidence", per_class=True)
    ConfidenceAttack(per_class=True)

    Raises :class:`AttackInputError` for an unknown name (listing the valid ones), an unknown
    option (listing the attack's options) or an unusable option value (naming it).
    """
    registry = _registry()
    if name not in registry:
        raise AttackInputError(f"unknown attack {name!r}; valid attacks: {', '.join(registry)}")
    entry = registry[name]
    valid = [p for p in inspect.signature(entry.cls.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise AttackInputError(
            f"attack {name!r} has no option(s) {', '.join(unknown)}; its options: {', '.join(valid) or 'none'}"
        )
    clashing = {k: v for k, v in options.items() if k in entry.fixed and entry.fixed[k] != v}
    if clashing:
        raise AttackInputError(f"attack {name!r} fixes {entry.fixed}; got {clashing}: use {entry.cls.name!r} instead")
    attack = entry.cls(**{**options, **entry.fixed})
    attack._validate_options()
    return attack
