"""Turn one regime's pool signals into a :class:`RegimeResult`: run the attacks
leave-one-out, evaluate them once through ``attacks.metrics``, and summarise the models.

Directions: attack scores are higher = member; ``keep[m, i]`` is the ground truth of model
``m``, used only to evaluate the target's scores and, inside each attack, to calibrate on
the *other* models.
"""

from __future__ import annotations

import numpy as np

from attacks import (
    evaluate_pooled,
    leave_one_out_scores,
    per_class_metrics,
    vulnerability,
)
from attacks.signals import cross_entropy, true_class_log_prob
from audit.data import ArrayDataset, AuditSplit
from audit.pool import PoolSignals
from audit.training import Regime
from results.claims import WorstCase
from results.records import (
    AttackSummary,
    ClassVulnerability,
    Curve,
    EpochRecord,
    Histogram,
    ModelSummary,
    RegimeResult,
    Snapshot,
    TprAtFpr,
    VulnerableExample,
)
from results.vocabulary import CI_LEVEL, FPR_TARGETS

MOST_VULNERABLE = 8


def summarise_pool(
    *,
    regime: Regime,
    pool: PoolSignals,
    keep: np.ndarray,
    split: AuditSplit,
    dataset: ArrayDataset,
    attack_names: list[str],
    main_attack: str,
    seed: int,
) -> tuple[RegimeResult, dict[str, np.ndarray]]:
    """Attack every model of the pool in turn, the other M-1 serving as its references;
    returns the result and the raw scores (attack name -> float ``[M, n]``)."""
    labels = split.pool_y
    scores = {
        name: leave_one_out_scores(name, logits=pool.logits, keep=keep, labels=labels) for name in attack_names
    }
    result = summarise_targets(
        regime=regime,
        label=regime.label,
        target_logits=pool.logits,
        target_keep=keep,
        scores=scores,
        models=model_summaries(pool, keep, labels),
        snapshots=_snapshots(pool, keep, labels, attack=main_attack),
        split=split,
        dataset=dataset,
        main_attack=main_attack,
        seed=seed,
    )
    return result, scores


def summarise_targets(
    *,
    regime: Regime,
    label: str,
    target_logits: np.ndarray,
    target_keep: np.ndarray,
    scores: dict[str, np.ndarray],
    models: list[ModelSummary],
    snapshots: list[Snapshot],
    split: AuditSplit,
    dataset: ArrayDataset,
    main_attack: str,
    seed: int,
) -> RegimeResult:
    """The result of T attacked target models: ``target_logits [T, n, A, C]``, their ground
    truth ``target_keep [T, n]`` and ``scores`` (attack name -> ``[T, n]``, higher = member).

    The population's figures leave the canaries out (``split.canary_mask``); the canaries
    get their own attack summaries and the main attack's worst case."""
    labels = split.pool_y
    population, canaries = ~split.canary_mask, split.canary_mask
    confidence = np.exp(true_class_log_prob(target_logits[:, :, 0, :], labels))  # [T, n], query 0
    return RegimeResult(
        label=label,
        regime=regime.kind,
        params=regime.params(),
        models=models,
        attacks={
            name: _attack_summary(name, s[:, population], target_keep[:, population], seed=seed)
            for name, s in scores.items()
        },
        canary_attacks={
            name: _attack_summary(name, s[:, canaries], target_keep[:, canaries], seed=seed)
            for name, s in scores.items()
            if canaries.any()
        },
        worst_case=_worst_case(scores[main_attack], target_keep, split, seed=seed) if canaries.any() else None,
        histograms=_histograms(confidence[:, population], target_keep[:, population]),
        snapshots=snapshots,
        per_class=[
            ClassVulnerability(
                label=c.label,
                name=dataset.class_name(c.label),
                auc=c.auc,
                tpr_at_1pct_fpr=c.tpr_at_1pct_fpr,
                n_members=c.n_members,
                n_non_members=c.n_non_members,
            )
            for c in per_class_metrics(scores[main_attack][:, population], target_keep[:, population], labels[population])
        ],
        vulnerable_examples=_most_vulnerable(scores[main_attack], target_keep, split, dataset),
    )


def _worst_case(scores: np.ndarray, keep: np.ndarray, split: AuditSplit, *, seed: int) -> WorstCase:
    """The main attack's TPR on the canaries and on the population at the lowest FPR the
    canaries resolve: 1 / (canary non-member pairs, pooled over the attacked targets)."""
    canaries = split.canary_mask
    attacked = ~np.isnan(scores).any(axis=1)
    fpr = 1.0 / int((~keep[attacked][:, canaries]).sum())
    on_canaries = evaluate_pooled(scores[:, canaries], keep[:, canaries], fpr_targets=(fpr,), seed=seed)
    on_population = evaluate_pooled(scores[:, ~canaries], keep[:, ~canaries], fpr_targets=(fpr,), seed=seed)
    return WorstCase(
        kind=split.canary_kind,
        count=int(canaries.sum()),
        fpr=fpr,
        canary_tpr=on_canaries.tpr_at_fpr[fpr],
        canary_tpr_ci=list(on_canaries.tpr_ci[fpr]) if on_canaries.tpr_ci else None,
        population_tpr=on_population.tpr_at_fpr[fpr],
        population_tpr_ci=list(on_population.tpr_ci[fpr]) if on_population.tpr_ci else None,
    )


