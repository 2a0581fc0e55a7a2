"""How much room a piece of text takes, from the font's metrics alone (nothing is drawn)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

POINTS = 72.0  # per inch


@dataclass(frozen=True)
class Extent:
    """Width and height of a piece of text, in inches."""

    width: float
    height: float


@functools.lru_cache(maxsize=4096)  # the same tick labels and legend entries recur in every figure
def text_extent(text: str, size: float, *, rotation: float = 0.0) -> Extent:
    """Extent of ``text`` (lines split at newlines) at ``size`` points, rotated by ``rotation``
    degrees."""
    if not text:
        return Extent(0.0, 0.0)
    prop = FontProperties(size=size)
    lines = text.split("\n")
    widths = [text_to_path.get_text_width_height_descent(line, prop, ismath="$" in line.replace(r"\$", ""))[0]
              for line in lines]
    # Matplotlib spaces lines 1.2 font sizes apart; one line is about that tall with descent.
    extent = Extent(max(widths) / POINTS, 1.2 * size * len(lines) / POINTS)
    if rotation:
        angle = math.radians(rotation)
        return Extent(
            extent.width * abs(math.cos(angle)) + extent.height * abs(math.sin(angle)),
            extent.width * abs(math.sin(angle)) + extent.height * abs(math.cos(angle)),
        )
    return extent
