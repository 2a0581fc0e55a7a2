"""This checkout against the first release, measured in one run on this machine.

Seconds measured on different machines do not compare (CPUs differ by 2-4x), so this script
extracts the previous release (``git archive`` of ``--previous``, by default the first
release's last commit) into a temporary folder and times the same commands in both trees,
one process at a time, alternating trees in every round:

1. ``demo, fresh``: the previous demo's configuration from nothing (no model cache). The
   previous tree runs ``python -m audit.run``; this one the same data, regimes, models and
   epochs: ``--pool-size 1000 --canaries 0 --epsilons 8 --no-dp-tuning``. The current code
   still trains one more model per regime than the previous one (the held-out audit model
   of the one-run epsilon bound); that cost is in its time, not taken out.
2. ``demo, cached re-run``: the same command again on the same folder: nothing to train
   (this tree also reads each regime's analysis back from ``cache/analysis``).
   ``re-run, analysis recomputed``: this tree only, the same re-run with ``cache/analysis``
   removed first, so that every attack, interval and bound is computed again as the
   previous code always does (its ratio to the previous re-run has no target: it shows
   what the analysis itself costs now).
3. ``python -m audit.report`` on that run's folder (each tree renders its own results, and
   today's report holds more figures).
4. ``python benchmarks/attack_speed.py``, each tree's own script (whole process).
5. ``--new-demo``: today's default demo from nothing, in this tree only: what the new default
   features (canaries, three epsilons, the DP-SGD search) cost, reported on their own.

Each figure is the least wall time over ``--repeats`` rounds (other work only ever slows a
run down). Prints a table of seconds and ratios (current / previous) against the targets of
issue 11 (<= 1/2 fresh, <= 1/3 the rest); ``--json PATH`` keeps the numbers, and
``--write-docs`` puts the table into README.md and docs/benchmarks.md.

Run: ``python benchmarks/against_previous.py [--repeats 2] [--new-demo] [--write-docs]``
(about 5 minutes on 2 cores; needs the git history of this checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.doc_blocks import markdown_table, replace_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# The first release's last commit ("One train_regime_pool for the audit and the ART benchmark").
PREVIOUS_RELEASE = "a8a88159cefff1fa8ae81c42dd38fb352f2722f2"
# The previous demo's configuration, in this tree's options.
PREVIOUS_DEMO = ["--pool-size", "1000", "--canaries", "0", "--epsilons", "8", "--no-dp-tuning"]


@dataclass(frozen=True)
class Step:
    """One measured command: its name, the target ratio (current / previous) and the figures."""

    name: str
    target: float | None
    previous: float | None
    current: float

    @property
    def ratio(self) -> float | None:
        return None if self.previous is None else self.current / self.previous


def extract(revision: str, folder: Path) -> Path:
    """The files of ``revision`` (``git archive``) under ``folder/previous``."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
            check=True,
            capture_output=True,
        ).stdout
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"against_previous.py: error: cannot read revision {revision} from {ROOT}: "
            f"{error.stderr.decode().strip()}; run from a full clone (git fetch --unshallow) or pass --previous"
        ) from None
    tree = folder / "previous"
    tree.mkdir()
    archive_path = folder / "previous.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(tree, filter="data")
    archive_path.unlink()
    return tree


