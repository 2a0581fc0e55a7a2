"""Per-example signals computed from logits, numerically stable, in float64.

Every function takes ``logits`` of shape ``[..., C]`` (any leading axes, e.g. ``[M, n, A]``)
and, where the true label matters, ``labels`` broadcastable to ``logits.shape[:-1]``
(pass ``labels[:, None]`` for logits ``[M, n, A, C]``). Outputs have shape
``logits.shape[:-1]`` unless stated otherwise.

Everything works from logits rather than softmax outputs: a probability of 1.0 in float32
hides how confident the model was, which is exactly the information the attacks need.
"""

from __future__ import annotations

import numpy as np


def logsumexp(z: np.ndarray, *, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log sum exp(z) along ``axis``, shifted by the maximum so that nothing overflows.

    Every slice must hold a finite entry (logits are finite; masked ones are -inf).
    scipy's version handles more edge cases and is several times slower here.
    """
    peak = np.max(z, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(z - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p for every class, ``[..., C]``."""
    z = np.asarray(logits, dtype=np.float64)
    return z - logsumexp(z, keepdims=True)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities p, ``[..., C]``."""
    return np.exp(log_softmax(logits))


def log1m_softmax(logits: np.ndarray) -> np.ndarray:
    """log(1 - p) for every class, ``[..., C]``, accurate even when p is within 1e-300 of 1."""
    return _log1m_from_log_p(log_softmax(logits))


def _log1m_from_log_p(log_p: np.ndarray) -> np.ndarray:
    """log(1 - p) from ``log_p [..., C]`` (a log-softmax, computed once by the callers).

    For a class with p <= 1/2, log1p(-p) is accurate. Only the arg-max class can have p > 1/2,
    and there 1 - p cancels; its log(1 - p) is log sum of the other classes' p, a logsumexp
    of their log p.
    """
    top = np.argmax(log_p, axis=-1)[..., None]
    out = np.log1p(-np.exp(np.minimum(log_p, np.log(0.5))))
    others = log_p.copy()
    np.put_along_axis(others, top, -np.inf, axis=-1)
    np.put_along_axis(out, top, logsumexp(others, keepdims=True), axis=-1)
    return out


def log_odds(logits: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) for every class, ``[..., C]``: the logit-scaled probabilities."""
    log_p = log_softmax(logits)
    return log_p - _log1m_from_log_p(log_p)


def take_label(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Pick ``values[..., label]``: ``values`` is ``[..., C]``, ``labels`` broadcasts to
    ``values.shape[:-1]``; returns ``values.shape[:-1]``."""
    index = np.broadcast_to(np.asarray(labels), values.shape[:-1])[..., None]
    return np.take_along_axis(values, index, axis=-1)[..., 0]


def true_class_log_prob(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log p_y. Higher = more confident on the true label."""
    return take_label(log_softmax(logits), labels)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy loss -log p_y (>= 0). Lower = more member-like (Yeom et al., CSF 2018)."""
    return -true_class_log_prob(logits, labels)


def lira_phi(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """LiRA's logit-scaled confidence phi = log p_y - log sum_{y' != y} p_{y'}.

    Carlini et al., S&P 2022, Sec. IV-B: this makes the per-example distribution of the
    confidence approximately Gaussian. Computed as z_y - logsumexp(z_{y' != y}), which never
    forms p_y, so it stays finite however large the logit gap. Higher = more member-like.
    """
    z = np.asarray(logits, dtype=np.float64)
    index = np.broadcast_to(np.asarray(labels), z.shape[:-1])[..., None]
    z_true = np.take_along_axis(z, index, axis=-1)[..., 0]
    others = z.copy()
    np.put_along_axis(others, index, -np.inf, axis=-1)
    return z_true - logsumexp(others)


def entropy(logits: np.ndarray) -> np.ndarray:
    """Shannon entropy of the prediction, -sum_i p_i log p_i (nats). Lower = more member-like."""
    log_p = log_softmax(logits)
    return -np.sum(np.exp(log_p) * log_p, axis=-1)


def modified_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Song & Mittal's modified entropy (USENIX Security 2021, Eq. 5). Lower = more member-like.

    Mentr = -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i). Unlike the entropy it uses
    the label: a confident wrong prediction has a large Mentr.
    """
    log_p = log_softmax(logits)
    log1m_p = _log1m_from_log_p(log_p)
    p = np.exp(log_p)
    classes = np.arange(log_p.shape[-1])
    is_true = classes == np.broadcast_to(np.asarray(labels), log_p.shape[:-1])[..., None]
    true_term = -np.exp(take_label(log1m_p, labels)) * take_label(log_p, labels)
    # Masking (not subtracting the true-class term from the full sum) avoids cancellation.
    other_terms = -np.sum(np.where(is_true, 0.0, p * log1m_p), axis=-1)
    return true_term + other_terms


def predicted_correctly(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """True where the arg-max class equals the label (first maximum on ties)."""
    return np.argmax(logits, axis=-1) == np.broadcast_to(np.asarray(labels), np.shape(logits)[:-1])
