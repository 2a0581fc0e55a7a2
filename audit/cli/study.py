"""Command line: ``python -m audit.study``, the flooding study behind docs/FINDINGS.md.

Runs the study's audit (:mod:`audit.findings.protocol`) on the digits and, when its path is
given, on a CIFAR-10 image folder, then writes docs/FINDINGS.md and its figures from the
results; ``--from-results`` rewrites the page from results already on disk, training nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from audit.cli.common import (
    OneLineErrorParser,
    run_command,
)
from audit.cli.progress import TerminalProgress
from audit.cli.report import read_result
from audit.errors import AuditInputError, OutputError
from audit.findings import cifar10_study, digits_study, findings_page
from results.files import write_bytes, write_text


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m audit.study",
        description=(
            "The flooding study: audit standard training, flooding at levels derived from the standard "
            "model's test loss, iFlood, and DP-SGD at three epsilons (tuned), with canaries, on the digits "
            "and on CIFAR-10; then write docs/FINDINGS.md and its figures from the results."
        ),
        epilog="example: python -m audit.study --cifar10 PATH/TO/cifar10   (a 2-core CPU: about an hour)",
    )
    parser.add_argument("--cifar10", type=Path, metavar="PATH", help="CIFAR-10 as an image folder (class folders, or train/ and test/ folders of them); without it only the digits")
    parser.add_argument("--only", choices=("digits", "cifar10"), help="run one of the two studies")
    parser.add_argument("--output-dir", type=Path, default=Path("study-output"), help="where the audits write (default: %(default)s)")
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="folder of FINDINGS.md (figures go to DOCS/findings) (default: %(default)s)")
    parser.add_argument("--from-results", action="store_true", help="rewrite FINDINGS.md from the results stored in DOCS/findings (every study stored there), training nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command("python -m audit.study", lambda: _study(args))


def _study(args: argparse.Namespace) -> int:
    figures = args.docs / "findings"
    studies = [digits_study()]
    # From stored results the CIFAR-10 study needs no images: it is on the page if it was run.
    if args.cifar10 is not None or (args.from_results and (figures / "cifar10-results.json.gz").is_file()):
        studies.append(cifar10_study(str(args.cifar10 or "")))
    if args.only:
        studies = [s for s in studies if s.name == args.only]
        if not studies:
            raise AuditInputError("--only cifar10 needs --cifar10 PATH (an image folder of CIFAR-10)")
    results = []
    for study in studies:
        stored = figures / f"{study.name}-results.json.gz"
        if not args.from_results:
            _run(study, args.output_dir / study.name, quiet=args.quiet)
            source = args.output_dir / study.name / "results.json"
            _write(
                partial(_copy, source, stored),
                f"could not copy {source} to {stored}",
                again="run the same command again (every model is cached: nothing is retrained)",
            )
        if not stored.is_file():
            raise AuditInputError(f"{stored} not found: run python -m audit.study without --from-results first")
        result = read_result(stored, rerun="run python -m audit.study without --from-results")
        results.append((study.name, study.title, result))
    page = args.docs / "FINDINGS.md"
    _write(
        lambda: write_text(page, findings_page(results, figure_folder=figures, relative_to=args.docs)),
        f"could not write {page} and its figures in {figures}",
        again=f"run python -m audit.study --from-results --docs {args.docs} (it trains nothing)",
    )
    print(f"wrote {page} and its figures in {figures}")
    return 0


def _run(study, output_dir: Path, *, quiet: bool) -> None:
    from dataclasses import replace

    from audit.pipeline import run_audit

    progress = TerminalProgress(quiet=quiet)
    try:
        run_audit(replace(study.config, output_dir=str(output_dir)), events=progress)
    finally:
        progress.close()


def _copy(source: Path, target: Path) -> None:
    """``source`` (a results.json) as compact, gzip-compressed JSON in ``target``: the same
    record in a tenth of the bytes (the findings' copies live in git)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    compact = json.dumps(json.loads(source.read_text(encoding="utf-8")), separators=(",", ":"), allow_nan=False)
    write_bytes(target, gzip.compress(compact.encode("utf-8"), compresslevel=9, mtime=0))


def _write(write: Callable[[], object], failed: str, *, again: str) -> None:
    """Run ``write``; a file-system error becomes one :class:`OutputError` line: ``failed``
    (what could not be written), the reason, and ``again`` (how to finish once fixed)."""
    try:
        write()
    except OSError as error:
        raise OutputError(f"{failed} ({error.strerror or error}): fix the cause (free space, permissions), then {again}") from None
