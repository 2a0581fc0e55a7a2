"""Number and name formatting shared by the verdict, the tables and the figure labels.

Missing values arrive as ``None`` (``results.json`` spells NaN that way) or NaN; every
formatter prints them as an en dash rather than failing or printing "nan".
"""

from __future__ import annotations

import math

MISSING = "\u2013"

# Display names for the attacks the toolkit ships; any other name is shown as written.
_ATTACK_NAMES = {
    "lira-online": "LiRA (online)",
    "lira-offline": "LiRA (offline)",
    "loss": "loss threshold",
    "rmia": "RMIA",
}


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None) -> str:
    """A fraction as a percentage: two decimals below 1 %, one above (``0.0035`` -> ``0.35%``)."""
    if is_missing(value):
        return MISSING
    scaled = 100 * value
    return f"{scaled:.2f}%" if abs(scaled) < 1 else f"{scaled:.1f}%"


def percent_interval(interval: list[float] | None) -> str:
    """``[0.021, 0.045]`` -> ``2.1–4.5%``; empty string when there is no interval."""
    if not interval or any(is_missing(v) for v in interval):
        return ""
    # Both ends with the precision of the larger one: "0.6–2.0%", not "0.62–2.0%".
    digits = 2 if 100 * max(abs(v) for v in interval) < 1 else 1
    low, high = (f"{100 * v:.{digits}f}" for v in interval)
    return f"{low}\u2013{high}%"


def decimal(value: float | None, digits: int = 3) -> str:
    if is_missing(value):
        return MISSING
    return f"{value:.{digits}f}"


def decimal_interval(interval: list[float] | None, digits: int = 3) -> str:
    if not interval or any(is_missing(v) for v in interval):
        return ""
    return f"{interval[0]:.{digits}f}\u2013{interval[1]:.{digits}f}"


def general(value: float | None) -> str:
    """Short form for parameters such as flood levels and epsilons (``8.0`` -> ``8``)."""
    if is_missing(value):
        return MISSING
    return f"{value:g}"


def epsilon_text(value: float | None) -> str:
    """An accountant's epsilon to three significant figures (``7.9924`` -> ``7.99``, ``8.0`` -> ``8``):
    the accountant's own precision is far coarser than its float output."""
    if is_missing(value):
        return MISSING
    return f"{value:.3g}"


def attack_name(attack: str) -> str:
    """A readable name for an attack identifier (``lira-online`` -> ``LiRA (online)``)."""
    return _ATTACK_NAMES.get(attack, attack)
