"""Figures the documentation prints, rewritten by the benchmark that measured them.

A benchmark run with ``--write-docs`` replaces the text between ``<!-- benchmark:NAME -->``
and ``<!-- /benchmark:NAME -->`` in README.md and docs/benchmarks.md with its fresh table,
so no figure in them is typed by hand or outlives the code it measured.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "benchmarks.md")


def replace_block(name: str, text: str, *, documents: tuple[Path, ...] = DOCUMENTS) -> list[Path]:
    """Put ``text`` between the ``name`` markers of every document that has them; returns the
    documents changed. A document with an opening marker and no closing one is an error."""
    opening, closing = f"<!-- benchmark:{name} -->", f"<!-- /benchmark:{name} -->"
    pattern = re.compile(re.escape(opening) + r".*?" + re.escape(closing), flags=re.DOTALL)
    changed = []
    for path in documents:
        content = path.read_text(encoding="utf-8")
        if opening not in content:
            continue
        if closing not in content:
            raise ValueError(f"{path}: {opening} has no {closing}")
        updated = pattern.sub(lambda _: f"{opening}\n{text.strip()}\n{closing}", content)
        if updated != content:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
