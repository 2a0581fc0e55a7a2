"""IBM ART's black-box membership-inference attack side by side with this toolkit's attacks,
on the same target models and the same reference (shadow) data.

What is compared
----------------
ART (``adversarial-robustness-toolbox``, the ``benchmark`` extra): ``MembershipInferenceBlackBox``
with its default ``attack_model_type="rf"`` (scikit-learn random forest) and ``"nn"`` (its
own PyTorch attack network) attack models, ``input_type="prediction"``, every other setting
at ART's default. Ours: ``loss``, ``shadow``, ``lira-online``, ``lira-offline`` and ``rmia``
(``--attacks`` to change), run through ``leave_one_out_scores`` exactly as an audit runs them.

Models: the pool of the default configuration without canaries (``AuditConfig(canaries=0,
pool_size=1000)``: digits, MLP, 40 epochs, 8 models, 1,000 ordinary candidates, as in the
first release's comparison; mislabelled canaries, nearly all found by every attack, would
lift every row's population figures alike) in one regime (``--regime``, default ``standard``), trained by
``audit.pipeline.train_regime_pool`` (the pipeline's own recipe, seed, query set and snapshot epochs), so
a cache the pipeline wrote is reused and vice versa. ART gets each model loaded from its
cached ``weights.npz`` and wrapped in a ``PyTorchClassifier``; the script checks that the
wrapper's outputs equal the cached logits our attacks read, so both sides attack the very
same functions.

Protocol (the same information for both sides)
----------------------------------------------
Target ``m`` in turn (the first ``--targets`` models of the pool) is attacked; the other
M - 1 models are its reference models, with their keep rows as ground truth. This is ART's
own shadow-model workflow (``ShadowModels.generate_shadow_dataset`` followed by
``fit(x, y, test_x, test_y, pred, test_pred)``), with our reference models as ART's shadow
models instead of models ART would train itself, since ours already copy the target's
recipe exactly and see the same candidates:

- ``fit``: members are (reference model r, candidate i) pairs with ``keep[r, i]``,
  non-members pairs without, both with the true label; ``pred`` / ``test_pred`` are
  reference model r's outputs on candidate i, computed through r's ``PyTorchClassifier``.
  By default (``--art-rows balanced``) each candidate contributes as many member rows as
  non-member rows: M // 2 - 1 of each, drawn at random (seeded) from its references. The
  reason is the keep matrix: every candidate is IN for exactly M / 2 of the M models, so
  among a target's M - 1 references a candidate is IN one time *more* often when the target
  left it out. An attack model that recognises individual candidates (a fully grown random
  forest, a wide network on raw logits) learns that per-candidate base rate and scores the
  target's membership *inversely*: with every reference row (``--art-rows all``, (M - 1) * n
  rows, the rows our ``shadow`` attack trains on) ART's attacks on logits fell below
  AUC 0.5 (random forest 0.489, network 0.463 on the default pool). Balancing removes that
  artefact of the leave-one-out design at the cost of one row per candidate out of seven,
  and raised every ART figure we measured (random forest on logits: AUC 0.556).
- ``infer(x, y, probabilities=True)``: the attack is built around the *target's*
  ``PyTorchClassifier``, which computes the target's outputs on all n candidates; the
  returned membership probability is the score (higher = member).

ART never sees the target's keep row, nor the target's outputs before ``infer``; our
attacks never see the target's keep row either (``leave_one_out`` fits on the other rows).

ART's attack model reads whatever the wrapped model returns. Our models return logits
(which the docstring of ART's ``PyTorchClassifier`` recommends); ART's examples usually
wrap a model that returns softmax probabilities. Both are run (``--art-outputs``), and
"ART's best" is the best of every ART row, so the choice cannot handicap ART.

Every score matrix ``[M, n]`` (NaN rows for models not attacked) goes through the one
metric function, ``attacks.metrics.evaluate_pooled`` (200 bootstrap resamples of the
candidates for the 95% interval), pooled over the targets. Seconds are wall time of the
attack for all targets: for ART, building the wrappers' predictions, ``fit`` and ``infer``;
for ours, ``leave_one_out_scores`` on the cached logits (computed once during training, as
an audit does). Metrics are not timed. Seeds (numpy's global state, which ART's random
forest draws from, and torch's, which its network's initialisation and shuffling draw from)
are fixed per target, so a re-run prints the same table.

Run: ``python benchmarks/compare_art.py [--cache-dir DIR] [--targets K] [--regime standard]``.
On 2 CPU cores: training the 8 default models takes about 40 s the first time; ART's "nn"
attack model (100 epochs over 6,000 rows) takes about 8 s per target and output kind,
which dominates the rest (under 2.5 minutes in all with the pool cached). Results are in
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

# Run from a checkout without installing: put the repository root on the import path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from attacks import evaluate_pooled, leave_one_out_scores
from audit.config import AuditConfig
from audit.config.validation import validate_architecture
from audit.data import AuditSplit, load_dataset, make_keep_matrix, split_pool
from audit.events import Events, ModelDone
from audit.pipeline import train_regime_pool
from audit.pool import PoolSignals
from audit.training import parse_regime, resolve_device
from models import create_model, load_weights

OUR_ATTACKS = ("loss", "shadow", "lira-online", "lira-offline", "rmia")
ART_MODELS = ("rf", "nn")
ART_OUTPUTS = ("logits", "probabilities")
ART_ROWS = ("balanced", "all")
FPR_TARGETS = (0.001, 0.01)


@dataclass
class Row:
    """One line of the table."""

    name: str
    scores: np.ndarray  # float [M, n], NaN rows for models not attacked
    seconds: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir", default="/tmp/flood-audit-compare-art/cache", help="trained-model cache (the pipeline's layout)"
    )
    parser.add_argument("--targets", type=int, default=0, help="attack only the first K models as targets (0: all)")
    parser.add_argument("--regime", default="standard", help="regime of the default configuration to attack")
    parser.add_argument("--attacks", nargs="+", default=list(OUR_ATTACKS), help="our attacks to run")
    parser.add_argument("--art-models", nargs="+", default=list(ART_MODELS), choices=ART_MODELS)
    parser.add_argument(
        "--art-outputs",
        nargs="+",
        default=list(ART_OUTPUTS),
        choices=ART_OUTPUTS,
        help="what the wrapped model returns to ART",
    )
    parser.add_argument(
        "--art-rows",
        default="balanced",
        choices=ART_ROWS,
        help="ART's training rows: per candidate as many members as non-members, or every reference row",
    )
    return parser.parse_args(argv)


def build_pool(
    config: AuditConfig, regime_text: str, cache_dir: Path
) -> tuple[AuditSplit, np.ndarray, PoolSignals, int]:
    """Train (or load from cache) the regime's pool exactly as ``audit.pipeline.run_audit``
    does. Returns the split, ``keep [M, n]``, the pool's signals and the number of classes."""
    regime = parse_regime(regime_text, delta=config.delta, max_grad_norm=config.max_grad_norm)
    dataset = load_dataset(config.dataset)
    split = split_pool(dataset, pool_size=config.pool_size, test_size=config.test_size, seed=config.seed)
    keep = make_keep_matrix(num_models=config.models_per_regime, num_examples=len(split.pool_y), seed=config.seed)
    pool = train_regime_pool(
        config,
        regime=regime,
        dataset=dataset,
        split=split,
        keep=keep,
        seed=config.seed,
        device=resolve_device(config.device),
        cache_dir=cache_dir,
        architecture=validate_architecture(config, input_shape=dataset.input_shape, num_classes=dataset.num_classes),
        events=_PrintProgress(),
    )
    return split, keep, pool, dataset.num_classes


