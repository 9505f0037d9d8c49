"""Temperature scaling of one annotator's scores, and the log loss the fusion is chosen by.

Raw annotator scores (n_items × n_labels, rows summing to 1) are not probabilities; one
temperature T > 0 per annotator, fitted on human labels, turns them into calibrated ones.
"""

from __future__ import annotations

import numpy as np

#: Floor of a probability before its log: a score of exactly 0 must not cost infinity.
EPS = 1e-6


def safe_log(p: np.ndarray) -> np.ndarray:
    """Elementwise log of probabilities clipped to [EPS, 1]."""
    return np.log(np.clip(p, EPS, 1.0))


def fit_temperature(proba: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 minimising the NLL of softmax(log p / T) on labelled items (T > 1 softens).

    Args:
        proba: (m, k) scores of the labelled items; labels: (m,) class indices.
    """
    from scipy.optimize import minimize_scalar

    logp = safe_log(proba)
    idx = np.arange(len(labels))

    def nll(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        return float(-(z[idx, labels] - np.log(np.exp(z).sum(axis=1))).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """(n, k) softmax(log proba / temperature)."""
    z = safe_log(proba) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def log_loss(proba: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats per item) of the (m,) ``labels`` under (m, k) ``proba``."""
    if len(labels) == 0:
        return float("nan")
    return float(-safe_log(proba[np.arange(len(labels)), labels]).mean())
