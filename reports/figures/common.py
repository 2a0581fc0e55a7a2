"""What every figure of the report shares: sizes, colours, legends, literal text.

Figures are about 4 inches wide: on a desktop two sit side by side, on a phone each fills the
screen, and matplotlib's default 10 pt text stays legible in both. Regimes are told apart by
legends below the axes rather than labels beside the points, which collide when two regimes
land close together.
"""

from __future__ import annotations

from reports.formatting import attack_name

WIDTH = 3.8  # inches
MEMBER_COLOUR = "#c2410c"
NON_MEMBER_COLOUR = "#0f766e"
CHANCE = dict(color="0.55", linestyle=":", linewidth=1)
MAX_CLASSES = 20  # more bars than this per regime cannot be read at phone width


def literal(text: str) -> str:
    """User text (regime labels, class names) drawn literally: matplotlib would read $...$ as math."""
    return text.replace("$", r"\$")


def attack_label(attack: str) -> str:
    """An attack's display name, drawn literally."""
    return literal(attack_name(attack))


def log_floor(fpr_curves: list[list[float]]) -> float:
    """Lower limit of log ROC axes: the smallest positive FPR drawn, but not below 1e-5."""
    positive = [v for curve in fpr_curves for v in curve if v is not None and v > 0]
    return max(min(positive, default=1e-3), 1e-5)