def _attack_summary(name: str, scores: np.ndarray, keep: np.ndarray, *, seed: int) -> AttackSummary:
    pooled = evaluate_pooled(scores, keep, fpr_targets=FPR_TARGETS, seed=seed)
    attacked = ~np.isnan(scores).any(axis=1)  # evaluate_pooled ignores rows that were not attacked
    return AttackSummary(
        attack=name,
        auc=pooled.auc,
        tpr_at_fpr=[
            TprAtFpr(
                fpr=f,
                tpr=pooled.tpr_at_fpr[f],
                resolvable=pooled.resolvable[f],
                ci=list(pooled.tpr_ci[f]) if pooled.tpr_ci else None,
            )
            for f in FPR_TARGETS
        ],
        advantage=pooled.advantage,
        n_members=pooled.n_members,
        n_non_members=pooled.n_non_members,
        auc_per_target=list(pooled.auc_per_target),
        roc=Curve(x=[float(v) for v in pooled.roc_fpr], y=[float(v) for v in pooled.roc_tpr]),
        auc_ci=list(pooled.auc_ci) if pooled.auc_ci is not None else None,
        ci_level=CI_LEVEL,
        n_targets=pooled.n_targets,
        min_non_members_per_target=int((~keep[attacked]).sum(axis=1).min()),
    )


def model_summaries(pool: PoolSignals, keep: np.ndarray, labels: np.ndarray) -> list[ModelSummary]:
    """One summary per model of ``pool``; ``keep [M, n]`` are the models' training halves."""
    return [
        model_summary(
            index=model.index,
            logits=logits,
            keep_row=keep_row,
            labels=labels,
            test_accuracy=model.history[-1].test_accuracy,
            epsilon=model.epsilon,
            history=model.history,
            seconds=model.seconds,
            cached=model.cached,
        )
        for model, keep_row, logits in zip(pool.models, keep, pool.logits)
    ]


def model_summary(
    *,
    index: int,
    logits: np.ndarray,
    keep_row: np.ndarray,
    labels: np.ndarray,
    test_accuracy: float,
    epsilon: float | None,
    history: list[EpochRecord] | None = None,
    seconds: float = 0.0,
    cached: bool = False,
) -> ModelSummary:
    """One model's summary from its logits on the candidates ``[n, A, C]`` (query 0 is read)
    and its members ``keep_row [n]``.

    ``train_loss`` and ``train_accuracy`` are eval-mode figures on the training data: the last
    epoch's record when a training history exists (pool models, measured on up to 1,024 of
    the training examples), else computed here from the logits on every member (a user's
    model, whose training run is not ours to record).
    """
    first = logits[:, 0, :]
    confidence = np.exp(true_class_log_prob(first, labels))
    if history:
        train_loss, train_accuracy = history[-1].eval_train_loss, history[-1].train_accuracy
    else:
        train_loss = float(np.mean(cross_entropy(first[keep_row], labels[keep_row])))
        train_accuracy = float(np.mean(first[keep_row].argmax(1) == labels[keep_row]))
    return ModelSummary(
        index=index,
        train_loss=train_loss,
        train_accuracy=train_accuracy,
        test_accuracy=test_accuracy,
        member_confidence=float(confidence[keep_row].mean()),
        non_member_confidence=float(confidence[~keep_row].mean()),
        epsilon=epsilon,
        history=list(history or []),
        seconds=seconds,
        cached=cached,
    )


def _histograms(confidence: np.ndarray, keep: np.ndarray) -> list[Histogram]:
    """Confidence (linear bins on [0, 1]) and loss (log-spaced bins) of members against
    non-members, pooled over the models of the regime."""
    loss = -np.log(np.clip(confidence, 1e-12, 1.0))
    confidence_edges = np.linspace(0.0, 1.0, 41)
    loss_edges = np.geomspace(1e-5, max(10.0, float(loss.max()) * 1.01), 41)
    loss_edges[0] = 0.0  # the first bin collects every loss below 1e-5
    histograms = []
    for quantity, values, edges in (("confidence", confidence, confidence_edges), ("loss", loss, loss_edges)):
        members, _ = np.histogram(values[keep], bins=edges)
        non_members, _ = np.histogram(values[~keep], bins=edges)
        histograms.append(
            Histogram(quantity=quantity, edges=edges.tolist(), members=members.tolist(), non_members=non_members.tolist())
        )
    return histograms


def _snapshots(pool: PoolSignals, keep: np.ndarray, labels: np.ndarray, *, attack: str) -> list[Snapshot]:
    """The attack's pooled AUC on the models as they stood at each snapshot epoch."""
    snapshots = []
    for epoch, logits in zip(pool.snapshot_epochs, pool.snapshot_logits):
        scores = leave_one_out_scores(attack, logits=logits, keep=keep, labels=labels)
        auc = evaluate_pooled(scores, keep, fpr_targets=FPR_TARGETS, bootstrap=0).auc
        train_loss = float(np.mean([m.history[epoch - 1].eval_train_loss for m in pool.models]))
        snapshots.append(Snapshot(epoch=epoch, train_loss=train_loss, attack=attack, auc=auc))
    return snapshots


def _most_vulnerable(
    scores: np.ndarray, keep: np.ndarray, split: AuditSplit, dataset: ArrayDataset
) -> list[VulnerableExample]:
    per_example = vulnerability(scores, keep)
    order = np.argsort(-np.nan_to_num(per_example, nan=-np.inf))[:MOST_VULNERABLE]
    examples = []
    for i in order:
        raw = dataset.x[split.pool_indices[i]]  # un-normalised, as the user knows the example
        image = np.clip(raw.transpose(1, 2, 0), 0.0, 1.0).round(3).tolist() if dataset.is_image else None
        features = None if dataset.is_image else raw.ravel()[:32].astype(float).round(4).tolist()
        examples.append(
            VulnerableExample(
                index=int(split.pool_indices[i]),
                label=int(split.pool_y[i]),
                vulnerability=float(per_example[i]),
                image=image,
                features=features,
            )
        )
    return examples
