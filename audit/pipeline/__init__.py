"""One audit from configuration to files on disk:

    AuditConfig -> data -> keep matrix -> pool of models per regime -> signals -> attacks
    -> metrics -> AuditResult -> results.json, scores.npz, config.toml, report.html

Bad input is refused before anything trains (the configuration, the output and cache
folders, every attack on a probe pool); models are cached as they finish, so an interrupted
audit resumes where it stopped; the outputs are written all at once (:mod:`.outputs`).

- :mod:`~audit.pipeline.pools`: the pool audit of every regime (and its replicates).
- :mod:`~audit.pipeline.analysis_cache`: each regime's analysis, cached under a digest of
  its inputs and code, so a re-run on cached models does not recompute it.
- :mod:`~audit.pipeline.outputs`: the output folder, checked first and written last.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from attacks import DEFAULT_ATTACKS
from audit.config import regime_list, validate
from audit.config.validation import validate_architecture
from audit.data import ArrayDataset, load_dataset, plant_canaries, split_pool
from audit.events import Events, ModelDone
from audit.pipeline.outputs import check_writable, write_outputs
from audit.pipeline.pools import audit_pools, train_regime_pool
from audit.pool import Executor, create_executor
from audit.provenance import environment_record
from audit.target import audit_target_model
from audit.training import choose_threads, resolve_device
from audit.tuning import validation_size
from results.config import AuditConfig
from results.records import ArchitectureRecord, AuditResult, DatasetRecord
from results.serialization import from_json_dict

if TYPE_CHECKING:
    import torch

__all__ = ["AuditRun", "Events", "ModelDone", "run_audit", "train_regime_pool"]


@dataclass
class AuditRun:
    """The result of :func:`run_audit` and where its files are."""

    result: AuditResult
    directory: Path

    @property
    def report_path(self) -> Path:
        return self.directory / "report.html"


def run_audit(config: AuditConfig, *, events: Events | None = None) -> AuditRun:
    """Run the audit ``config`` describes; writes into ``config.output_dir``.

    Without ``config.model``, every regime's pool of models is attacked model by model;
    with it, the user's model is the target (see :mod:`audit.target.audit`).
    """
    events = events or Events()
    validate(config)
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    output_dir = Path(config.output_dir)
    cache_dir = Path(config.cache_dir) if config.cache_dir else output_dir / "cache"
    check_writable(output_dir, what="output folder", option="--output-dir")
    check_writable(cache_dir, what="cache folder", option="--cache-dir")
    # With Ray, the models train on the cluster's devices: this process only scores a user's
    # model, and needs no GPU of its own even when the workers use theirs.
    device = resolve_device(config.device if config.executor == "local" or config.device == "cpu" else "auto")
    choose_threads(config.threads)
    executor = create_executor(
        config.executor,
        ray_address=config.ray_address,
        device=config.device,
        threads=config.threads,
        workers=config.workers,
    )
    try:
        return _run(
            config,
            events=events,
            started_at=started_at,
            clock=clock,
            output_dir=output_dir,
            cache_dir=cache_dir,
            device=device,
            executor=executor,
        )
    finally:
        executor.close()


def _run(
    config: AuditConfig,
    *,
    events: Events,
    started_at: datetime,
    clock: float,
    output_dir: Path,
    cache_dir: Path,
    device: torch.device,
    executor: Executor,
) -> AuditRun:
    """:func:`run_audit` once its folders, device and executor are settled."""
    attack_names = list(config.attacks or DEFAULT_ATTACKS)
    if config.main_attack not in attack_names:
        attack_names.append(config.main_attack)
    dataset = load_dataset(config.dataset, data_dir=config.data_dir or None, download=config.download)
    _warn_about_choices(config, dataset=dataset, events=events)

    if config.model:
        audited = audit_target_model(
            config,
            dataset=dataset,
            attack_names=attack_names,
            device=device,
            cache_dir=cache_dir,
            events=events,
            executor=executor,
        )
        config, split, regime_results, all_scores = audited.config, audited.split, audited.regimes, audited.scores
        architecture = audited.architecture
        keep_arrays = {"keep": audited.target_keep[None], "reference_keep": audited.reference_keep}
        flood_sweep = None
    else:
        architecture = validate_architecture(config, input_shape=dataset.input_shape, num_classes=dataset.num_classes)
        tuning = config.dp_tuning and any(r.is_private for r in regime_list(config))
        reserved = config.pool_size // 2 + validation_size(config.validation_size, num_examples=len(dataset.y)) if tuning else 0
        split = plant_canaries(
            split_pool(
                dataset, pool_size=config.pool_size, test_size=config.test_size, seed=config.seed, reserved_size=reserved
            ),
            count=config.canaries,
            kind=config.canary_kind,
            num_classes=dataset.num_classes,
            seed=config.seed,
        )
        pools = audit_pools(
            config,
            dataset=dataset,
            split=split,
            attack_names=attack_names,
            device=device,
            cache_dir=cache_dir,
            events=events,
            architecture=architecture,
            executor=executor,
        )
        regime_results, all_scores, keep_arrays = pools.regimes, pools.scores, {"keep": pools.keep}
        flood_sweep = pools.flood_sweep

    result = AuditResult(
        run_name=config.run_name,
        config=config,
        dataset=DatasetRecord(
            name=dataset.name,
            num_classes=dataset.num_classes,
            input_shape=list(dataset.input_shape),
            pool_size=len(split.pool_y),
            test_size=len(split.test_y),
            fingerprint=dataset.fingerprint,
            class_names=list(dataset.class_names),
        ),
        regimes=regime_results,
        environment=environment_record(device, started_at=started_at, seconds=time.perf_counter() - clock, seed=config.seed),
        main_attack=config.main_attack,
        flood_sweep=flood_sweep,
        architecture=from_json_dict(ArchitectureRecord, architecture),
    )
    arrays = {
        "labels": split.pool_y,
        "pool_indices": split.pool_indices,
        "canaries": split.canary_mask,
        **keep_arrays,
        **all_scores,
    }
    write_outputs(output_dir, result=result, config=config, arrays=arrays, cache_dir=cache_dir)
    return AuditRun(result=result, directory=output_dir)


def _warn_about_choices(config: AuditConfig, *, dataset: ArrayDataset, events: Events) -> None:
    """Choices that run but rarely mean what the user wants: said once, before training."""
    if config.models_per_regime % 2:
        events.warn(
            f"{config.models_per_regime} models per regime is odd: each candidate is a member of "
            f"{config.models_per_regime // 2} of them and a non-member of {config.models_per_regime // 2 + 1}; "
            "an even number balances every candidate's references"
        )
    chance_loss = math.log(dataset.num_classes)
    for regime in regime_list(config):
        if regime.flood_level > chance_loss:
            events.warn(
                f"flood level {regime.flood_level:g} in {regime.label} is above ln({dataset.num_classes}) = "
                f"{chance_loss:.2f}, the loss of a uniform guess: flooding will push the model below chance accuracy"
            )
