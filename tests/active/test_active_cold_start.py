"""Cold start: zero-shot scores on the same embeddings, and coverage of the pool's clusters."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.active.cold_start import cluster_closeness, cold_start_scores, coverage_from_clusters, coverage_order
from annotator.active.ranking import rank_cold_start
from annotator.core.errors import ValidationError

from active_data import make_blobs


def test_zero_shot_picks_the_nearest_label_and_sums_to_one():
    x, blob = make_blobs(n_per=20, n_blobs=3, seed=4)
    centres = np.stack([x[blob == b].mean(axis=0) for b in range(3)])  # not normalised on purpose
    proba = cold_start_scores(x, centres)
    assert proba.shape == (60, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (proba.argmax(axis=1) == blob).all()
    unit = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    np.testing.assert_allclose(cold_start_scores(x, unit), proba, atol=1e-6)


def test_a_lower_temperature_sharpens_the_distribution():
    x, blob = make_blobs(n_per=10, n_blobs=2, noise=0.6, seed=5)
    labels = np.stack([x[blob == b].mean(axis=0) for b in range(2)])
    sharp, soft = cold_start_scores(x, labels, 0.02).max(axis=1), cold_start_scores(x, labels, 0.5).max(axis=1)
    assert (sharp >= soft - 1e-6).all() and sharp.mean() > soft.mean() + 0.1
    with pytest.raises(ValidationError, match="temperature"):
        cold_start_scores(x, labels, 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_serves_one_item_per_blob_first(seed):
    x, blob = make_blobs(n_per=40, n_blobs=5, seed=seed)
    order = coverage_order(x, n_clusters=5, rng=np.random.default_rng(seed))
    assert sorted(order.tolist()) == list(range(len(x)))  # a permutation of the pool
    assert len({int(b) for b in blob[order[:5]]}) == 5
    # The second round covers every blob again before any blob gets a third item.
    assert len({int(b) for b in blob[order[5:10]]}) == 5


def test_coverage_is_reproducible_per_seed():
    x, _ = make_blobs(n_per=30, n_blobs=4)
    a = coverage_order(x, 4, np.random.default_rng(3))
    b = coverage_order(x, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_cold_start_ranking_covers_blobs_and_skips_labelled_rows():
    x, blob = make_blobs(n_per=40, n_blobs=5, seed=6)
    unlabelled = np.ones(len(x), dtype=bool)
    unlabelled[blob == 0] = False
    unlabelled[np.flatnonzero(blob == 1)[:5]] = False
    ranking = rank_cold_start(x, unlabelled, batch_size=4, rng=np.random.default_rng(0))
    assert ranking.strategy == "cold-start"
    assert unlabelled[ranking.order].all() and len(set(ranking.order.tolist())) == len(ranking.order)
    assert len(ranking.order) == unlabelled.sum() == len(ranking.scores)
    assert len({int(b) for b in blob[ranking.order[:4]]}) == 4


def test_cold_start_with_label_vectors_asks_about_ambiguous_items_after_the_coverage_head():
    x, blob = make_blobs(n_per=30, n_blobs=2, noise=0.8, seed=7)
    labels = np.stack([x[blob == b].mean(axis=0) for b in range(2)])
    ranking = rank_cold_start(x, np.ones(len(x), dtype=bool), label_embeddings=labels, batch_size=4,
                              rng=np.random.default_rng(0))
    head_n = 4  # max(batch_size, 2 × 2 labels) clusters
    rest_scores = ranking.scores[head_n:]
    assert (np.diff(rest_scores) <= 1e-12).all()  # zero-shot margin, most ambiguous first
    proba = cold_start_scores(x, labels)
    gap = np.abs(proba[:, 0] - proba[:, 1])
    rest = ranking.order[head_n:]
    assert gap[rest[0]] <= np.quantile(gap, 0.1)


def test_coverage_from_clusters_is_a_round_robin_and_its_limited_form_a_prefix():
    rng = np.random.default_rng(9)
    assignment = rng.choice(4, size=200, p=[0.4, 0.3, 0.2, 0.1])
    closeness = rng.random(200).astype(np.float32)
    # Reference: per cluster, members nearest first; then take rank 0 of every cluster by size, etc.
    sizes = np.bincount(assignment)
    clusters = sorted(range(4), key=lambda c: (-sizes[c], c))
    members = {c: sorted(np.flatnonzero(assignment == c), key=lambda i: -closeness[i]) for c in clusters}
    expected = [members[c][r] for r in range(sizes.max()) for c in clusters if r < sizes[c]]
    order = coverage_from_clusters(assignment, closeness)
    assert order.tolist() == expected
    np.testing.assert_array_equal(coverage_from_clusters(assignment, closeness, limit=37), order[:37])


def test_scoring_a_subset_of_rows_equals_scoring_the_gathered_rows():
    x, blob = make_blobs(n_per=20, n_blobs=3, seed=8)
    labels = np.stack([x[blob == b].mean(axis=0) for b in range(3)])
    rows = np.array([5, 0, 59, 31])
    np.testing.assert_allclose(cold_start_scores(x, labels, rows=rows), cold_start_scores(x[rows], labels), atol=1e-7)
    a_sub, c_sub = cluster_closeness(x, 3, np.random.default_rng(0), rows=np.arange(10, 60))
    a_cp, c_cp = cluster_closeness(x[10:60], 3, np.random.default_rng(0))
    np.testing.assert_array_equal(a_sub, a_cp)
    np.testing.assert_allclose(c_sub, c_cp, atol=1e-6)
