"""Re-render a finished audit's report from its ``results.json``: ``python -m audit.report RUN_DIR``.

Nothing is retrained or recomputed: the report is drawn from the stored results, so a new
report layout (or a lost ``report.html``) costs seconds. Bad input (a missing folder or file,
a results file from another version) ends with a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.cli.common import EXIT_BAD_INPUT
from audit.errors import AuditInputError
from reports import render_report
from results.records import AuditResult


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _load(args.run_dir)
        output = args.output if args.output is not None else args.run_dir / "report.html"
        if not output.parent.is_dir():
            raise AuditInputError(
                f"cannot write {output}: folder {output.parent} does not exist; create it or pick another --output"
            )
        render_report(result, output)
    except AuditInputError as error:
        print(f"python -m audit.report: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AuditInputError(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AuditInputError(
            f"{path} is not valid JSON ({error}): re-run the audit to write it again"
        ) from None
    if not isinstance(data, dict):
        raise AuditInputError(
            f"{path} does not hold an audit result (top level is not an object): re-run the audit"
        )
    try:
        return AuditResult.from_dict(data)
    except ValueError as error:  # schema version mismatch: the message names the fix
        raise AuditInputError(f"{path}: {error}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise AuditInputError(
            f"{path} does not match the results schema (problem at {error}): re-run the audit with this version"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m audit.report",
        description=(
            "Re-render the HTML privacy report of a finished audit from RUN_DIR/results.json, "
            "without retraining or recomputing anything. Writes RUN_DIR/report.html unless --output is given."
        ),
        epilog="Exit codes: 0 report written; 2 unusable input (missing folder or results.json, wrong schema version).",
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="folder of a finished run, holding results.json"
    )
    parser.add_argument(
        "--output", type=Path, metavar="PATH", help="where to write the report (default: RUN_DIR/report.html)"
    )
    return parser