def timed(command: list[str], *, tree: Path) -> float:
    """Wall seconds of ``command`` run in ``tree`` with that tree's packages first on the path."""
    environment = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(
            f"against_previous.py: error: {' '.join(command)} failed in {tree} "
            f"(exit {completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    return seconds


def check_imports(tree: Path) -> None:
    """Each tree must import its own packages, not an installed copy of the other."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    found = subprocess.run(
        [sys.executable, "-c", "import audit, attacks; print(audit.__file__); print(attacks.__file__)"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not all(Path(path).resolve().is_relative_to(tree.resolve()) for path in found):
        raise SystemExit(f"against_previous.py: error: in {tree}, Python imports {found}, not that tree's code")


def measure(*, previous: Path, work: Path, repeats: int, new_demo: bool) -> list[Step]:
    python = sys.executable
    trees = {"previous": previous, "current": ROOT}
    extra = {"previous": [], "current": PREVIOUS_DEMO}
    best: dict[tuple[str, str], float] = {}

    def keep(step: str, which: str, seconds: float) -> None:
        best[(step, which)] = min(seconds, best.get((step, which), float("inf")))
        print(f"  {step:<22} {which:<8} {seconds:7.1f} s", flush=True)

    for round_number in range(repeats):
        print(f"round {round_number + 1} of {repeats}", flush=True)
        for which, tree in trees.items():
            output = work / f"{which}-{round_number}"
            demo = [python, "-m", "audit.run", "--output-dir", str(output), "--quiet", *extra[which]]
            keep("demo, fresh", which, timed(demo, tree=tree))
            keep("demo, cached re-run", which, timed(demo, tree=tree))
            if which == "current":
                shutil.rmtree(output / "cache" / "analysis")
                keep("re-run, analysis recomputed", which, timed(demo, tree=tree))
            keep("audit.report", which, timed([python, "-m", "audit.report", str(output)], tree=tree))
            keep("attack_speed.py", which, timed([python, "benchmarks/attack_speed.py"], tree=tree))
        if new_demo:
            output = work / f"new-demo-{round_number}"
            keep("today's demo, fresh", "current", timed([python, "-m", "audit.run", "--output-dir", str(output), "--quiet"], tree=ROOT))
    targets = {"demo, fresh": 1 / 2, "demo, cached re-run": 1 / 3, "audit.report": 1 / 3, "attack_speed.py": 1 / 3}
    steps = [
        Step(name, target, best[(name, "previous")], best[(name, "current")]) for name, target in targets.items()
    ]
    recomputed = Step("re-run, analysis recomputed", None, best[("demo, cached re-run", "previous")], best[("re-run, analysis recomputed", "current")])
    steps.insert(2, recomputed)
    if new_demo:
        steps.append(Step("today's demo, fresh", None, None, best[("today's demo, fresh", "current")]))
    return steps


def table(steps: list[Step], *, machine: str, repeats: int) -> str:
    rows = []
    for step in steps:
        ratio = "" if step.ratio is None else f"{step.ratio:.2f}"
        target = "" if step.target is None else f"<= {step.target:.2f}"
        met = "" if step.ratio is None or step.target is None else ("yes" if step.ratio <= step.target else "**no**")
        previous = "" if step.previous is None else f"{step.previous:.1f}"
        rows.append([step.name, previous, f"{step.current:.1f}", ratio, target, met])
    return (
        f"`python benchmarks/against_previous.py --repeats {repeats}` on {machine}; least wall seconds "
        f"of {repeats} round(s), both trees measured in the same run.\n\n"
        + markdown_table(["command", "previous release (s)", "this checkout (s)", "ratio", "target", "met"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", default=PREVIOUS_RELEASE, help="git revision of the previous release")
    parser.add_argument("--repeats", type=int, default=2, help="rounds; the least time of each command is kept")
    parser.add_argument("--new-demo", action="store_true", help="also time today's default demo, fresh")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--write-docs", action="store_true", help="put the table into README.md and docs/benchmarks.md")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"machine: {machine}, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="flood-audit-against-previous-") as folder:
        previous = extract(args.previous, Path(folder))
        check_imports(previous)
        check_imports(ROOT)
        steps = measure(previous=previous, work=Path(folder), repeats=args.repeats, new_demo=args.new_demo)
    text = table(steps, machine=machine, repeats=args.repeats)
    print()
    print(text)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end (other work on the machine slows every figure)")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) | {"ratio": s.ratio} for s in steps], indent=2) + "\n")
    if args.write_docs:
        for path in replace_block("against-previous", text):
            print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