class _PrintProgress(Events):
    """One line per model of the pool as it is ready."""

    def model_done(self, done: ModelDone) -> None:
        print(
            f"  model {done.index + 1}/{done.total}: {'cached' if done.cached else f'trained in {done.seconds:.1f} s'}",
            flush=True,
        )


def art_classifiers(pool: PoolSignals, split: AuditSplit, num_classes: int, *, outputs: str) -> list:
    """One ART ``PyTorchClassifier`` per model of the pool, loaded from its cached weights.

    ``outputs="logits"`` wraps the model as trained; ``"probabilities"`` appends a softmax.
    Checks that the wrapped models reproduce the cached logits our attacks use.
    """
    from art.estimators.classification import PyTorchClassifier

    input_shape = tuple(split.pool_x.shape[1:])
    classifiers = []
    for trained, cached_logits in zip(pool.models, pool.logits[:, :, 0, :]):
        model = create_model(
            pool.recipe.architecture, input_shape=input_shape, num_classes=num_classes, options=pool.recipe.architecture_options
        )
        load_weights(model, trained.directory / "weights.npz").eval()
        with torch.no_grad():
            logits = model(torch.from_numpy(split.pool_x)).numpy()
        if not np.allclose(logits, cached_logits, atol=1e-4):
            raise RuntimeError(
                f"model {trained.index}: weights in {trained.directory} do not reproduce its cached logits"
            )
        wrapped = model if outputs == "logits" else nn.Sequential(model, nn.Softmax(dim=1))
        classifiers.append(
            PyTorchClassifier(
                model=wrapped,
                loss=nn.CrossEntropyLoss(),
                input_shape=input_shape,
                nb_classes=num_classes,
                device_type="cpu",
            )
        )
    return classifiers


def training_rows(keep: np.ndarray, target: int, *, rows: str, seed: int) -> np.ndarray:
    """bool ``[M, n]``: which (reference model, candidate) pairs train ART's attack for
    ``target``. Never the target's row. ``"all"``: every reference pair; ``"balanced"``: per
    candidate, ``k`` IN and ``k`` OUT references at random, ``k`` the smaller count, so the
    share of member rows is 1/2 for every candidate whatever the target's membership."""
    use = np.ones_like(keep)
    use[target] = False
    if rows == "all":
        return use
    rng = np.random.default_rng(seed)
    for i in range(keep.shape[1]):
        members = np.flatnonzero(use[:, i] & keep[:, i])
        non_members = np.flatnonzero(use[:, i] & ~keep[:, i])
        k = min(len(members), len(non_members))
        use[:, i] = False
        use[rng.choice(members, k, replace=False), i] = True
        use[rng.choice(non_members, k, replace=False), i] = True
    return use


