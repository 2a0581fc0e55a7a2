"""How long the README's worked example (auditing a torchvision ResNet-18 trained on 10,000
CIFAR-10 images) takes on this machine, from a scaled-down run of the same audit.

The full audit is too long to time on a CPU, so this runs ``python -m audit.run`` with
``--arch torchvision:resnet18`` on a few hundred CIFAR-10 images for one epoch, with the
example's three regimes (standard, flooding, DP-SGD), reads every model's training seconds
from its ``results.json``, and scales the seconds per training image and epoch of each regime
up to the example: 8 reference models per regime, each on 10,000 images for 20 epochs, and
DP-SGD's search (``--dp-search-budget`` configurations on the 10,000 images set aside, at
the example's epochs on average). Training is linear in images x epochs for a fixed batch
size, so the scaled figure is a training-time estimate; the attacks and report add minutes.

Run: ``python benchmarks/resnet18_time.py --cifar10 PATH [--write-docs]`` (PATH: CIFAR-10 as
an image folder; about 3 minutes on 2 cores). ``--write-docs`` puts the estimate into the
README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.doc_blocks import replace_block  # noqa: E402

# The worked example of the README.
EXAMPLE_MODELS_PER_REGIME = 8
EXAMPLE_TRAIN_SIZE = 10_000
EXAMPLE_EPOCHS = 20
EXAMPLE_SEARCH_BUDGET = 8  # the default --dp-search-budget
# The scaled-down run: each model trains on POOL_SIZE / 2 images for one epoch.
POOL_SIZE = 256
REGIMES = ("standard", "flood:0.3", "dp:8")


def scaled_run(cifar10: Path, output: Path) -> tuple[dict[str, float], float]:
    """Seconds per training image and epoch of each regime kind, and the run's wall time."""
    command = [
        sys.executable, "-m", "audit.run", "--dataset", f"imagefolder:{cifar10}", "--arch", "torchvision:resnet18",
        "--pool-size", str(POOL_SIZE), "--test-size", "200", "--epochs", "1", "--batch-size", "64",
        "--models-per-regime", "4", "--regimes", *REGIMES, "--attacks", "loss", "--main-attack", "loss",
        "--canaries", "0", "--no-dp-tuning", "--snapshots", "0", "--device", "cpu", "--quiet",
        "--output-dir", str(output),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    result = json.loads((output / "results.json").read_text())
    per_image_epoch = {}
    for regime in result["regimes"]:
        seconds = [m["seconds"] for m in regime["models"]]
        per_image_epoch[regime["label"]] = sum(seconds) / len(seconds) / (POOL_SIZE // 2)
    return per_image_epoch, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10", type=Path, required=True, help="CIFAR-10 as an image folder (class folders)")
    parser.add_argument("--write-docs", action="store_true", help="put the estimate into README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resnet18-time-") as folder:
        rates, wall = scaled_run(args.cifar10, Path(folder))
    image_epochs = EXAMPLE_MODELS_PER_REGIME * EXAMPLE_TRAIN_SIZE * EXAMPLE_EPOCHS
    hours = {kind: rate * image_epochs / 3600 for kind, rate in rates.items()}
    dp_kind = next(kind for kind in rates if kind.startswith("dp"))
    search = rates[dp_kind] * EXAMPLE_SEARCH_BUDGET * EXAMPLE_TRAIN_SIZE * EXAMPLE_EPOCHS / 3600
    total = sum(hours.values()) + search
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"scaled-down run: {wall:.0f} s wall on {machine}")
    for kind, rate in rates.items():
        print(f"{kind:<12} {1000 * rate:8.2f} ms per training image and epoch -> {hours[kind]:6.1f} h for the example's 8 models")
    print(f"DP-SGD search ({EXAMPLE_SEARCH_BUDGET} configurations): {search:.1f} h; total training: {total:.0f} h")
    if args.write_docs:
        text = (
            f"`python benchmarks/resnet18_time.py --cifar10 PATH` on {machine} (CPU): ResNet-18 on 32x32 images costs "
            + ", ".join(f"{1000 * rate:.1f} ms ({kind})" for kind, rate in rates.items())
            + f" per training image and epoch, so the example's training takes about {total:.0f} hours on this machine "
            f"({', '.join(f'{kind} {hours[kind]:.0f} h' for kind in rates)}, DP-SGD's search {search:.0f} h)."
        )
        for path in replace_block("resnet18-cpu", text):
            print(f"updated {path}")


if __name__ == "__main__":
    main()
