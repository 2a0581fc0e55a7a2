"""Training speed: one stacked ensemble of M models against M sequential ``train()`` calls,
and DP-SGD against non-private training on each path.

Two configurations, each trained as ``audit.pool`` trains a regime's models (per-epoch
records on 1,024 training and test examples, then logits on every candidate):

- ``mlp``: the demo's, digits (8x8), MLP 2x256, 500 training examples per model (keep half
  of 1,000 candidates), batch 64, Adam 1e-3, M = 8; fewer epochs than the demo's 40, with
  the same work per epoch;
- ``cnn``: the small CNN on random 32x32x3 images, 2,000 training examples per model (half
  of 4,000 candidates), batch 64, Adam 1e-3, M = 8;
- ``resnet``: ResNet-20 (GroupNorm) on random 32x32x3 images, 4,000 training examples per
  model (half of 8,000 candidates), batch 128, Adam 1e-3: the GPU scaling benchmark
  (``--device cuda --configs resnet --models 1,4,16 --ensemble-only``); it also reports
  training images per second over all models.

Each runs ``standard`` and ``dp:8`` (delta 1e-5, clipping 1) both ways: sequentially
(``train()``, DP-SGD through Opacus) and as an ensemble (``train_ensemble``). The noise
multiplier search is done once before timing (both paths cache it). Prints models per second,
the ensemble's speed-up, and DP-SGD's cost relative to non-private training on each path
(target: <= 2.5x), for every thread count asked for and the device.

Run: ``python benchmarks/training_speed.py [--quick] [--device cpu|cuda] [--threads 1,default]
[--configs mlp,cnn,resnet] [--models 8] [--ensemble-only] [--repeats 2] [--write-docs]``. Each figure is the best of ``--repeats``
interleaved rounds; ``--write-docs`` puts the table into README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.data import load_digits_dataset, make_keep_matrix  # noqa: E402
from audit.training import TrainData, TrainRecipe, parse_regime, predict_logits, train
from audit.training.dp_vectorised import opacus_noise_multipliers
from audit.training.ensemble import EnsembleData, initial_models, train_ensemble
from audit.training.ensemble_batches import poisson_sample_rate  # noqa: E402
from benchmarks.doc_blocks import markdown_table, replace_block  # noqa: E402

DEFAULT_THREADS = torch.get_num_threads()  # before this script changes it


@dataclass(frozen=True)
class Setup:
    """One benchmark configuration: candidates, test part, keep matrix and recipe."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    keep: torch.Tensor
    recipe: TrainRecipe


def digits_mlp(*, models: int, epochs: int, device: torch.device) -> Setup:
    digits = load_digits_dataset()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(digits.y))
    x = torch.from_numpy(digits.x[order]).to(device)
    y = torch.from_numpy(digits.y[order]).to(device)
    recipe = TrainRecipe(architecture="mlp", epochs=epochs, batch_size=64, learning_rate=1e-3)
    keep = _keep(models, 1000)
    return Setup("mlp (digits, 500/model)", x[:1000], y[:1000], x[1000:], y[1000:], keep, recipe)


