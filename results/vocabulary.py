"""The small vocabularies every layer shares, defined once: FPR targets, regime kinds,
executors and trainers.

Kept free of torch, numpy and everything else of ours, so that ``attacks``, ``reports`` and
``audit`` can all read them without importing what trains models.
"""

from __future__ import annotations

import enum

# False-positive rates at which every attack's TPR is reported (low FPRs are what matters for
# membership inference: Carlini et al., S&P 2022). Numbers, never strings.
FPR_TARGETS: tuple[float, ...] = (0.001, 0.01)
# The FPR the verdict, the summary table and the frontier figure use.
HEADLINE_FPR: float = 0.01
# Nominal level of every interval the audit reports.
CI_LEVEL: float = 0.95
# Where a pool's models train: this process, or Ray tasks (docs/cluster.md).
EXECUTORS: tuple[str, ...] = ("local", "ray")
# How a pool's models train (--trainer): together as one vectorised ensemble, or one after
# another; auto: together whenever the architecture allows (audit.pool.trainers decides).
TRAINERS: tuple[str, ...] = ("auto", "ensemble", "sequential")


class RegimeKind(str, enum.Enum):
    """What kind of training a regime is; ``dp`` wins for DP-SGD combined with iFlood."""

    STANDARD = "standard"
    FLOOD = "flood"
    IFLOOD = "iflood"
    DP = "dp"

    def __str__(self) -> str:
        return self.value


# Kinds of defence, in the order the verdict and the figures name them.
DEFENCE_KINDS: tuple[RegimeKind, ...] = (RegimeKind.FLOOD, RegimeKind.IFLOOD, RegimeKind.DP)
