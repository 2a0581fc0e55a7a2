"""Rendering of audit results: figures, the verdict, and the self-contained HTML report.

``reports`` reads result types (:mod:`audit.results`) only: it never recomputes a metric and
never opens a raw artifact.
"""

from reports.render import render_report

__all__ = ["render_report"]
