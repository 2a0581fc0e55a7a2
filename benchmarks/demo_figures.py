"""The figures of an audit run as the README prints them: wall time, peak memory, and per
regime the accuracy, the main attack's AUC and TPR at 1% FPR with their intervals, the
canaries' worst case and the one-run epsilon lower bound.

Runs ``python -m audit.run --output-dir TMP --quiet [AUDIT OPTIONS]`` in a fresh folder
(nothing cached) and reads its ``results.json``; or, with ``--run-dir``, reads a finished run
(no times then). ``--write-docs NAME`` puts the table between the ``benchmark:NAME`` markers
of README.md and docs/benchmarks.md (the README's ``demo`` and ``cifar10-preset`` blocks).

Run: ``python benchmarks/demo_figures.py [--write-docs demo] [-- AUDIT OPTIONS]``, e.g.
``python benchmarks/demo_figures.py --write-docs cifar10-preset -- --preset cifar10-cpu
--dataset imagefolder:PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.doc_blocks import markdown_table, replace_block  # noqa: E402
from results.records import AuditResult  # noqa: E402
from results.serialization import from_json_dict  # noqa: E402
from results.vocabulary import HEADLINE_FPR  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_audit(options: list[str], output: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (GB) of one audit run in a child process."""
    command = [sys.executable, "-m", "audit.run", "--output-dir", str(output), "--quiet", *options]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"demo_figures.py: error: {' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: kilobytes
    return seconds, peak_kb / 1024**2


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def interval(values: list[float] | None) -> str:
    return "" if not values else f" [{100 * values[0]:.1f}-{100 * values[1]:.1f}]"


def table(result: AuditResult) -> str:
    attack = result.main_attack
    rows = []
    for regime in result.regimes:
        summary = regime.attacks[attack]
        headline = summary.at(HEADLINE_FPR)
        worst = regime.worst_case
        canary = f"{percent(worst.canary_tpr)} vs {percent(worst.population_tpr)} at {100 * worst.fpr:.2g}% FPR" if worst else ""
        bound = regime.privacy_audit.epsilon_lower_bound if regime.privacy_audit else None
        auc_ci = f" [{summary.auc_ci[0]:.3f}-{summary.auc_ci[1]:.3f}]" if summary.auc_ci else ""
        rows.append(
            [
                regime.label,
                percent(regime.mean("train_accuracy")),
                percent(regime.mean("test_accuracy")),
                f"{regime.mean('train_loss'):.3f}",
                f"{summary.auc:.3f}{auc_ci}",
                f"{percent(headline.tpr)}{interval(headline.ci)}",
                canary,
                "–" if bound is None else f"{bound:.2f}",
            ]
        )
    header = [
        "regime", "train acc", "test acc", "train loss", f"{attack} AUC [95%]", "TPR at 1% FPR [95%]",
        "canaries vs population (TPR)", "ε ≥ (95%)",
    ]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="read this finished run instead of running one")
    parser.add_argument("--write-docs", metavar="NAME", help="put the table into the benchmark:NAME blocks of the docs")
    parser.add_argument("options", nargs="*", help="audit options, after -- (with --run-dir: those the run was made with, for the table's caption)")
    args = parser.parse_args()
    if "--output-dir" in args.options:
        parser.error("leave --output-dir out of the audit options: the run goes to a fresh folder (or use --run-dir)")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    command = "python -m audit.run" + "".join(f" {option}" for option in args.options)
    with tempfile.TemporaryDirectory(prefix="flood-audit-demo-figures-") as folder:
        run_dir = args.run_dir or Path(folder) / "run"
        timing = ""
        if args.run_dir is None:
            seconds, peak = run_audit(args.options, run_dir)
            cached = "with models from its --cache-dir" if "--cache-dir" in args.options else "from nothing cached"
            timing = f" {seconds:.0f} s wall clock, {peak:.1f} GB peak memory, {cached};"
        result = from_json_dict(AuditResult, json.loads((run_dir / "results.json").read_text()))
    text = (
        f"`{command}` on {machine}:{timing} {result.dataset.name}, {len(result.regimes)} regimes x "
        f"{result.config.models_per_regime} models, {result.dataset.pool_size} candidates; intervals over target "
        f"models and candidates; canaries: the main attack's TPR on the canaries and on the population at the "
        f"lowest FPR the canaries resolve; ε ≥: the one-run lower bound on a held-out model.\n\n" + table(result)
    )
    print(text)
    if args.write_docs:
        for path in replace_block(args.write_docs, text):
            print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
