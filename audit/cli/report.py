"""Re-render a finished audit's report from its ``results.json``: ``python -m audit.report RUN_DIR``.

Nothing is retrained or recomputed: the report is drawn from the stored results, so a new
report layout (or a lost ``report.html``) costs seconds. Bad input (a missing folder or file,
a results file from another version) ends with a one-line message and exit code 2; a report
that cannot be written (a full disk, no permission), with one line and exit code 1.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from audit.cli.common import OneLineErrorParser, run_command
from audit.errors import AuditInputError, OutputError, one_line
from reports import render_report
from results.records import SCHEMA_VERSION, AuditResult


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_command("python -m audit.report", lambda: _report(args))


def _report(args: argparse.Namespace) -> int:
    result = _load(args.run_dir)
    output = args.output if args.output is not None else args.run_dir / "report.html"
    if output.is_dir():
        raise AuditInputError(f"--output {output} is a folder: give the report's file path, e.g. {output / 'report.html'}")
    if not output.parent.is_dir():
        raise AuditInputError(f"cannot write {output}: folder {output.parent} does not exist; create it or pick another --output")
    try:
        render_report(result, output)
    except OSError as error:
        raise OutputError(
            f"could not write the report to {output} ({error.strerror or error}); any previous report there is "
            "untouched: fix the cause (free space, permissions) or pick another --output, and run the same command again"
        ) from None
    return 0


def _load(run_dir: Path) -> AuditResult:
    """Read and validate ``run_dir/results.json``, turning every way it can be unusable into one message."""
    if not run_dir.exists():
        raise AuditInputError(f"run folder {run_dir} does not exist: pass the folder an audit run wrote")
    if not run_dir.is_dir():
        raise AuditInputError(
            f"{run_dir} is a file, not a run folder: pass the folder that holds results.json"
        )
    path = run_dir / "results.json"
    if not path.is_file():
        raise AuditInputError(
            f"{path} not found: pass the folder of a finished run (python -m audit.run writes results.json there)"
        )
    return read_result(path, rerun="re-run the audit")


def read_result(path: Path, *, rerun: str) -> AuditResult:
    """Read and validate the audit result in ``path`` (a ``results.json``, or gzip-compressed
    ``results.json.gz``), turning every way it can be unusable into one
    :class:`AuditInputError`; ``rerun`` names how to write it again (e.g. ``re-run the audit``)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError) as error:  # EOFError, BadGzipFile (an OSError): a damaged .gz
        raise AuditInputError(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}; give yourself read permission "
            f"(e.g. chmod u+r {path}), or {rerun} if the file is damaged"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AuditInputError(f"{path} is not valid JSON ({one_line(error, 160)}): {rerun} to write it again") from None
    if not isinstance(data, dict):
        raise AuditInputError(f"{path} does not hold an audit result (top level is not an object): {rerun}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise AuditInputError(
            f"{path}: results.json has schema version {data.get('schema_version')!r}; this flood-audit reads "
            f"version {SCHEMA_VERSION}: {rerun} with this version"
        )
    try:
        return AuditResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise AuditInputError(
            f"{path} does not match the results schema (problem at {one_line(error, 160)}): {rerun} with this version"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m audit.report",
        description=(
            "Re-render the HTML privacy report of a finished audit from RUN_DIR/results.json, "
            "without retraining or recomputing anything. Writes RUN_DIR/report.html unless --output is given."
        ),
        epilog=(
            "Exit codes: 0 report written; 1 the report could not be written (a full disk, no permission); "
            "2 unusable input (missing folder or results.json, wrong schema version)."
        ),
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="folder of a finished run, holding results.json"
    )
    parser.add_argument(
        "--output", type=Path, metavar="PATH", help="where to write the report (default: RUN_DIR/report.html)"
    )
    return parser

