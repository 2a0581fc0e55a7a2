"""Rendering of audit results: figures, the verdict, and the self-contained HTML report.

Layer: above the leaves, below ``audit``. ``reports`` reads result records
(:mod:`results.records`) and uses :mod:`attacks.metrics` only for the DP bound it draws; it
never imports what trains (``audit``, torch), never recomputes a metric and never opens a
raw artifact.
"""

from reports.render import render_report

__all__ = ["render_report"]
