"""The fast project classifier: logistic regression on frozen embeddings.

Fitting uses scikit-learn; scoring is one matrix product plus softmax (or sigmoid for
multi-label) in chunks, so re-scoring 1M × 384 cached vectors takes about a second on 2 cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.errors import EmptyPoolError

#: Logit given to a class with no labelled example yet: its probability is ~0 but defined.
ABSENT_LOGIT = -30.0
CHUNK_ROWS = 65_536


@dataclass
class LinearProbe:
    """Per-label linear scores: ``coef`` (k, d) float32, ``intercept`` (k,) float32."""

    coef: np.ndarray
    intercept: np.ndarray
    multi_label: bool = False

    @property
    def n_labels(self) -> int:
        return len(self.intercept)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32) @ self.coef.T + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, k) float32: softmax over labels, or independent sigmoids for multi-label."""
        X = np.asarray(X, dtype=np.float32)
        out = np.empty((len(X), self.n_labels), dtype=np.float32)
        for start in range(0, len(X), CHUNK_ROWS):
            z = self.decision_function(X[start:start + CHUNK_ROWS])
            if self.multi_label:
                out[start:start + len(z)] = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
            else:
                z -= z.max(axis=1, keepdims=True)
                np.exp(z, out=z)
                z /= z.sum(axis=1, keepdims=True)
                out[start:start + len(z)] = z
        return out


def fit_classifier(
    X: np.ndarray, y: np.ndarray, n_labels: int, *, multi_label: bool = False,
    sample_weight: np.ndarray | None = None, C: float = 1.0,
) -> LinearProbe:
    """Fit on labelled rows.

    Args:
        X: (n, d) embeddings of the labelled items.
        y: (n,) class indices in [0, n_labels), or (n, n_labels) 0/1 indicators when ``multi_label``.
        n_labels: k; classes without examples get ``ABSENT_LOGIT`` so ``proba`` keeps k columns.
        sample_weight: (n,) optional weights (e.g. down-weighted AI labels).
        C: inverse regularisation strength of scikit-learn's LogisticRegression.
    """
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        raise EmptyPoolError("No labelled items to train on.", fix="label a few items first")
    d = X.shape[1]
    coef = np.zeros((n_labels, d), dtype=np.float32)
    intercept = np.full(n_labels, ABSENT_LOGIT, dtype=np.float32)
    if multi_label:
        Y = np.asarray(y, dtype=np.float32).reshape(len(X), n_labels)
        for j in range(n_labels):
            positives = Y[:, j].mean()
            if 0.0 < positives < 1.0:
                model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
                model.fit(X, Y[:, j].astype(int), sample_weight=sample_weight)
                coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
            else:  # all or none positive so far: a constant, mildly hedged
                p = min(max(positives, 0.05), 0.95)
                intercept[j] = np.log(p / (1 - p))
        return LinearProbe(coef, intercept, multi_label=True)
    y = np.asarray(y, dtype=np.int64)
    present = np.unique(y)
    if len(present) == 1:
        intercept[present[0]] = 0.0  # one class seen: predict it, everything else ~0
        return LinearProbe(coef, intercept)
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    model.fit(X, y, sample_weight=sample_weight)
    if len(present) == 2:  # sklearn keeps one row for binary problems: logit of the second class
        coef[present[1]], intercept[present[1]] = model.coef_[0], model.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[present] = model.coef_
        intercept[present] = model.intercept_
    return LinearProbe(coef, intercept)
