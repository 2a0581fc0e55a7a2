"""The region of the ROC plane an (epsilon, delta)-DP training algorithm allows, for drawing.

A formula, not a measurement: any membership test against an (epsilon, delta)-DP algorithm
satisfies TPR <= min(1, delta + e^eps * FPR, 1 - e^-eps * (1 - delta - FPR))
(hypothesis-testing view of DP; see shared/REFERENCES.md, "Metrics").
"""

from __future__ import annotations

import numpy as np


def dp_tpr_bound(fpr: np.ndarray, *, epsilon: float, delta: float) -> np.ndarray:
    """Largest TPR an (epsilon, delta)-DP algorithm permits at each false-positive rate."""
    fpr = np.asarray(fpr, dtype=float)
    bound = np.minimum(delta + np.exp(epsilon) * fpr, 1 - np.exp(-epsilon) * (1 - delta - fpr))
    return np.clip(bound, 0.0, 1.0)
