"""``python -m audit.report RUN_DIR``: re-render from results.json, one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audit.cli import report
from results.records import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]


def _tables(html: str) -> list[str]:
    """Every table of a report, and the verdict: what a re-render must reproduce exactly."""
    tables = re.findall(r"<table\b.*?</table>", html, flags=re.DOTALL)
    verdict = re.search(r'<section id="verdict".*?</section>', html, flags=re.DOTALL)
    assert tables and verdict, "no tables or no verdict"
    return [*tables, verdict.group(0)]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "audit.report", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_rerender_from_results_json_matches_a_direct_render(tmp_path, audit_result, rendered_report):
    (tmp_path / "results.json").write_text(json.dumps(audit_result.to_dict()), encoding="utf-8")
    completed = _run(str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == completed.stderr == ""
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert _tables(html) == _tables(rendered_report[1])
    assert 'id="summary-table"' in html and 'id="attacks-table"' in html and 'id="dp-table"' in html


@pytest.mark.slow
def test_rerender_of_a_real_run_reproduces_every_table(tiny_run, tmp_path):
    """The report audit.run wrote and the one re-rendered from its results.json agree on every
    table (summary, every attack, DP, provenance) and on the verdict."""
    output = tmp_path / "again.html"
    assert report.main([str(tiny_run), "--output", str(output)]) == 0
    original = (tiny_run / "report.html").read_text(encoding="utf-8")
    again = output.read_text(encoding="utf-8")
    assert len(_tables(original)) >= 6  # summary, attacks, DP, configuration, data set, environment
    assert _tables(again) == _tables(original)


def test_missing_run_folder_exits_2_with_one_line(tmp_path):
    completed = _run(str(tmp_path / "nowhere"))
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert str(tmp_path / "nowhere") in completed.stderr


def test_help_explains_the_command():
    completed = _run("--help")
    assert completed.returncode == 0
    assert "results.json" in completed.stdout and "--output" in completed.stdout


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m audit.report: error: ")
    return err


def test_a_file_instead_of_a_run_folder(tmp_path, capsys):
    (tmp_path / "results.json").write_text("{}", encoding="utf-8")
    assert report.main([str(tmp_path / "results.json")]) == 2
    assert "is a file, not a run folder" in _error_line(capsys)


def test_missing_results_json(tmp_path, capsys):
    assert report.main([str(tmp_path)]) == 2
    err = _error_line(capsys)
    assert "results.json not found" in err and "audit.run" in err


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"schema_version": 99}', "schema version 99"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not hold an audit result"),
        (f'{{"schema_version": {SCHEMA_VERSION}, "run_name": "x"}}', "does not match the results schema"),
    ],
)
def test_unusable_results_json(tmp_path, capsys, content, message):
    (tmp_path / "results.json").write_text(content, encoding="utf-8")
    assert report.main([str(tmp_path)]) == 2
    err = _error_line(capsys)
    assert message in err and str(tmp_path / "results.json") in err
    assert not (tmp_path / "report.html").exists()


def test_output_into_a_missing_folder(tmp_path, capsys, audit_result):
    (tmp_path / "results.json").write_text(json.dumps(audit_result.to_dict()), encoding="utf-8")
    assert report.main([str(tmp_path), "--output", str(tmp_path / "no" / "report.html")]) == 2
    assert "does not exist" in _error_line(capsys)
