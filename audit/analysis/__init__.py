"""From attack scores to result records: leave-one-out attacks on a pool, every attack's
metrics through :mod:`attacks.metrics`, and the summaries of models and regimes.

- :mod:`~audit.analysis.summary`: :func:`summarise_pool`, :func:`summarise_targets`,
  :func:`model_summary`.
"""

from audit.analysis.summary import (
    model_summaries,
    model_summary,
    summarise_pool,
    summarise_targets,
)

__all__ = ["model_summaries", "model_summary", "summarise_pool", "summarise_targets"]
