"""Auditing one trained model of the user's: the same flow as the pool audit, with the
target fixed.

The candidates are the model's members plus as many non-members. For every regime, M
reference models train on random halves of the candidates (a keep matrix, as in the pool
audit) with that regime's recipe; the user's model is attacked with the references of its
own recipe (``target_regime``), and for every other regime a baseline model of the same
architecture, trained on exactly the user's members, is attacked with the references of
that regime. So the report compares the user's model with DP-SGD and flooding at the same
architecture and data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from attacks import create_attack
from audit.analysis.summary import model_summaries, model_summary, summarise_targets
from audit.config import recipe_for, regime_list
from audit.config.validation import validate_architecture
from audit.data import (
    ArrayDataset,
    AuditSplit,
    Normalisation,
    make_keep_matrix,
    make_split,
    query_variants,
)
from audit.errors import AuditInputError
from audit.events import Events
from audit.pool import Executor, done_event, train_pool
from audit.target.indices import check_indices, read_indices
from audit.target.loading import TargetModel, check_outputs, load_target_model
from audit.training import parse_regime, predict_logits
from audit.training.private import summarise_substitutions
from results.config import AuditConfig
from results.records import RegimeResult


@dataclass
class TargetAudit:
    """Regime results and the per-example scores (``REGIME/ATTACK`` -> ``[1, n]``)."""

    regimes: list[RegimeResult]
    scores: dict[str, np.ndarray]
    split: AuditSplit
    target_keep: np.ndarray
    reference_keep: np.ndarray
    config: AuditConfig
    architecture: dict


def audit_target_model(
    config: AuditConfig,
    *,
    dataset: ArrayDataset,
    attack_names: list[str],
    device: torch.device,
    cache_dir: Path,
    events: Events,
    executor: Executor | None = None,
) -> TargetAudit:
    """Attack ``config.model`` on ``dataset``; see the module docstring."""
    target = load_target_model(
        config.model,
        architecture=config.architecture,
        options=config.architecture_options,
        input_shape=dataset.input_shape,
        num_classes=dataset.num_classes,
        trust_pickle=config.trust_pickle,
    )
    _check_fingerprint(target, dataset, config=config)
    config = _adopt_checkpoint_recipe(config, target)
    architecture = validate_architecture(config, input_shape=dataset.input_shape, num_classes=dataset.num_classes)
    members = _members(config, target, num_examples=len(dataset.y))
    non_members = _non_members(config, members, num_examples=len(dataset.y))
    split, target_keep = _candidate_split(dataset, members=members, non_members=non_members, target=target, config=config)
    seed = _reference_seed(config, target)
    keep = make_keep_matrix(num_models=config.models_per_regime, num_examples=len(split.pool_y), seed=seed)
    user_logits, user_summary = _query_user_model(
        target, split, target_keep, config=config, num_classes=dataset.num_classes, is_image=dataset.is_image
    )
    events.info(
        f"auditing {config.model} ({target.source}) on {dataset.name}: {len(members)} members, "
        f"{len(non_members)} non-members, {config.models_per_regime} reference models per regime on {device}"
    )

    fingerprint = dataset.fingerprint
    user_regime = parse_regime(config.target_regime, delta=config.delta, max_grad_norm=config.max_grad_norm)
    regimes = [user_regime, *(r for r in regime_list(config) if r != user_regime)]
    events.plan(regimes=[r.label for r in regimes], models_per_regime=config.models_per_regime + 1)
    results, all_scores = [], {}
    for regime in regimes:
        common = dict(
            split=split,
            recipe=recipe_for(config, regime),
            num_classes=dataset.num_classes,
            is_image=dataset.is_image,
            data_fingerprint=fingerprint,
            architecture=architecture,
            device=device,
            cache_dir=cache_dir,
            query_set=config.queries,
            executor=executor,
        )
        references = train_pool(
            keep=keep,
            seed=seed,
            on_model_done=lambda m, total, r=regime: events.model_done(
                done_event(m, total=total, regime=r.label, role="reference model")
            ),
            on_warning=events.warn,
            **common,
        )
        if regime == user_regime:
            label, target_logits, models = f"your model ({regime.label})", user_logits, [user_summary]
        else:
            # The baseline trains on exactly the user's members, with a seed no reference uses.
            baseline = train_pool(
                keep=target_keep[None],
                seed=seed + config.models_per_regime,
                on_model_done=lambda m, total, r=regime: events.model_done(
                    done_event(m, total=total, regime=r.label, role="baseline")
                ),
                on_warning=events.warn,
                **common,
            )
            label, target_logits = f"{regime.label} baseline", baseline.logits[0]
            models = model_summaries(baseline, target_keep[None], split.pool_y)
        scores = {
            name: create_attack(name).fit(references.logits, keep, split.pool_y).score(target_logits, split.pool_y)[None]
            for name in attack_names
        }
        results.append(
            summarise_targets(
                regime=regime,
                label=label,
                target_logits=target_logits[None],
                target_keep=target_keep[None],
                scores=scores,
                models=models,
                snapshots=[],
                split=split,
                dataset=dataset,
                main_attack=config.main_attack,
                seed=seed,
            )
        )
        events.regime_done(regime.label)
        results[-1].substitutions = references.substitutions
        results[-1].substitution_summary = summarise_substitutions(references.substitutions)
        all_scores.update({f"{label}/{name}": s for name, s in scores.items()})
    return TargetAudit(results, all_scores, split, target_keep, keep, config, architecture)


def _reference_seed(config: AuditConfig, target: TargetModel) -> int:
    """The first seed of the reference models (model m gets it + m, the baselines it + M):
    drawn from a stream of its own (SeedSequence of the configured seed), and moved past the
    user's model's own seed when a checkpoint records one, so that no reference repeats the
    target's training run (``python -m audit.train`` and the audit both default to seed 0)."""
    seed = int(np.random.SeedSequence([config.seed, 0x72656673]).generate_state(1)[0] >> 2)
    target_seed = target.manifest.get("seed")
    if isinstance(target_seed, int) and seed <= target_seed <= seed + config.models_per_regime:
        seed = target_seed + 1
    return seed


