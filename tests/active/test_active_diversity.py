"""Diverse batches skip near-duplicates and do not drain one dense cluster."""

from __future__ import annotations

import numpy as np

from annotator.active.diversity import diverse_batch

from active_data import make_blobs


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def test_no_two_near_duplicates_when_distinct_candidates_exist():
    rng = np.random.default_rng(0)
    base = _unit(rng.normal(size=16))
    dupes = _unit(base + rng.normal(scale=0.01, size=(6, 16)))    # six copies of one text, top scores
    distinct = _unit(rng.normal(size=(6, 16)))                     # six other items, a bit lower
    embeddings = np.concatenate([dupes, distinct])
    scores = np.concatenate([np.linspace(1.0, 0.95, 6), np.linspace(0.9, 0.85, 6)])
    batch = diverse_batch(np.arange(12), scores, embeddings, batch_size=4, rng=rng)
    assert batch[0] == 0  # the best-scored candidate leads
    assert len(set(batch.tolist())) == 4
    assert np.isin(batch, np.arange(6)).sum() == 1  # one of the copies, not more
    sim = embeddings[batch] @ embeddings[batch].T
    assert sim[~np.eye(4, dtype=bool)].max() < 0.9


def test_a_dense_cluster_does_not_fill_the_batch():
    x, blob = make_blobs(n_per=20, n_blobs=4, noise=0.05)
    # Blob 0 holds every one of the 20 best scores; the other blobs trail slightly.
    scores = np.where(blob == 0, 1.0, 0.8) + np.random.default_rng(1).uniform(0, 0.01, len(x))
    batch = diverse_batch(np.arange(len(x)), scores, x, batch_size=4, pool_factor=20)
    assert len({int(blob[i]) for i in batch}) == 4
    top_four_by_score = np.argsort(-scores)[:4]
    assert len({int(blob[i]) for i in top_four_by_score}) == 1  # what plain score order would serve


def test_only_the_top_candidates_by_score_are_considered():
    x, _ = make_blobs(n_per=50, n_blobs=4)
    scores = np.random.default_rng(2).random(len(x))
    batch = diverse_batch(np.arange(len(x)), scores, x, batch_size=5, pool_factor=3)
    assert set(batch.tolist()) <= set(np.argsort(-scores)[:15].tolist())


def test_returns_candidate_rows_and_copes_with_only_duplicates_left():
    v = _unit(np.ones((1, 8)))
    embeddings = np.repeat(v, 5, axis=0)
    candidates = np.array([4, 2, 3])
    batch = diverse_batch(candidates, np.array([0.1, 0.9, 0.5]), embeddings, batch_size=10)
    assert list(batch) == [2, 3, 4]  # all identical: falls back to score order
    assert diverse_batch(np.zeros(0, dtype=int), np.zeros(0), embeddings, 3).shape == (0,)


def test_ties_at_the_top_are_broken_by_the_rng_reproducibly():
    x, _ = make_blobs(n_per=10, n_blobs=5)
    flat = np.ones(len(x))
    firsts = {int(diverse_batch(np.arange(len(x)), flat, x, 3, np.random.default_rng(s))[0]) for s in range(8)}
    assert len(firsts) > 1
    a = diverse_batch(np.arange(len(x)), flat, x, 3, np.random.default_rng(5))
    b = diverse_batch(np.arange(len(x)), flat, x, 3, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
