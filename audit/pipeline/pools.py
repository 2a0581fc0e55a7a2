"""The pool audit: for each replicate and each regime, a pool of M models on the halves of
the audit pool that a keep matrix selects, every model attacked in turn with the others as
its references, and the figures of all of them as result records.

Each regime also trains one held-out *audit model* on candidates drawn by independent fair
coins, for the valid one-run epsilon bound (:mod:`audit.analysis.privacy`); every regime is
compared with the standard one on paired models (:mod:`audit.analysis.comparisons`).

Replicate 0 uses the configured seed, so ``--replicates 1`` (the default) is the plain audit;
replicate r > 0 draws its own keep matrix and training seeds (:func:`replicate_seed`) on the
same candidates, so the spread across replicates shows how much the figures depend on which
models happened to be trained.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from attacks import leave_one_out_scores
from audit.analysis import summarise_pool
from audit.analysis.comparisons import compare_with_standard
from audit.analysis.flood_sweep import (
    MULTIPLIERS,
    flood_sweep,
    is_sweep_regime,
    sweep_levels,
)
from audit.analysis.matching import match_dp_accuracy
from audit.analysis.privacy import audit_epsilon
from audit.analysis.summary import model_summaries
from audit.config import recipe_for, regime_list, snapshot_epochs
from audit.data import ArrayDataset, AuditSplit, make_audit_coins, make_keep_matrix
from audit.events import Events
from audit.pipeline.analysis_cache import analysis_key, cached_analysis
from audit.pool import Executor, PoolSignals, TrainedModel, done_event, train_pool
from audit.training import Regime, TrainRecipe, parse_regime
from audit.training.private import summarise_substitutions
from audit.tuning import tune_dp
from results.claims import FloodSweep
from results.config import AuditConfig
from results.records import RegimeResult, ReplicateFigures
from results.vocabulary import HEADLINE_FPR, RegimeKind


@dataclass
class PoolAudit:
    """Every regime's result (replicate 0's figures, with every replicate's headline figures
    attached), replicate 0's raw material: ``scores`` ("REGIME/ATTACK" -> ``[M, n]``) and the
    ``keep`` matrix ``[M, n]``, and the automatic flood sweep (None without one)."""

    regimes: list[RegimeResult]
    scores: dict[str, np.ndarray]
    keep: np.ndarray
    flood_sweep: FloodSweep | None = None


def replicate_seed(seed: int, replicate: int) -> int:
    """The seed of replicate ``replicate``: ``seed`` itself for replicate 0, else an
    independent 31-bit seed derived from both (numpy's SeedSequence)."""
    if replicate == 0:
        return seed
    return int(np.random.SeedSequence([seed, replicate]).generate_state(1)[0] >> 1)


def audit_pools(
    config: AuditConfig,
    *,
    dataset: ArrayDataset,
    split: AuditSplit,
    attack_names: list[str],
    device: torch.device,
    cache_dir: Path,
    events: Events,
    architecture: dict,
    executor: Executor | None = None,
) -> PoolAudit:
    """Train (or load) every regime's pool, replicate by replicate, and attack every model.
    ``architecture``: the identity of the models' architecture (part of every cache key).

    With ``config.flood_auto`` the flood levels of the sweep are derived from replicate 0's
    standard regime once it is trained, and every replicate uses them."""
    regimes = regime_list(config)
    n = len(split.pool_y)
    check_attacks(attack_names, num_models=config.models_per_regime, num_classes=dataset.num_classes)
    planned = len(regimes) + (len(MULTIPLIERS) if config.flood_auto else 0)
    events.info(
        f"auditing {planned} regimes x {config.models_per_regime} models"
        + (f" x {config.replicates} replicates" if config.replicates > 1 else "")
        + f" on {dataset.name} ({n} candidates, {len(split.test_y)} test examples) on {device}"
    )
    events.plan(regimes=[f"regime {i + 1}" for i in range(planned * config.replicates)], models_per_regime=config.models_per_regime + 1)
    context = dict(
        config=config,
        dataset=dataset,
        split=split,
        device=device,
        cache_dir=cache_dir,
        events=events,
        architecture=architecture,
        executor=executor,
    )
    tuned = _tune_dp_regimes(regimes, **context)
    first: PoolAudit | None = None
    sweep = None
    for replicate in range(config.replicates):
        seed = replicate_seed(config.seed, replicate)
        keep = make_keep_matrix(num_models=config.models_per_regime, num_examples=n, seed=seed)
        coins = make_audit_coins(num_examples=n, seed=seed)
        results, scores = [], {}
        queue = list(regimes)
        while queue:
            regime = queue.pop(0)
            recipe, tuning = tuned.get(regime, (recipe_for(config, regime), None))
            result, regime_scores = _audit_regime(
                regime, recipe=recipe, keep=keep, coins=coins, seed=seed, attack_names=attack_names, **context
            )
            result.dp_tuning = tuning
            results.append(result)
            scores.update({f"{regime.label}/{name}": s for name, s in regime_scores.items()})
            if config.flood_auto and regime.kind == RegimeKind.STANDARD:
                if sweep is None:
                    test_loss, levels = sweep_levels(result)
                    sweep = (test_loss, levels)
                    events.info(f"flood levels from the standard models' test loss {test_loss:.3f}: {', '.join(f'{b:g}' for b in levels)}")
                queue[:0] = [r for r in _flood_regimes(sweep[1], config) if r not in regimes]
        if replicate == 0:  # only replicate 0's figures are reported in full; later ones give spreads
            compare_with_standard(
                results,
                scores={r.label: scores[f"{r.label}/{config.main_attack}"] for r in results},
                keep=keep,
                canaries=split.canary_mask,
                main_attack=config.main_attack,
                seed=seed,
            )
            match_dp_accuracy(results, main_attack=config.main_attack)
            first = PoolAudit(results, scores, keep, _sweep_record(results, sweep, config))
        for kept, result in zip(first.regimes, results):
            kept.replicates.append(_headline(result, replicate=replicate, seed=seed, main_attack=config.main_attack))
    return first


def _tune_dp_regimes(regimes: list[Regime], *, config: AuditConfig, split: AuditSplit, **context) -> dict:
    """Each DP-SGD regime's tuned recipe and the record of its search (none without tuning)."""
    if not config.dp_tuning:
        return {}
    tuned = {}
    for regime in (r for r in regimes if r.is_private):
        tuned[regime] = tune_dp(
            recipe_for(config, regime),
            budget=config.dp_search_budget,
            split=split,
            train_size=config.pool_size // 2,
            seed=config.seed,
            **{k: context[k] for k in ("dataset", "architecture", "device", "cache_dir", "events", "executor")},
        )
    return tuned


def _audit_regime(
    regime: Regime,
    *,
    recipe: TrainRecipe,
    config: AuditConfig,
    dataset: ArrayDataset,
    split: AuditSplit,
    keep: np.ndarray,
    coins: np.ndarray,
    seed: int,
    attack_names: list[str],
    device: torch.device,
    cache_dir: Path,
    events: Events,
    architecture: dict,
    executor: Executor | None = None,
) -> tuple[RegimeResult, dict[str, np.ndarray]]:
    """One regime of one replicate: its pool attacked model by model, and its audit model's
    one-run epsilon bound."""
    common = dict(
        config=config,
        regime=regime,
        recipe=recipe,
        dataset=dataset,
        split=split,
        device=device,
        cache_dir=cache_dir,
        events=events,
        architecture=architecture,
        executor=executor,
    )
    # The audit model (its own coins, seed seed + M: the next seed after the pool's) trains in
    # the same ensemble as the pool, one more independent model, then is set apart.
    both = train_regime_pool(keep=np.vstack([keep, coins[None]]), seed=seed, audit_models=1, **common)
    pool, audit_model = both.take(slice(0, len(keep))), both.take(slice(len(keep), None))
    delta = regime.delta if regime.delta is not None else config.delta

    def analyse() -> tuple[RegimeResult, dict[str, np.ndarray]]:
        result, scores = summarise_pool(
            regime=regime,
            pool=pool,
            keep=keep,
            split=split,
            dataset=dataset,
            attack_names=attack_names,
            main_attack=config.main_attack,
            seed=seed,
        )
        result.privacy_audit = audit_epsilon(
            pool_scores=scores,
            pool_logits=pool.logits,
            keep=keep,
            audit_logits=audit_model.logits[0],
            coins=coins,
            labels=split.pool_y,
            delta=delta,
            seed=seed,
        )
        return result, scores

    key = analysis_key(
        regime=regime,
        pool=pool,
        audit_model=audit_model,
        keep=keep,
        coins=coins,
        split=split,
        dataset=dataset,
        attack_names=attack_names,
        main_attack=config.main_attack,
        seed=seed,
        delta=delta,
    )
    result, scores, from_cache = cached_analysis(cache_dir, key, analyse)
    if from_cache:  # what describes this run, not the analysis: whether each model was trained now, and how long it took
        result.models = model_summaries(pool, keep, split.pool_y)
    result.substitutions = pool.substitutions
    result.substitution_summary = summarise_substitutions(pool.substitutions)
    events.regime_done(regime.label)
    return result, scores


def _flood_regimes(levels: list[float], config: AuditConfig) -> list[Regime]:
    return [parse_regime(f"flood:{b}", delta=config.delta, max_grad_norm=config.max_grad_norm) for b in levels]


def _sweep_record(results: list[RegimeResult], sweep, config: AuditConfig) -> FloodSweep | None:
    if sweep is None:
        return None
    test_loss, levels = sweep
    standard = next(r for r in results if r.regime == RegimeKind.STANDARD)
    flooded = [r for r in results if is_sweep_regime(r, levels)]
    return flood_sweep(standard, flooded, test_loss=test_loss, tolerance=config.flood_tolerance, main_attack=config.main_attack)


def _headline(result: RegimeResult, *, replicate: int, seed: int, main_attack: str) -> ReplicateFigures:
    attack = result.attacks[main_attack]
    return ReplicateFigures(
        replicate=replicate,
        seed=seed,
        auc=attack.auc,
        tpr=attack.at(HEADLINE_FPR).tpr,
        test_accuracy=result.mean("test_accuracy"),
        epsilon_lower_bound=result.privacy_audit.epsilon_lower_bound if result.privacy_audit else None,
    )


def train_regime_pool(
    config: AuditConfig,
    *,
    regime: Regime,
    dataset: ArrayDataset,
    split: AuditSplit,
    keep: np.ndarray,
    seed: int,
    device: torch.device,
    cache_dir: Path,
    architecture: dict,
    recipe: TrainRecipe | None = None,
    events: Events | None = None,
    role: str = "model",
    executor: Executor | None = None,
    audit_models: int = 0,
) -> PoolSignals:
    """Train (or load from cache) one regime's pool exactly as an audit of ``config`` does:
    the one place that turns a configuration into ``train_pool`` arguments, so anything else
    (benchmarks) that wants the audit's models gets the same cache keys. ``recipe``: a tuned
    recipe for the regime (default: the configured one); ``executor``: where missing models
    train (default: this process); ``audit_models``: how many of the last rows of ``keep``
    are held-out audit models (reported as such in the progress events)."""

    def model_done(model: TrainedModel, total: int) -> None:
        if events is None:
            return
        pooled = total - audit_models
        if model.index < pooled:
            events.model_done(done_event(model, total=pooled, regime=regime.label, role=role))
        else:
            done = done_event(model, total=audit_models, regime=regime.label, role="audit model")
            events.model_done(dataclasses.replace(done, index=model.index - pooled))

    return train_pool(
        split=split,
        keep=keep,
        recipe=recipe if recipe is not None else recipe_for(config, regime),
        num_classes=dataset.num_classes,
        is_image=dataset.is_image,
        data_fingerprint=dataset.fingerprint,
        architecture=architecture,
        seed=seed,
        device=device,
        cache_dir=cache_dir,
        query_set=config.queries,
        snapshot_epochs=snapshot_epochs(config),
        trainer=config.trainer,
        on_model_done=model_done,
        on_warning=events.warn if events is not None else None,
        executor=executor,
    )


def check_attacks(attack_names: list[str], *, num_models: int, num_classes: int) -> None:
    """Fail before any training if an attack cannot run on a pool of ``num_models``: attack
    random outputs of 64 candidates with a real keep matrix, exactly as the audit will."""
    keep = make_keep_matrix(num_models=num_models, num_examples=64, seed=0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(*keep.shape, 1, num_classes)).astype(np.float32)
    labels = rng.integers(num_classes, size=keep.shape[1])
    for name in attack_names:
        leave_one_out_scores(name, logits=logits, keep=keep, labels=labels)
