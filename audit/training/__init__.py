"""Training one model under a regime: the regime vocabulary, the recipe, the one ``train()``.

- :mod:`~audit.training.regimes`: :class:`Regime` (standard, flood:b, iflood:b, dp:eps) and
  its ``objective_loss``; :func:`parse_regime`.
- :mod:`~audit.training.recipe`: :class:`TrainRecipe`, what reference models copy.
- :mod:`~audit.training.loop`: :func:`train`, the single training loop for every regime.
- :mod:`~audit.training.private`: DP-SGD through Opacus.
- :mod:`~audit.training.accounting`: the epsilon a DP-SGD run spends, the noise for a budget.
- :mod:`~audit.training.batches`: in-memory training data and shuffled mini-batches.
- :mod:`~audit.training.device`: which device to train on, and how many threads.
- :mod:`~audit.training.ensemble`: the M models of a pool trained together, vectorised
  (with :mod:`~audit.training.ensemble_trainer`, :mod:`~audit.training.ensemble_batches`,
  :mod:`~audit.training.stacked_forward`, :mod:`~audit.training.functional_optim` and
  DP-SGD in :mod:`~audit.training.dp_vectorised`).
"""

from audit.training.batches import TrainData
from audit.training.device import choose_threads, resolve_device
from audit.training.ensemble import (
    EnsembleData,
    EnsembleOutcome,
    EnsembleUnsupported,
    supports_ensemble,
    train_ensemble,
)
from audit.training.loop import TrainOutcome, predict_logits, train
from audit.training.recipe import TrainRecipe
from audit.training.regimes import Regime, parse_regime

__all__ = [
    "EnsembleData",
    "EnsembleOutcome",
    "EnsembleUnsupported",
    "supports_ensemble",
    "train_ensemble",
    "choose_threads",
    "Regime", "TrainData", "TrainOutcome", "TrainRecipe", "parse_regime", "predict_logits", "resolve_device", "train"]
