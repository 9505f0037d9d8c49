"""Query strategies: plain functions from probabilities to an informativeness score.

Each strategy maps ``proba`` (n_items, n_labels) to scores (n_items,), higher = ask a person
first. They wrap modAL's proba-level functions (modAL's learner classes break on
scikit-learn ≥ 1.8, so the project drives the functions from its own loop).
For multi-label probabilities (independent sigmoids, rows need not sum to 1) every label is
scored as its own binary problem and the scores are averaged over labels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from modAL.uncertainty import _proba_entropy, _proba_margin, _proba_uncertainty

from annotator.errors import ValidationError

Strategy = Callable[..., np.ndarray]


def _per_label(proba: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Mean of ``fn`` over labels, each label seen as a binary (p, 1 - p) problem."""
    p = np.clip(proba, 0.0, 1.0)
    return np.mean([fn(np.stack([p[:, j], 1.0 - p[:, j]], axis=1)) for j in range(p.shape[1])], axis=0)


def margin(proba: np.ndarray, rng: np.random.Generator | None = None, *, multi_label: bool = False) -> np.ndarray:
    """1 − (p₁ − p₂): the smaller the gap between the two likeliest labels, the higher."""
    if multi_label:
        return _per_label(proba, lambda q: 1.0 - _proba_margin(q))
    return 1.0 - _proba_margin(proba)


def entropy(proba: np.ndarray, rng: np.random.Generator | None = None, *, multi_label: bool = False) -> np.ndarray:
    """Shannon entropy of the predicted distribution (nats)."""
    if multi_label:
        return _per_label(proba, _proba_entropy)
    return np.asarray(_proba_entropy(proba), dtype=np.float64)


def least_confidence(proba: np.ndarray, rng: np.random.Generator | None = None, *,
                     multi_label: bool = False) -> np.ndarray:
    """1 − max p."""
    if multi_label:
        return _per_label(proba, _proba_uncertainty)
    return _proba_uncertainty(proba)


def random(proba: np.ndarray, rng: np.random.Generator | None = None, *, multi_label: bool = False) -> np.ndarray:
    """Uniform random scores: the baseline every other strategy must beat."""
    rng = rng if rng is not None else np.random.default_rng(0)
    return rng.random(len(proba))


STRATEGIES: dict[str, Strategy] = {
    "margin": margin,
    "entropy": entropy,
    "least-confidence": least_confidence,
    "random": random,
}

#: Strategies whose batches are worth diversifying (random batches are diverse already).
UNCERTAINTY_STRATEGIES = frozenset({"margin", "entropy", "least-confidence"})


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValidationError(
            f"Unknown query strategy {name!r}.", expected=" | ".join(STRATEGIES),
            fix="pick one of those names (margin is the default)",
        ) from None
