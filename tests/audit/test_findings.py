"""docs/FINDINGS.md is a function of the study's results.json: regenerating it from the stored
JSON gives the same page and the same figure bytes, and its table's numbers are the results'."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import matplotlib
import pytest

from audit.cli import study
from audit.findings.markdown import findings_page
from reports.formatting import decimal, percent
from results.records import AuditResult
from results.vocabulary import HEADLINE_FPR
from tests.reports.synthetic import build_audit_result


@pytest.fixture(scope="module")
def audit_result() -> AuditResult:
    return build_audit_result()


def _write(tmp_path, result: AuditResult, folder: str) -> tuple[str, dict[str, bytes]]:
    docs = tmp_path / folder
    figures = docs / "findings"
    page = findings_page([("synthetic", "A synthetic study", result)], figure_folder=figures, relative_to=docs)
    return page, {path.name: path.read_bytes() for path in sorted(figures.iterdir())}


def test_the_page_regenerated_from_stored_results_is_the_same_page_and_figures(tmp_path, audit_result):
    first_page, first_figures = _write(tmp_path, audit_result, "first")
    stored = AuditResult.from_dict(json.loads(json.dumps(audit_result.to_dict())))  # as --from-results reads it
    second_page, second_figures = _write(tmp_path, stored, "second")
    assert second_page == first_page
    assert first_figures and second_figures == first_figures


def test_every_table_row_carries_the_results_figures(tmp_path, audit_result):
    page, _ = _write(tmp_path, audit_result, "page")
    rows = {line.split(" | ")[0].lstrip("| "): line for line in page.splitlines() if line.startswith("| ")}
    for regime in audit_result.regimes:
        row = rows[regime.label]
        summary = regime.attacks[audit_result.main_attack]
        assert percent(regime.mean("test_accuracy")) in row
        assert decimal(summary.auc) in row
        assert percent(summary.at(HEADLINE_FPR).tpr) in row


def test_the_committed_findings_page_and_figures_are_those_of_the_stored_results(tmp_path):
    """docs/FINDINGS.md and docs/findings/*.png, as committed, are what ``python -m
    audit.study --from-results`` writes from the committed results: nothing edited by hand,
    nothing left over from an older run."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    stored = sorted((docs / "findings").glob("*-results.json.gz"))
    if not stored:
        pytest.skip("no stored study results in docs/findings")
    (tmp_path / "findings").mkdir()
    for path in stored:
        shutil.copy(path, tmp_path / "findings" / path.name)
    assert study.main(["--from-results", "--docs", str(tmp_path)]) == 0
    assert (tmp_path / "FINDINGS.md").read_text(encoding="utf-8") == (docs / "FINDINGS.md").read_text(encoding="utf-8")
    # PNG bytes depend on matplotlib's version (its bundled fonts and rasteriser): compare
    # them where it is the one the results were drawn with, the figures' names everywhere.
    drawn = sorted(path.name for path in (tmp_path / "findings").glob("*.png"))
    assert drawn == sorted(path.name for path in (docs / "findings").glob("*.png"))
    environment = json.loads(gzip.decompress(stored[0].read_bytes()))["environment"]
    if environment["packages"].get("matplotlib") == matplotlib.__version__:
        for name in drawn:
            assert (tmp_path / "findings" / name).read_bytes() == (docs / "findings" / name).read_bytes(), name
