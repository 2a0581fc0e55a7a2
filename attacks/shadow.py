"""Shadow-model attack: a classifier trained on reference models' outputs labelled IN / OUT.

Shokri et al., "Membership Inference Attacks Against Machine Learning Models", IEEE S&P 2017
(shadow models, one attack model per class on the output vector); Salem et al., "ML-Leaks",
NDSS 2019 (top-3 sorted posteriors suffice).

Features of each (model, candidate), from the un-augmented query:

- ``"sorted"``: the whole probability vector sorted in decreasing order (Shokri);
- ``"top3"``: its three largest entries (ML-Leaks);
- ``"top3+label"``: those plus the probability of the true label.

Probabilities enter as log-odds log(p / (1 - p)), computed from the logits: a monotone
transform that keeps the information and spreads out the region near p = 1 where members
and non-members differ, which linear and neural attack models cannot resolve on the raw
scale.

In :meth:`leave_one_out` the target's rows never train its attack model, so its scores
are out-of-fold by construction, and the training rows are the (reference, candidate) pairs
of :func:`attacks.base.reference_mask`: their share of members is the same whatever the
target's keep row, so the classifier's intercept cannot follow the target's member count
(without the mask, on exchangeable data, a target's mean score fell as its member count rose,
r = -0.99, and the pooled AUC dropped to 0.488). Training rows (up to R * n of them) are
subsampled to ``max_rows`` (seeded) to bound fitting time; 50,000 rows is ample for a
handful of features.

Attack classifiers run single-threaded (OpenMP and BLAS pools limited to one thread): they
are small, and multi-threaded pools spin-wait when other work holds the cores (the pipeline
trains models alongside), which made a 600-row gradient-boosting fit take a minute on a
loaded 2-core machine instead of a fraction of a second.
"""

from __future__ import annotations

import functools

import numpy as np
from threadpoolctl import ThreadpoolController

from attacks import signals as sig
from attacks.base import AttackInputError, MembershipAttack, small_pool_hint
from attacks.logistic import ScaledLogisticRegression

FEATURES = ("sorted", "top3", "top3+label")
CLASSIFIERS = ("logistic", "mlp", "forest", "gbdt")


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """One controller of the BLAS / OpenMP thread pools, found once: finding them scans the
    loaded libraries (~4 ms), and the attack limits them around every fit and score. First
    called after the classifier's modules are imported, so it sees their libraries."""
    return ThreadpoolController()


def make_classifier(name: str, *, seed: int):
    """A fresh attack classifier by name (see ``CLASSIFIERS``), with scikit-learn's estimator
    protocol.

    ``"logistic"`` is :class:`attacks.logistic.ScaledLogisticRegression`: the optimum of
    scikit-learn's standardised logistic regression, by Newton's method, without importing
    scikit-learn (about a second). The others are scikit-learn's, imported here for the
    classifier asked for: its ensemble and network modules take about a second to import,
    which listing or validating attacks never needs."""
    if name == "logistic":
        return ScaledLogisticRegression()

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "mlp":
        from sklearn.neural_network import MLPClassifier

        return make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64, 64), early_stopping=True, max_iter=200, random_state=seed),
        )
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, min_samples_leaf=20, random_state=seed)
    if name == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    raise AttackInputError(f"unknown shadow classifier {name!r}; valid: {', '.join(CLASSIFIERS)}")


class ShadowAttack(MembershipAttack):
    """Attack classifier on reference outputs: features ``[n, F]`` -> scores ``[n]``, the
    classifier's log-odds of "member" (higher = member).

    Learned attributes: ``classifier_`` (all classes) and, with ``per_class=True``,
    ``class_classifiers_`` (label -> classifier, for classes whose training rows hold both
    members and non-members; other classes fall back to ``classifier_``).
    """

    name = "shadow"
    description = "Shadow-model attack: classifier on reference models' sorted posteriors, labelled by keep"
    reference = "Shokri et al., Membership Inference Attacks Against ML Models, IEEE S&P 2017; Salem et al., ML-Leaks, NDSS 2019"

    def __init__(
        self,
        *,
        features: str = "top3+label",
        classifier: str = "logistic",
        per_class: bool = False,
        max_rows: int = 50_000,
        seed: int = 0,
    ):
        self.features = features
        self.classifier = classifier
        self.per_class = per_class
        self.max_rows = max_rows
        self.seed = seed

    def _validate_options(self) -> None:
        if self.features not in FEATURES:
            raise AttackInputError(f"unknown shadow features {self.features!r}; valid: {', '.join(FEATURES)}")
        if self.classifier not in CLASSIFIERS:
            raise AttackInputError(f"unknown shadow classifier {self.classifier!r}; valid: {', '.join(CLASSIFIERS)}")
        if not isinstance(self.per_class, (bool, np.bool_)):
            raise AttackInputError(f"per_class must be True or False; got {self.per_class!r}")
        if isinstance(self.max_rows, bool) or not isinstance(self.max_rows, (int, np.integer)) or self.max_rows < 2:
            raise AttackInputError(f"max_rows must be an integer >= 2; got {self.max_rows!r}")

    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        log_odds = sig.log_odds(logits[:, :, 0])  # [M, n, C]
        ranked = -np.sort(-log_odds, axis=-1)  # decreasing, as the probabilities
        if self.features == "sorted":
            return ranked
        top = ranked[..., : min(3, ranked.shape[-1])]
        if self.features == "top3":
            return top
        return np.concatenate([top, sig.take_label(log_odds, labels)[..., None]], axis=-1)

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        rows = np.flatnonzero(use)  # into the flattened [R * n] pairs
        if len(rows) > self.max_rows:  # subsampled before gathering anything
            rng = np.random.default_rng(self.seed)
            rows = rows[np.sort(rng.choice(len(rows), size=self.max_rows, replace=False))]
        features = signals.reshape(use.size, *signals.shape[2:])[rows]
        is_member = keep.ravel()[rows]
        row_labels = np.broadcast_to(labels, keep.shape).ravel()[rows]
        if is_member.all() or not is_member.any():
            raise AttackInputError(
                f"the shadow attack needs reference outputs of both members and non-members{small_pool_hint(use)}"
            )
        classifier = make_classifier(self.classifier, seed=self.seed)  # imports its libraries first
        with _thread_pools().limit(limits=1):
            self.classifier_ = classifier.fit(features, is_member)
            self.class_classifiers_ = {}
            if self.per_class:
                for label in np.unique(row_labels):
                    in_class = row_labels == label
                    members = is_member[in_class]
                    if members.any() and not members.all():
                        self.class_classifiers_[int(label)] = make_classifier(self.classifier, seed=self.seed).fit(
                            features[in_class], members
                        )

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        with _thread_pools().limit(limits=1):
            scores = _member_log_odds(self.classifier_, signal)
            for label, classifier in self.class_classifiers_.items():
                in_class = labels == label
                if in_class.any():
                    scores[in_class] = _member_log_odds(classifier, signal[in_class])
        return scores


def _member_log_odds(classifier, features: np.ndarray) -> np.ndarray:
    """The classifier's log-odds that each row is a member (its classes are False, True)."""
    if hasattr(classifier, "decision_function"):
        return np.asarray(classifier.decision_function(features), dtype=np.float64)
    # Forests and MLPs only give probabilities; clip so that certainty stays finite.
    p = np.clip(classifier.predict_proba(features)[:, 1], 1e-12, 1.0 - 1e-12)
    return np.log(p) - np.log1p(-p)