def art_scores(
    classifiers: list, split: AuditSplit, keep: np.ndarray, targets: list[int], *, attack_model_type: str, rows: str
) -> np.ndarray:
    """ART ``MembershipInferenceBlackBox`` scores ``[M, n]`` (NaN rows for non-targets): for
    each target, fitted on the other models' known members and non-members (see the module
    docstring), then ``infer`` on the target's classifier."""
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox

    x, y = split.pool_x, split.pool_y
    # Each model's outputs on every candidate, through ART's own wrapper ([M, n, C]); the
    # target's row is never selected for fitting.
    predictions = np.stack([classifier.predict(x) for classifier in classifiers])
    labels = np.broadcast_to(y, keep.shape)
    scores = np.full(keep.shape, np.nan)
    for target in targets:
        use = training_rows(keep, target, rows=rows, seed=target)
        np.random.seed(target)  # ART's random forest draws from numpy's global state
        torch.manual_seed(target)  # ART's attack network: initialisation and shuffling
        attack = MembershipInferenceBlackBox(
            classifiers[target], input_type="prediction", attack_model_type=attack_model_type
        )
        attack.fit(
            x=None,
            y=labels[use & keep],
            test_x=None,
            test_y=labels[use & ~keep],
            pred=predictions[use & keep],
            test_pred=predictions[use & ~keep],
        )
        scores[target] = attack.infer(x, y, probabilities=True).ravel()
    return scores


def timed(function, *args, **kwargs) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def print_table(rows: list[Row], keep: np.ndarray) -> dict[str, float]:
    """Print one line per attack; returns each attack's pooled TPR at 1% FPR."""
    header = f"{'attack':<26} {'AUC':>6} {'TPR@0.1%FPR':>12} {'TPR@1%FPR':>10} {'95% CI @1%':>15} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    tpr_1 = {}
    n_members = n_non_members = 0
    for row in rows:
        pooled = evaluate_pooled(row.scores, keep, fpr_targets=FPR_TARGETS)
        low, high = pooled.tpr_ci[0.01]
        tpr_1[row.name] = pooled.tpr_at_fpr[0.01]
        n_members, n_non_members = pooled.n_members, pooled.n_non_members
        print(
            f"{row.name:<26} {pooled.auc:6.3f} {pooled.tpr_at_fpr[0.001]:12.3f} {pooled.tpr_at_fpr[0.01]:10.3f} "
            f"{f'[{low:.3f}, {high:.3f}]':>15} {row.seconds:8.2f}"
        )
    print(f"pooled over targets: {n_members} member and {n_non_members} non-member scores")
    return tpr_1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = AuditConfig(device="cpu", canaries=0, pool_size=1000)
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("adversarial-robustness-toolbox", "torch", "scikit-learn")
    )
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}; {versions}")
    print(f"training or loading the {args.regime} pool of the default configuration in {args.cache_dir}")
    split, keep, pool, num_classes = build_pool(config, args.regime, Path(args.cache_dir))
    n_models = len(keep)
    targets = list(range(args.targets if 0 < args.targets < n_models else n_models))
    logits, labels = pool.logits, split.pool_y
    print(
        f"pool: {n_models} models x {len(labels)} candidates; targets {targets}, each with {n_models - 1} reference models"
    )

    rows = []
    for name in args.attacks:
        scores, seconds = timed(leave_one_out_scores, name, logits=logits, keep=keep, labels=labels, targets=targets)
        rows.append(Row(f"ours: {name}", scores, seconds))
        print(f"  {rows[-1].name}: {seconds:.2f} s", flush=True)
    for outputs in args.art_outputs:
        start = time.perf_counter()
        classifiers = art_classifiers(pool, split, num_classes, outputs=outputs)
        wrap_seconds = time.perf_counter() - start
        for model_type in args.art_models:
            scores, seconds = timed(
                art_scores, classifiers, split, keep, targets, attack_model_type=model_type, rows=args.art_rows
            )
            rows.append(Row(f"ART {model_type} ({outputs})", scores, wrap_seconds + seconds))
            print(f"  {rows[-1].name}: {rows[-1].seconds:.2f} s", flush=True)

    print()
    tpr_1 = print_table(rows, keep)
    ours = max((v, k) for k, v in tpr_1.items() if k.startswith("ours"))
    art = max((v, k) for k, v in tpr_1.items() if k.startswith("ART"))
    verdict = "higher than" if ours[0] > art[0] else "NOT higher than"
    print(f"\nbest TPR at 1% FPR: ours {ours[1]!r} {ours[0]:.3f} is {verdict} ART's best {art[1]!r} {art[0]:.3f}")


if __name__ == "__main__":
    main()
