"""One audit from configuration to files on disk:

    AuditConfig -> data -> keep matrix -> pool of models per regime -> signals -> attacks
    -> metrics -> AuditResult -> results.json, scores.npz, report.html

Models are cached as they finish, so an interrupted audit resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from attacks import DEFAULT_ATTACKS, create_attack
from audit.analysis import summarise_pool
from audit.config import recipe_for, regime_list, snapshot_epochs, validate, write_config_toml
from audit.data import ArrayDataset, AuditSplit, load_dataset, make_keep_matrix, split_pool
from audit.pool import PoolSignals, ProgressCallback, TrainedModel, train_pool
from audit.provenance import environment_record
from audit.target import audit_target_model
from audit.training import Regime, resolve_device
from reports import render_report
from results.config import AuditConfig
from results.files import write_json, write_npz
from results.records import AuditResult, DatasetRecord

Log = Callable[[str], None]


@dataclass
class AuditRun:
    """The result of :func:`run_audit` and where its files are."""

    result: AuditResult
    directory: Path

    @property
    def report_path(self) -> Path:
        return self.directory / "report.html"


def run_audit(config: AuditConfig, *, log: Log = lambda message: None) -> AuditRun:
    """Run the audit ``config`` describes; writes into ``config.output_dir``.

    Without ``config.model``, every regime's pool of models is attacked model by model;
    with it, the user's model is the target (see :mod:`audit.target_audit`).
    """
    validate(config)
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    device = resolve_device(config.device)
    attack_names = list(config.attacks or DEFAULT_ATTACKS)
    if config.main_attack not in attack_names:
        attack_names.append(config.main_attack)
    output_dir = Path(config.output_dir)
    cache_dir = Path(config.cache_dir) if config.cache_dir else output_dir / "cache"
    dataset = load_dataset(config.dataset, data_dir=config.data_dir or None, download=config.download)

    if config.model:
        _check_attacks(
            attack_names,
            reference_keep=make_keep_matrix(num_models=config.models_per_regime, num_examples=64, seed=0),
            num_classes=dataset.num_classes,
        )
        audited = audit_target_model(
            config, dataset=dataset, attack_names=attack_names, device=device, cache_dir=cache_dir, log=log
        )
        config, split, regime_results, all_scores = audited.config, audited.split, audited.regimes, audited.scores
        keep_arrays = {"keep": audited.target_keep[None], "reference_keep": audited.reference_keep}
    else:
        split = split_pool(dataset, pool_size=config.pool_size, test_size=config.test_size, seed=config.seed)
        keep = make_keep_matrix(num_models=config.models_per_regime, num_examples=len(split.pool_y), seed=config.seed)
        # Each target's references are the other M-1 models: probe with model 0 left out.
        _check_attacks(attack_names, reference_keep=keep[1:, :64], num_classes=dataset.num_classes)
        regime_results, all_scores = _audit_pools(
            config,
            dataset=dataset,
            split=split,
            keep=keep,
            attack_names=attack_names,
            device=device,
            cache_dir=cache_dir,
            log=log,
        )
        keep_arrays = {"keep": keep}

    result = AuditResult(
        run_name=config.run_name,
        config=config,
        dataset=DatasetRecord(
            name=dataset.name,
            num_classes=dataset.num_classes,
            input_shape=list(dataset.input_shape),
            pool_size=len(split.pool_y),
            test_size=len(split.test_y),
            fingerprint=dataset.fingerprint(),
        ),
        regimes=regime_results,
        environment=environment_record(device, started_at=started_at, seconds=time.perf_counter() - clock, seed=config.seed),
        main_attack=config.main_attack,
    )
    write_npz(
        output_dir / "scores.npz", labels=split.pool_y, pool_indices=split.pool_indices, **keep_arrays, **all_scores
    )
    write_json(output_dir / "results.json", result.to_dict())
    write_config_toml(output_dir / "config.toml", config)
    render_report(result, output_dir / "report.html")
    return AuditRun(result=result, directory=output_dir)


def train_regime_pool(
    config: AuditConfig,
    *,
    regime: Regime,
    dataset: ArrayDataset,
    data_fingerprint: str,
    split: AuditSplit,
    keep: np.ndarray,
    device: torch.device,
    cache_dir: Path,
    on_model_done: ProgressCallback | None = None,
) -> PoolSignals:
    """Train (or load from cache) one regime's pool exactly as an audit of ``config`` does:
    the one place that turns a configuration into ``train_pool`` arguments, so anything else
    (benchmarks) that wants the audit's models gets the same cache keys."""
    return train_pool(
        split=split,
        keep=keep,
        recipe=recipe_for(config, regime),
        num_classes=dataset.num_classes,
        is_image=dataset.is_image,
        data_fingerprint=data_fingerprint,
        seed=config.seed,
        device=device,
        cache_dir=cache_dir,
        query_set=config.queries,
        snapshot_epochs=snapshot_epochs(config),
        on_model_done=on_model_done,
    )


def _audit_pools(config: AuditConfig, *, dataset, split, keep, attack_names, device, cache_dir, log):
    """Train (or load) each regime's pool and attack every model in turn."""
    regimes = regime_list(config)
    fingerprint = dataset.fingerprint()
    log(
        f"auditing {len(regimes)} regimes x {config.models_per_regime} models on {dataset.name} "
        f"({len(split.pool_y)} candidates, {len(split.test_y)} test examples) on {device}"
    )
    regime_results, all_scores = [], {}
    for number, regime in enumerate(regimes, 1):
        prefix = f"[{number}/{len(regimes)} {regime.label}]"
        pool = train_regime_pool(
            config,
            regime=regime,
            dataset=dataset,
            data_fingerprint=fingerprint,
            split=split,
            keep=keep,
            device=device,
            cache_dir=cache_dir,
            on_model_done=lambda model, total, prefix=prefix: log(_model_line(prefix, model, total)),
        )
        result, scores = summarise_pool(
            regime=regime,
            pool=pool,
            keep=keep,
            split=split,
            dataset=dataset,
            attack_names=attack_names,
            main_attack=config.main_attack,
            seed=config.seed,
        )
        regime_results.append(result)
        all_scores.update({f"{regime.label}/{name}": s for name, s in scores.items()})
    return regime_results, all_scores


def _check_attacks(attack_names: list[str], *, reference_keep: np.ndarray, num_classes: int) -> None:
    """Fail before any training if an attack is unknown or cannot run with these reference
    models: fit each on random outputs of references with the real keep pattern."""
    attacks = [create_attack(name) for name in attack_names]
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(*reference_keep.shape, 1, num_classes)).astype(np.float32)
    labels = rng.integers(num_classes, size=reference_keep.shape[1])
    for attack in attacks:
        attack.fit(logits, reference_keep, labels)


def _model_line(prefix: str, model: TrainedModel, total: int) -> str:
    last = model.history[-1]
    source = "cached" if model.cached else f"{model.seconds:.1f} s"
    epsilon = f", eps {model.epsilon:.2f}" if model.epsilon is not None else ""
    return (
        f"{prefix} model {model.index + 1}/{total} ({source}): train loss {last.eval_train_loss:.3f}, "
        f"train acc {last.train_accuracy:.1%}, test acc {last.test_accuracy:.1%}{epsilon}"
    )