def _check_fingerprint(target: TargetModel, dataset: ArrayDataset, *, config: AuditConfig) -> None:
    """A checkpoint that names the data it was trained on must be audited on that data: the
    member indices mean nothing on other data, or on the same data in another order."""
    stored = target.manifest.get("data_fingerprint")
    if stored is not None and stored != dataset.fingerprint:
        raise AuditInputError(
            f"checkpoint {config.model} was trained on data set {target.manifest.get('dataset', '?')!r} with "
            f"fingerprint {stored}, but --dataset {config.dataset} has fingerprint {dataset.fingerprint} (other "
            "contents or another order): audit it on the data set it was trained on"
        )


def _adopt_checkpoint_recipe(config: AuditConfig, target: TargetModel) -> AuditConfig:
    """A flood-audit checkpoint carries its recipe: the references copy it field for field."""
    recipe = target.manifest.get("recipe")
    if not recipe:
        return config
    regime = recipe["regime"]
    spec = replace(parse_regime("standard"), **regime).spec
    return replace(
        config,
        architecture=recipe["architecture"],
        architecture_options=dict(recipe.get("architecture_options", {})),
        epochs=recipe["epochs"],
        batch_size=recipe["batch_size"],
        optimizer=recipe["optimizer"],
        learning_rate=recipe["learning_rate"] if regime["epsilon"] is None else config.learning_rate,
        dp_learning_rate=recipe["learning_rate"] if regime["epsilon"] is not None else config.dp_learning_rate,
        target_regime=spec,
        delta=regime["delta"] if regime["delta"] is not None else config.delta,
        max_grad_norm=regime["max_grad_norm"],
    )


def _members(config: AuditConfig, target: TargetModel, *, num_examples: int) -> np.ndarray:
    if config.members:
        return read_indices(config.members, num_examples=num_examples, what="members")
    if "members" in target.manifest:
        return check_indices(
            target.manifest["members"], num_examples=num_examples, source=f"the member list of checkpoint {config.model}"
        )
    raise AuditInputError(
        f"no member indices for {config.model}: pass --members FILE (indices of its training examples in the data set)"
    )


def _non_members(config: AuditConfig, members: np.ndarray, *, num_examples: int) -> np.ndarray:
    """Known non-members, or as many examples from outside the members, drawn at random."""
    if config.non_members:
        non_members = read_indices(config.non_members, num_examples=num_examples, what="non-members")
        overlap = np.intersect1d(members, non_members)
        if overlap.size:
            raise AuditInputError(
                f"members and non-members overlap in {overlap.size} indices (first: {overlap[0]}); "
                "an example cannot be both"
            )
        return non_members
    outside = np.setdiff1d(np.arange(num_examples), members)
    if outside.size == 0:
        raise AuditInputError("every example of the data set is a member: pass --non-members FILE or a larger data set")
    rng = np.random.default_rng(config.seed)
    return rng.choice(outside, size=min(len(members), outside.size), replace=False)


def _candidate_split(dataset, *, members, non_members, target: TargetModel, config: AuditConfig):
    """Candidates = members then non-members; the test part is what lies outside both
    (at most ``test_size``; the non-members if nothing does). Inputs are normalised with
    the checkpoint's statistics or else those of the members, the model's training data."""
    candidates = np.concatenate([members, non_members])
    rest = np.random.default_rng(config.seed).permutation(np.setdiff1d(np.arange(len(dataset.y)), candidates))
    test = rest[: config.test_size] if config.test_size else rest
    if test.size == 0:
        test = non_members
    if "normalisation" in target.manifest:
        normalisation = Normalisation.from_lists(**target.manifest["normalisation"])
    else:
        normalisation = Normalisation.of(dataset, members)
    split = make_split(dataset, pool=candidates, test=test, normalisation=normalisation)
    target_keep = np.zeros(len(candidates), dtype=bool)
    target_keep[: len(members)] = True
    return split, target_keep


def _query_user_model(target: TargetModel, split: AuditSplit, target_keep, *, config, num_classes, is_image):
    """The user's model's logits on every candidate ``[n, A, C]`` and its summary."""
    module = target.module
    x = torch.from_numpy(split.pool_x)
    with torch.no_grad():
        check_outputs(predict_logits(module, x), num_classes=num_classes, path=config.model)
        queries = [predict_logits(module, q) for q in query_variants(x, config.queries, is_image=is_image)]
        test_logits = predict_logits(module, torch.from_numpy(split.test_x)).float().numpy()
    logits = torch.stack(queries, dim=1).float().numpy()
    summary = model_summary(
        index=0,
        logits=logits,
        keep_row=target_keep,
        labels=split.pool_y,
        test_accuracy=float(np.mean(test_logits.argmax(1) == split.test_y)),
        epsilon=target.epsilon,
    )
    return logits, summary
