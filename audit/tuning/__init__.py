"""Tuning baselines before they are compared: DP-SGD's hyper-parameters searched within a
stated budget on data set aside from the audit (:mod:`~audit.tuning.dp_search`)."""

from audit.tuning.dp_search import (
    SPACE,
    candidates,
    tune_dp,
    tuning_split,
    validation_size,
)

__all__ = ["SPACE", "candidates", "tune_dp", "tuning_split", "validation_size"]