def random_images(
    architecture: str, *, models: int, epochs: int, candidates: int, batch_size: int, device: torch.device
) -> Setup:
    """``architecture`` on random 32x32x3 images with random labels (half of ``candidates``
    per model): a training cost, not an accuracy."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(candidates + 1000, 3, 32, 32, generator=generator).to(device)
    y = torch.randint(0, 10, (candidates + 1000,), generator=generator).to(device)
    recipe = TrainRecipe(architecture=architecture, epochs=epochs, batch_size=batch_size, learning_rate=1e-3)
    keep = _keep(models, candidates)
    name = f"{'resnet-20' if architecture == 'resnet' else architecture} (random 32x32x3, {candidates // 2}/model)"
    return Setup(name, x[:candidates], y[:candidates], x[candidates:], y[candidates:], keep, recipe)


def _keep(models: int, candidates: int) -> torch.Tensor:
    """Keep rows ``[models, candidates]``, each with half of the candidates: the audit's keep
    matrix, or for one model (a scaling run's first point) one random half."""
    if models >= 2:
        return torch.from_numpy(make_keep_matrix(num_models=models, num_examples=candidates, seed=0))
    row = np.zeros(candidates, dtype=bool)
    row[np.random.default_rng(0).permutation(candidates)[: candidates // 2]] = True
    return torch.from_numpy(row[None])


def sequential_seconds(setup: Setup, recipe: TrainRecipe) -> float:
    """M models one after another, as ``audit.pool._train_one`` trains them."""
    start = time.perf_counter()
    for m, keep_row in enumerate(setup.keep.to(setup.x.device)):
        model = initial_models(recipe, input_shape=setup.x.shape[1:], num_classes=10, seeds=[m], device=setup.x.device)[
            0
        ]
        data = TrainData(setup.x[keep_row], setup.y[keep_row], setup.x_test, setup.y_test)
        outcome = train(model, data, recipe, seed=m)
        predict_logits(outcome.model, setup.x)
    _synchronise(setup.x.device)
    return time.perf_counter() - start


def ensemble_seconds(setup: Setup, recipe: TrainRecipe) -> float:
    start = time.perf_counter()
    seeds = list(range(len(setup.keep)))
    models = initial_models(recipe, input_shape=setup.x.shape[1:], num_classes=10, seeds=seeds, device=setup.x.device)
    data = EnsembleData(setup.x, setup.y, setup.keep, setup.x_test, setup.y_test)
    train_ensemble(models, data, recipe, seeds=seeds, queries=[setup.x])
    _synchronise(setup.x.device)
    return time.perf_counter() - start


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(setup: Setup, *, repeats: int, ensemble_only: bool = False) -> dict[str, float]:
    """Least seconds over ``repeats`` rounds for each of the four ways to train the setup's M
    models; the rounds interleave the four, so that other work on the machine, which only
    ever slows a run down, is least likely to favour one of them."""
    private = replace(setup.recipe, regime=parse_regime("dp:8", delta=1e-5))
    # The noise-multiplier search is cached and shared by both paths: do it before timing.
    sizes = setup.keep.sum(1).tolist()
    opacus_noise_multipliers(
        private, sample_rates=sorted({poisson_sample_rate(int(n), private.batch_size) for n in sizes})
    )
    ways = {
        "sequential": lambda: sequential_seconds(setup, setup.recipe),
        "ensemble": lambda: ensemble_seconds(setup, setup.recipe),
        "sequential dp": lambda: sequential_seconds(setup, private),
        "ensemble dp": lambda: ensemble_seconds(setup, private),
    }
    if ensemble_only:
        ways = {name: way for name, way in ways.items() if name.startswith("ensemble")}
    rounds = [{name: way() for name, way in ways.items()} for _ in range(repeats)]
    return {name: min(r[name] for r in rounds) for name in ways} | {
        name: float("nan") for name in ("sequential", "sequential dp") if name not in ways
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer models, epochs and CNN examples (a smoke run)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--threads", default="1,default", help="comma-separated torch thread counts ('default' = torch's own)"
    )
    parser.add_argument("--configs", default="mlp,cnn", help="comma-separated subset of mlp,cnn,resnet")
    parser.add_argument("--models", default="", help="comma-separated ensemble sizes M (default: 8, --quick 4)")
    parser.add_argument("--ensemble-only", action="store_true", help="skip the sequential path (GPU scaling runs)")
    parser.add_argument("--repeats", type=int, default=2, help="timed rounds; the least time of each way is kept")
    parser.add_argument("--write-docs", action="store_true", help="put the table into README.md and docs/benchmarks.md")
    args = parser.parse_args()
    device = torch.device(args.device)
    sizes = [int(m) for m in args.models.split(",")] if args.models else [4 if args.quick else 8]
    threads = [DEFAULT_THREADS if t == "default" else int(t) for t in args.threads.split(",")]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    rows = []
    print(
        f"machine: {machine}, "
        f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, "
        f"default torch threads {DEFAULT_THREADS}, load average {os.getloadavg()[0]:.2f} at start"
    )
    setups = []
    for models in sizes:
        if "mlp" in args.configs:
            setups.append(digits_mlp(models=models, epochs=2 if args.quick else 5, device=device))
        if "cnn" in args.configs:
            candidates = 1000 if args.quick else 4000
            setups.append(random_images("cnn", models=models, epochs=1, candidates=candidates, batch_size=64, device=device))
        if "resnet" in args.configs:
            candidates = 1000 if args.quick else 8000
            setups.append(random_images("resnet", models=models, epochs=1, candidates=candidates, batch_size=128, device=device))
    header = f"{'configuration':<34} {'thr':>3} {'M':>2} {'ep':>2} {'seq models/s':>12} {'ens models/s':>12} {'speed-up':>8} "
    print(
        header + f"{'seq DP models/s':>15} {'ens DP models/s':>15} {'DP/non-priv seq':>15} {'DP/non-priv ens':>15} "
        f"{'ens images/s':>12} {'ens DP images/s':>15}"
    )
    for count in threads:
        torch.set_num_threads(count)
        for setup in setups:
            # Untimed: lazy imports (Opacus), first-call costs, the noise-multiplier search.
            warm = replace(setup, keep=setup.keep[:2], recipe=replace(setup.recipe, epochs=1))
            measure(warm, repeats=1, ensemble_only=args.ensemble_only)
            seconds = measure(setup, repeats=args.repeats, ensemble_only=args.ensemble_only)
            rate = {k: len(setup.keep) / v for k, v in seconds.items()}
            images = int(setup.keep.sum()) * setup.recipe.epochs  # training examples seen, all models
            print(
                f"{setup.name:<34} {count:>3} {len(setup.keep):>2} {setup.recipe.epochs:>2} "
                f"{rate['sequential']:>12.3f} {rate['ensemble']:>12.3f} {seconds['sequential'] / seconds['ensemble']:>7.2f}x "
                f"{rate['sequential dp']:>15.3f} {rate['ensemble dp']:>15.3f} "
                f"{seconds['sequential dp'] / seconds['sequential']:>14.2f}x {seconds['ensemble dp'] / seconds['ensemble']:>14.2f}x "
                f"{images / seconds['ensemble']:>12,.0f} {images / seconds['ensemble dp']:>15,.0f}",
                flush=True,
            )
            rows.append(
                [
                    setup.name, str(count), str(len(setup.keep)), str(setup.recipe.epochs),
                    f"{rate['sequential']:.2f}", f"{rate['ensemble']:.2f}",
                    f"{seconds['sequential'] / seconds['ensemble']:.2f}x",
                    f"{seconds['sequential dp'] / seconds['sequential']:.2f}x",
                    f"{seconds['ensemble dp'] / seconds['ensemble']:.2f}x",
                    f"{images / seconds['ensemble']:,.0f}",
                    f"{images / seconds['ensemble dp']:,.0f}",
                ]
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other work on the machine slows every figure)")
    if args.write_docs:
        header = [
            "configuration", "threads", "M", "epochs", "sequential models/s", "ensemble models/s",
            "ensemble speed-up", "DP / non-private, sequential", "DP / non-private, ensemble",
            "ensemble images/s", "ensemble DP images/s",
        ]
        flags = " --quick" if args.quick else ""
        text = (
            f"`python benchmarks/training_speed.py{flags} --device {args.device} --threads {args.threads} "
            f"--configs {args.configs}{' --models ' + args.models if args.models else ''}"
            f"{' --ensemble-only' if args.ensemble_only else ''} "
            f"--repeats {args.repeats}` on {machine} ({device}); best of {args.repeats} interleaved rounds.\n\n"
            + markdown_table(header, rows)
        )
        for path in replace_block("training-speed", text):
            print(f"updated {path}")


if __name__ == "__main__":
    main()
