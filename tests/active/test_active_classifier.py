"""The linear probe learns separable blobs and reproduces scikit-learn's probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from annotator.active import classifier
from annotator.active.classifier import ABSENT_LOGIT, DEFAULT_C, fit_classifier
from annotator.core.errors import EmptyPoolError, ValidationError

from active_data import make_blobs


def _split(n_blobs: int, n_train_per: int = 10, seed: int = 0):
    x, blob = make_blobs(n_per=60, n_blobs=n_blobs, seed=seed)
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(blob == b), n_train_per, replace=False) for b in range(n_blobs)])
    test = np.setdiff1d(np.arange(len(x)), train)
    return x, blob, train, test


@pytest.mark.parametrize("n_blobs", [2, 4])
def test_probe_learns_separable_blobs(n_blobs):
    x, blob, train, test = _split(n_blobs)
    probe = fit_classifier(x[train], blob[train], n_blobs)
    proba = probe.predict_proba(x[test])
    assert proba.shape == (len(test), n_blobs) and proba.dtype == np.float32
    assert (proba.argmax(axis=1) == blob[test]).mean() >= 0.97
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("n_blobs", [2, 3])
def test_probe_matches_sklearn_predict_proba(n_blobs):
    x, blob, train, test = _split(n_blobs, n_train_per=8, seed=1)
    weight = np.random.default_rng(0).uniform(0.5, 1.5, size=len(train))
    probe = fit_classifier(x[train], blob[train], n_blobs, sample_weight=weight)
    reference = LogisticRegression(C=DEFAULT_C, class_weight="balanced", max_iter=1000)
    reference.fit(x[train], blob[train], sample_weight=weight)
    np.testing.assert_allclose(probe.predict_proba(x[test]), reference.predict_proba(x[test]), atol=1e-4)
    np.testing.assert_array_equal(probe.classes, np.arange(n_blobs))


def test_a_label_without_examples_keeps_a_near_zero_column():
    x, blob, train, test = _split(3)
    probe = fit_classifier(x[train], blob[train], n_labels=5)  # labels 3 and 4 never seen
    proba = probe.predict_proba(x[test])
    assert proba.shape == (len(test), 5)
    assert proba[:, 3:].max() < 1e-9
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (probe.intercept[3:] == ABSENT_LOGIT).all()
    np.testing.assert_array_equal(probe.classes, [0, 1, 2])


def test_one_class_predicts_the_smoothed_prior_for_every_item():
    x, _ = make_blobs(n_per=10, n_blobs=2)
    probe = fit_classifier(x[:8], np.full(8, 2), n_labels=3)
    proba = probe.predict_proba(x)
    np.testing.assert_allclose(proba, np.tile([1 / 11, 1 / 11, 9 / 11], (len(x), 1)), atol=1e-6)
    np.testing.assert_array_equal(probe.classes, [2])


def test_multi_label_matches_one_sklearn_model_per_label():
    x, blob = make_blobs(n_per=30, n_blobs=3, seed=2)
    # label 0: blob 0; label 1: blobs 1 or 2; label 2: always on; label 3: never on.
    y = np.stack([blob == 0, blob >= 1, np.ones_like(blob), np.zeros_like(blob)], axis=1).astype(int)
    probe = fit_classifier(x, y, 4, multi_label=True)
    proba = probe.predict_proba(x)
    for j in (0, 1):
        reference = LogisticRegression(C=DEFAULT_C, class_weight="balanced", max_iter=1000).fit(x, y[:, j])
        np.testing.assert_allclose(proba[:, j], reference.predict_proba(x)[:, 1], atol=1e-4)
    n = len(x)
    np.testing.assert_allclose(proba[:, 2], (n + 1) / (n + 2), atol=1e-6)  # Laplace, never certain
    np.testing.assert_allclose(proba[:, 3], 1 / (n + 2), atol=1e-6)
    assert probe.multi_label and list(probe.classes) == [0, 1, 2]


def test_chunked_scoring_equals_one_shot_scoring(monkeypatch):
    x, blob, train, _ = _split(3)
    probe = fit_classifier(x[train], blob[train], 3)
    whole = probe.predict_proba(x)
    monkeypatch.setattr(classifier, "CHUNK_ROWS", 7)  # many chunks and a ragged last one
    np.testing.assert_allclose(probe.predict_proba(x), whole, atol=1e-7)
    z = probe.decision_function(x).astype(np.float64)
    softmax = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(whole, softmax / softmax.sum(axis=1, keepdims=True), atol=1e-6)


def test_no_labels_is_an_empty_pool_error():
    with pytest.raises(EmptyPoolError, match="No labelled items"):
        fit_classifier(np.zeros((0, 8), dtype=np.float32), np.zeros(0, dtype=int), 2)


def test_out_of_range_targets_and_wrong_width_are_refused():
    x, blob = make_blobs(n_per=5, n_blobs=2)
    with pytest.raises(ValidationError, match="class indices"):
        fit_classifier(x, blob + 5, 2)
    probe = fit_classifier(x, blob, 2)
    with pytest.raises(ValidationError, match="do not match"):
        probe.predict_proba(np.zeros((3, 4), dtype=np.float32))
