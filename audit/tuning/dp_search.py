"""DP-SGD's hyper-parameters, searched within a stated budget on data set aside.

A defence is only as convincing as the baseline it beats, and DP-SGD is sensitive to its
learning rate, batch size (the Poisson sampling rate), epochs and clipping norm; Aerni, Zhang
and Tramèr (CCS 2024) show untuned DP-SGD baselines understate what DP-SGD achieves at a given
accuracy. For each epsilon the audit tries ``budget`` configurations: the configured recipe
first, then others drawn at random (seeded) from the grid

    learning rate x {1/4, 1/2, 1, 2, 4}, expected batch size x {1, 2, 4},
    epochs x {1/2, 1}, clipping norm x {1/2, 1, 2}

around the configured values, and keeps the one with the best validation accuracy (ties: the
earlier trial). Each tuning model trains on as many examples as a pool model, set aside from
the data together with the validation examples, disjoint from the audit pool and the test
part (:func:`audit.data.split_pool`'s ``reserved_indices``): no audit candidate ever trains a
tuning model, and the test accuracy the report compares was not used to choose. Tuning
models are cached like any model.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import torch

from audit.data import ArrayDataset, AuditSplit, make_split
from audit.events import Events
from audit.pool import Executor, done_event, train_pool
from audit.training import Regime, TrainRecipe
from results.claims import DpTuning, TuningTrial

LEARNING_RATE_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
BATCH_FACTORS = (1, 2, 4)
EPOCH_FACTORS = (0.5, 1.0)
CLIP_FACTORS = (0.5, 1.0, 2.0)
SPACE = (
    "learning rate x {1/4, 1/2, 1, 2, 4}, expected batch size x {1, 2, 4}, epochs x {1/2, 1}, "
    "clipping norm x {1/2, 1, 2}, around the configured values"
)


def validation_size(requested: int, *, num_examples: int) -> int:
    """Validation examples of the search: ``requested``, or by default a tenth of the data
    set, at least 100 and at most 1,000."""
    return requested if requested > 0 else int(min(1000, max(100, num_examples // 10)))


def candidates(recipe: TrainRecipe, *, budget: int, seed: int, train_size: int) -> list[TrainRecipe]:
    """``budget`` recipes: ``recipe`` itself first, then distinct others drawn from the grid
    (expected batch sizes above half of the ``train_size`` training examples left out)."""
    grid = [
        (lr, batch, epochs, clip)
        for lr, batch, epochs, clip in itertools.product(LEARNING_RATE_FACTORS, BATCH_FACTORS, EPOCH_FACTORS, CLIP_FACTORS)
        if (lr, batch, epochs, clip) != (1.0, 1, 1.0, 1.0) and recipe.batch_size * batch <= max(train_size // 2, recipe.batch_size)
    ]
    drawn = np.random.default_rng([seed, 0x7475]).permutation(len(grid))[: max(budget - 1, 0)]
    chosen = [recipe]
    for lr, batch, epochs, clip in (grid[i] for i in sorted(drawn)):
        chosen.append(
            dataclasses.replace(
                recipe,
                learning_rate=recipe.learning_rate * lr,
                batch_size=recipe.batch_size * batch,
                epochs=max(1, round(recipe.epochs * epochs)),
                regime=dataclasses.replace(recipe.regime, max_grad_norm=recipe.regime.max_grad_norm * clip),
            )
        )
    return chosen


def tuning_split(split: AuditSplit, dataset: ArrayDataset, *, train_size: int) -> AuditSplit:
    """The search's data: the first ``train_size`` set-aside examples train, the rest
    validate (as the "test" part of the split), normalised like the pool."""
    reserved = split.reserved_indices
    return make_split(dataset, pool=reserved[:train_size], test=reserved[train_size:], normalisation=split.normalisation)


def tune_dp(
    recipe: TrainRecipe,
    *,
    budget: int,
    dataset: ArrayDataset,
    split: AuditSplit,
    train_size: int,
    architecture: dict,
    seed: int,
    device: torch.device,
    cache_dir: Path,
    events: Events,
    executor: Executor | None = None,
) -> tuple[TrainRecipe, DpTuning]:
    """The best of ``budget`` DP-SGD recipes around ``recipe`` (a DP-SGD regime's), by
    validation accuracy, and the record of the search. ``executor``: where each candidate
    trains (one at a time; default: this process)."""
    data = tuning_split(split, dataset, train_size=train_size)
    regime: Regime = recipe.regime
    trials, recipes = [], candidates(recipe, budget=budget, seed=seed, train_size=train_size)
    for number, candidate in enumerate(recipes):
        pool = train_pool(
            split=data,
            keep=np.ones((1, train_size), dtype=bool),
            recipe=candidate,
            num_classes=dataset.num_classes,
            is_image=dataset.is_image,
            data_fingerprint=dataset.fingerprint,
            architecture=architecture,
            seed=seed,
            device=device,
            cache_dir=cache_dir,
            on_warning=events.warn,
            executor=executor,
        )
        model = pool.models[0]
        events.model_done(dataclasses.replace(done_event(model, total=len(recipes), regime=regime.label, role="tuning model"), index=number))
        trials.append(
            TuningTrial(
                learning_rate=candidate.learning_rate,
                batch_size=candidate.batch_size,
                epochs=candidate.epochs,
                max_grad_norm=candidate.regime.max_grad_norm,
                validation_accuracy=model.history[-1].test_accuracy,
                epsilon=model.epsilon,
            )
        )
    chosen = int(np.argmax([t.validation_accuracy for t in trials]))  # the first of equals
    record = DpTuning(
        budget=budget,
        train_size=train_size,
        validation_size=len(data.test_y),
        space=SPACE,
        trials=trials,
        chosen=chosen,
    )
    return recipes[chosen], record
