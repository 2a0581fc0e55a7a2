"""Speed of every registered attack on a pool the size of a real audit's.

Synthetic logits for M = 16 models x 10,000 candidates x C = 10 classes (A = 1 query):
each candidate has its own difficulty (the true-class margin every model sees) and its own
vulnerability (how much training on it raises that margin), plus per-model noise, so that
per-example calibration (LiRA, RMIA) has something to find. Every model in turn is the
target (``leave_one_out_scores``), then ``evaluate_pooled`` with 200 bootstrap resamples
(two-level intervals).

Run: ``python benchmarks/attack_speed.py [--repeats 3] [--write-docs]``. Prints, per attack,
the median seconds of the leave-one-out scores and of the pooled metrics, the pooled AUC and
TPR at 0.1% FPR, and the total; ``--write-docs`` puts the table into docs/benchmarks.md.
How this compares with the first release's code on the same machine:
``benchmarks/against_previous.py`` (which runs this script in both trees).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attacks import DEFAULT_ATTACKS, evaluate_pooled, leave_one_out_scores  # noqa: E402
from benchmarks.doc_blocks import markdown_table, replace_block  # noqa: E402


def synthetic_pool(*, n_models: int, n: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``logits [M, n, 1, C]`` float32, ``keep [M, n]`` (each candidate IN for half the
    models, built as in LiRA), ``labels [n]``."""
    rng = np.random.default_rng(seed)
    keep = np.argsort(rng.uniform(size=(n_models, n)), axis=0) < n_models // 2
    labels = rng.integers(0, n_classes, size=n)
    difficulty = rng.normal(2.0, 1.5, size=n)  # true-class logit margin, in logit units
    exposure = np.abs(rng.normal(0.0, 1.5, size=n))  # margin gained by training on it
    logits = rng.normal(0.0, 1.0, size=(n_models, n, 1, n_classes))
    margin = difficulty + keep * exposure + rng.normal(0.0, 0.5, size=(n_models, n))
    logits[:, np.arange(n), 0, labels] += margin
    return logits.astype(np.float32), keep, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per attack; the median is printed")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/benchmarks.md")
    args = parser.parse_args()
    logits, keep, labels = synthetic_pool(n_models=16, n=10_000, n_classes=10, seed=0)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"pool: logits {logits.shape}, {machine}")
    print(f"{'attack':<24} {'LOO s':>7} {'metrics s':>9} {'total s':>8} {'AUC':>7} {'TPR@0.1%':>9}")
    total, rows = 0.0, []
    for name in DEFAULT_ATTACKS:
        attack_times, metric_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            scores = leave_one_out_scores(name, logits=logits, keep=keep, labels=labels)
            middle = time.perf_counter()
            pooled = evaluate_pooled(scores, keep)
            attack_times.append(middle - start)
            metric_times.append(time.perf_counter() - middle)
        attack_seconds, metric_seconds = statistics.median(attack_times), statistics.median(metric_times)
        total += attack_seconds + metric_seconds
        print(
            f"{name:<24} {attack_seconds:7.2f} {metric_seconds:9.2f} {attack_seconds + metric_seconds:8.2f} "
            f"{pooled.auc:7.3f} {pooled.tpr_at_fpr[0.001]:9.3f}"
        )
        rows.append(
            [name, f"{attack_seconds:.2f}", f"{metric_seconds:.2f}", f"{attack_seconds + metric_seconds:.2f}",
             f"{pooled.auc:.3f}", f"{pooled.tpr_at_fpr[0.001]:.3f}"]
        )
    print(f"{'total (sum of medians)':<24} {total:26.2f}")
    if args.write_docs:
        rows.append([f"**all {len(rows)}**", "", "", f"**{total:.2f}**", "", ""])
        header = ["attack", "leave-one-out (s)", "metrics (s)", "total (s)", "AUC", "TPR@0.1% FPR"]
        text = (
            f"`python benchmarks/attack_speed.py --repeats {args.repeats}` on {machine}; medians of "
            f"{args.repeats} runs.\n\n" + markdown_table(header, rows)
        )
        for path in replace_block("attack-speed", text):
            print(f"updated {path}")


if __name__ == "__main__":
    main()
