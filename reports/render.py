"""Render an :class:`AuditResult` to one self-contained HTML file.

The page embeds its styles and figures and carries a Content-Security-Policy that forbids
every network request, so it opens offline, can be mailed as one file, and cannot leak the
reader's IP address to anyone. Templates live in ``reports/templates``; autoescaping is
always on because run names, config values and paths are user text.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.context import report_context
from results.files import write_text
from results.records import AuditResult


def render_report(result: AuditResult, path: Path) -> Path:
    """Write the report for ``result`` to ``path`` and return ``path``.

    The file is written to a temporary file in the same folder and renamed into place, so a
    reader never sees a half-written report and an interrupted render leaves the old one.
    """
    path = Path(path)
    write_text(path, _environment().get_template("report.html.j2").render(report_context(result)))
    return path


def _environment() -> Environment:
    # StrictUndefined: a misspelt variable fails the render instead of printing nothing.
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
