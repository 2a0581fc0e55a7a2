"""Render an :class:`AuditResult` to one self-contained HTML file.

The page embeds its styles and figures and carries a Content-Security-Policy that forbids
every network request, so it opens offline, can be mailed as one file, and cannot leak the
reader's IP address to anyone. Templates live in ``reports/templates``; autoescaping is
always on because run names, config values and paths are user text.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket

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
        bytecode_cache=_compiled_templates(),
    )


class _TemplateCache(FileSystemBytecodeCache):
    """jinja2's cache of compiled templates, which a failed write (a full or read-only
    temporary folder) only leaves unused."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def _compiled_templates() -> FileSystemBytecodeCache | None:
    """Compiled templates kept between runs, as Python keeps ``.pyc`` files: compiling the
    report's template took 0.1 s of every render. jinja2 keys each entry by the template's
    checksum and its own version, in a folder of the temporary directory only this user can
    read; None where it cannot make one safely (the template is then compiled every time)."""
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):
        return None
