"""Suspect labels (confident learning): injected label flips in a clean, separable set are found."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.errors import EmptyPoolError
from annotator.quality import find_suspects, out_of_fold_proba

LABELS = ["billing", "bug", "account"]


def _clusters(n_per: int = 60, d: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian clusters, L2-normalised like sentence vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, d)) * 3
    X = np.concatenate([c + rng.standard_normal((n_per, d)) for c in centres]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.repeat(np.arange(3), n_per)


def _flip(y: np.ndarray, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y), n, replace=False)
    noisy = y.copy()
    noisy[rows] = (y[rows] + rng.integers(1, 3, n)) % 3  # always another class
    return noisy, rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_injected_flips_are_found(seed):
    X, y = _clusters(seed=seed)
    noisy, flipped = _flip(y, 12, seed=seed + 10)
    ids = np.arange(1000, 1000 + len(y))
    suspects = find_suspects(X, noisy, ids, LABELS, seed=seed)
    found = {s.item_id for s in suspects}
    truth = set(ids[flipped].tolist())
    precision = len(found & truth) / max(len(found), 1)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)
    for s in suspects:  # the reason names the model's label, which is the true one for a flip
        if s.item_id in truth:
            assert s.model_label == LABELS[y[s.item_id - 1000]]
            assert s.given == LABELS[noisy[s.item_id - 1000]]
            assert f"model says '{s.model_label}' with p=" in s.reason and s.p >= 0.5
    assert [s.rank for s in suspects] == list(range(len(suspects)))


def test_a_clean_set_has_few_suspects():
    X, y = _clusters()
    assert len(find_suspects(X, y, np.arange(len(y)), LABELS)) <= 2


def test_out_of_fold_never_sees_its_own_label():
    """A point whose label is flipped gets a low probability for that label: it was held out."""
    X, y = _clusters()
    noisy, flipped = _flip(y, 5)
    proba = out_of_fold_proba(X, noisy, 3)
    assert proba.shape == (len(y), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (proba[flipped, noisy[flipped]] < 0.5).all()


def test_too_few_labels_says_how_to_fix():
    X, y = _clusters(n_per=1)
    with pytest.raises(EmptyPoolError, match="label a few more items"):
        find_suspects(X, y, np.arange(3), LABELS)
