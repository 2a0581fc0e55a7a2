"""Command line: ``python -m audit.train`` trains one target model under any regime and saves
it as a flood-audit checkpoint, ready to be audited later with
``python -m audit.run --model PATH.npz``.

The checkpoint is two files: ``PATH.npz`` (weights, arrays only) and ``PATH.json`` (the
manifest: architecture, recipe, data set and its fingerprint, member indices, input
normalisation, training history, epsilon spent). No pickle anywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np
import torch

from audit.cli.common import (
    OneLineErrorParser,
    add_architecture_arguments,
    run_command,
)
from audit.config import AuditConfig, recipe_for, validate
from audit.config.validation import validate_architecture
from audit.data import Normalisation, load_dataset
from audit.errors import AuditInputError, OutputError
from audit.pipeline.outputs import check_writable
from audit.target import CHECKPOINT_FORMAT, manifest_path, read_indices
from audit.training import TrainData, parse_regime, resolve_device, train
from models import create_model, save_weights
from results.files import write_json


def build_parser() -> argparse.ArgumentParser:
    defaults = AuditConfig()
    parser = OneLineErrorParser(
        prog="python -m audit.train",
        description="Train one target model and save it with its members and recipe, for auditing later.",
        epilog="example: python -m audit.train --regime flood:0.3 --output target && "
        "python -m audit.run --model target.npz",
    )
    parser.add_argument("--output", required=True, metavar="PATH", help="checkpoint path without suffix: writes PATH.npz and PATH.json")
    parser.add_argument("--regime", default="standard", help="standard, flood:B, iflood:B, dp:EPS or dp:EPS+iflood:B (default: %(default)s)")
    parser.add_argument("--dataset", default=defaults.dataset, metavar="SPEC", help="as for audit.run (default: %(default)s)")
    parser.add_argument("--data-dir", default=defaults.data_dir, help="where torchvision data sets are")
    parser.add_argument("--download", action="store_true", help="allow torchvision to download a missing data set")
    parser.add_argument("--members", default="", metavar="FILE", help="indices to train on (default: --train-size examples drawn at random)")
    parser.add_argument("--train-size", type=int, default=defaults.pool_size // 2, help="examples to train on when --members is absent (default: %(default)s)")
    add_architecture_arguments(parser, default=defaults.architecture)
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="(default: %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=None, help=f"(default: {defaults.learning_rate}, or {defaults.dp_learning_rate} under DP-SGD)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default=defaults.optimizer, help="(default: %(default)s)")
    parser.add_argument("--delta", type=float, default=defaults.delta, help="DP-SGD delta (default: %(default)s)")
    parser.add_argument("--max-grad-norm", type=float, default=defaults.max_grad_norm, help="DP-SGD clipping norm (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="(default: %(default)s)")
    parser.add_argument("--device", default=defaults.device, help="auto, cpu or cuda[:N] (default: %(default)s)")
    return parser


def train_target(args: argparse.Namespace) -> Path:
    """Train and save; returns the path of the weights file."""
    regime = parse_regime(args.regime, delta=args.delta, max_grad_norm=args.max_grad_norm)
    config = AuditConfig(
        architecture=args.architecture,
        architecture_options=dict(args.arch_option),
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        regimes=(args.regime,),
        delta=args.delta,
        max_grad_norm=args.max_grad_norm,
        device=args.device,
        **({"dp_learning_rate" if regime.is_private else "learning_rate": args.learning_rate} if args.learning_rate is not None else {}),
    )
    validate(config)
    recipe = recipe_for(config, regime)
    weights = Path(args.output).with_suffix(".npz")
    check_writable(weights.parent, what="output folder", option="--output")
    dataset = load_dataset(args.dataset, data_dir=args.data_dir or None, download=args.download)
    n = len(dataset.y)
    rng = np.random.default_rng(args.seed)
    if args.members:
        members = read_indices(args.members, num_examples=n, what="members")
    elif 1 <= args.train_size < n:
        members = np.sort(rng.choice(n, size=args.train_size, replace=False))
    else:
        raise AuditInputError(f"train size must be between 1 and {n - 1} for {dataset.name}, got {args.train_size}")
    outside = rng.permutation(np.setdiff1d(np.arange(n), members))[:2000]  # test accuracy only

    normalisation = Normalisation.of(dataset, members)
    device = resolve_device(args.device)

    def tensors(indices):
        x = torch.from_numpy(normalisation.apply(dataset.x[indices])).to(device)
        return x, torch.from_numpy(dataset.y[indices]).to(device)

    torch.manual_seed(args.seed)
    validate_architecture(config, input_shape=dataset.input_shape, num_classes=dataset.num_classes)
    model = create_model(
        recipe.architecture,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        options=recipe.architecture_options,
    ).to(device)
    outcome = train(model, TrainData(*tensors(members), *tensors(outside)), recipe, seed=args.seed)

    written = False
    try:
        save_weights(outcome.model, weights)
        written = True
        write_json(manifest_path(weights), _manifest(args, recipe, dataset, members, normalisation, outcome))
    except OSError as error:
        if written:  # weights without their .json would load as a plain state_dict
            weights.unlink(missing_ok=True)
        raise OutputError(
            f"could not write the checkpoint {weights} and {manifest_path(weights)} ({error.strerror or error}): "
            "fix the cause (free space, permissions) or pick another --output, and run the same command again"
        ) from None
    last = outcome.history[-1]
    print(
        f"trained {recipe.architecture} under {regime.label} on {len(members)} examples of {dataset.name}: "
        f"train loss {last.eval_train_loss:.3f}, train acc {last.train_accuracy:.1%}, test acc {last.test_accuracy:.1%}"
        + (f", epsilon {outcome.epsilon:.2f}" if outcome.epsilon is not None else "")
    )
    print(f"saved {weights} and {manifest_path(weights)}; audit it with: python -m audit.run --model {weights} --dataset {args.dataset}")
    return weights


def _manifest(args: argparse.Namespace, recipe, dataset, members: np.ndarray, normalisation, outcome) -> dict:
    """The checkpoint's .json: what audit.run needs to rebuild, load and audit the model."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "architecture": recipe.architecture,
        "architecture_options": recipe.architecture_options,
        "input_shape": list(dataset.input_shape),
        "num_classes": dataset.num_classes,
        "dataset": args.dataset,
        "data_fingerprint": dataset.fingerprint,
        "members": members.tolist(),
        "normalisation": normalisation.to_lists(),
        "recipe": recipe.to_dict(),
        "seed": args.seed,
        "epsilon": outcome.epsilon,
        "history": [asdict(e) for e in outcome.history],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(
        "python -m audit.train",
        partial(_train, args),
        on_interrupt="nothing was saved (audit.train trains one model); run the same command again",
    )


def _train(args: argparse.Namespace) -> int:
    train_target(args)
    return 0
