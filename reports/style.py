"""One colour and marker per regime, shared by every figure so a regime looks the same throughout.

Hue encodes the kind of regime (grey: standard, blue: flooding, green: iFlood, red: DP-SGD)
and shade its strength (darker = higher flood level or smaller epsilon), so a reader can tell
"more flooding" from "less" without the legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

from results.records import AuditResult, RegimeResult
from results.vocabulary import RegimeKind

# kind -> (colormap, marker); the colormap is sampled from its light to its dark end.
_KINDS = {
    RegimeKind.STANDARD: ("Greys", "o"),
    RegimeKind.FLOOD: ("Blues", "s"),
    RegimeKind.IFLOOD: ("Greens", "^"),
    RegimeKind.DP: ("Reds", "D"),
}
_OTHER = ("Purples", "P")


@dataclass(frozen=True)
class RegimeStyle:
    colour: tuple[float, float, float, float]
    marker: str


def regime_styles(result: AuditResult) -> dict[str, RegimeStyle]:
    """Map each regime label to its style."""
    styles: dict[str, RegimeStyle] = {}
    for kind in dict.fromkeys(r.regime for r in result.regimes):
        cmap_name, marker = _KINDS.get(kind, _OTHER)
        members = sorted((r for r in result.regimes if r.regime == kind), key=strength)
        # Keep away from the pale end of the colormap: light shades vanish on white paper.
        shades = np.linspace(0.55, 0.95, len(members)) if len(members) > 1 else [0.8]
        for regime, shade in zip(members, shades, strict=True):
            styles[regime.label] = RegimeStyle(colour=colormaps[cmap_name](shade), marker=marker)
    return styles


def strength(regime: RegimeResult) -> float:
    """How strongly a regime regularises: its flood level, or 1/epsilon for DP-SGD."""
    if regime.epsilon is not None:
        return 1.0 / regime.epsilon
    if regime.params.epsilon:
        return 1.0 / regime.params.epsilon
    return regime.flood_level or 0.0
