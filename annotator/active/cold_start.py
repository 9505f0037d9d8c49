"""Cold start, before the classifier has two labels per class: coverage and zero-shot scores.

Coverage: k-means on the pool's embeddings; the item nearest each centroid comes first, then the
second nearest of each cluster, and so on, so the first answers span the pool's clusters instead
of sampling its densest region. Zero-shot: cosine similarity of each item to the label names /
descriptions embedded by the same model, turned into a distribution with a temperature.

Functions that read a pool take ``rows`` (optional int indices) instead of a copied sub-pool:
copying 1M × 384 float32 rows costs seconds and 1.5 GB; reading them in chunks costs neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from annotator.active._threads import single_threaded
from annotator.core.errors import ValidationError

#: Cosine similarities of sentence embeddings differ by a few hundredths between labels; dividing
#: by 0.05 turns a 0.05 gap into e ≈ 2.7× odds, a usable but not overconfident distribution.
ZERO_SHOT_TEMPERATURE = 0.05
#: k-means is fitted on at most this many rows (a uniform sample); assigning all rows to the
#: centroids is then one (n, c) matrix product. The 10–40 clusters of a cold start keep 100+
#: sample rows each. Measured on 30 blobs in 384-d: Lloyd k-means on a 5k sample agrees better
#: with the blobs (ARI 0.72) than MiniBatchKMeans on 20k (0.65), in a fifth of the time.
KMEANS_FIT_SAMPLE = 5_000
#: k-means++ restarts; more cost linearly and gained nothing measurable beyond 3.
KMEANS_N_INIT = 3
#: Rows per chunk when reading a big pool: bounds the temporaries to ~65k × (d or k) floats.
CHUNK_ROWS = 65_536


def _chunks(embeddings: np.ndarray, rows: np.ndarray | None) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, float32 block) over ``embeddings[rows]`` (all rows when None), without a full copy."""
    n = len(embeddings) if rows is None else len(rows)
    for start in range(0, n, CHUNK_ROWS):
        block = embeddings[start:start + CHUNK_ROWS] if rows is None else embeddings[rows[start:start + CHUNK_ROWS]]
        yield start, np.asarray(block, dtype=np.float32)


def cold_start_scores(
    embeddings: np.ndarray, label_embeddings: np.ndarray, temperature: float = ZERO_SHOT_TEMPERATURE,
    *, rows: np.ndarray | None = None,
) -> np.ndarray:
    """Zero-shot ``proba`` (m, k) float32: softmax over labels of cosine(item, label) / temperature.

    Args:
        embeddings: (n, d) L2-normalised item vectors.
        label_embeddings: (k, d) vectors of each label's name or description, same model; they are
            normalised here, so raw encoder output is fine.
        temperature: > 0; lower = sharper distribution.
        rows: (m,) rows of ``embeddings`` to score; None → all (m = n).
    """
    if temperature <= 0:
        raise ValidationError("The zero-shot temperature must be positive.", expected="temperature > 0",
                              got=str(temperature), fix=f"use the default {ZERO_SHOT_TEMPERATURE}")
    labels = np.asarray(label_embeddings, dtype=np.float32)
    if labels.ndim != 2 or np.ndim(embeddings) != 2 or labels.shape[1] != np.shape(embeddings)[1]:
        raise ValidationError("Label and item embeddings must come from the same model.",
                              expected="embeddings (n, d) and label_embeddings (k, d)",
                              got=f"{np.shape(embeddings)} and {labels.shape}",
                              fix="embed the label names with the project's embedder")
    labels = labels / np.maximum(np.linalg.norm(labels, axis=1, keepdims=True), 1e-12)
    out = np.empty((len(embeddings) if rows is None else len(rows), len(labels)), dtype=np.float32)
    with single_threaded():  # a skinny (chunk, d) @ (d, k) product: see _threads.py
        for start, block in _chunks(embeddings, rows):
            z = block @ labels.T
            z /= temperature
            z -= z.max(axis=1, keepdims=True)  # softmax is shift-invariant; this avoids overflow
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            out[start:start + len(z)] = z
    return out


#: The name the AI annotators import (annotator/annotators/embedding_based.py).
zero_shot_proba = cold_start_scores


def cluster_closeness(
    embeddings: np.ndarray, n_clusters: int, rng: np.random.Generator, *, rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means over ``embeddings[rows]``: fit on a sample of at most ``KMEANS_FIT_SAMPLE``, assign all.

    Args:
        embeddings: (n, d) L2-normalised vectors.
        n_clusters: wanted clusters; capped at the number of rows.
        rng: draws the fit sample and k-means' seed.
        rows: (m,) rows to cluster; None → all (m = n).

    Returns:
        (assignment, closeness): (m,) int64 cluster of each row, and (m,) float32 cosine similarity
        of each row to its cluster's normalised centroid (a spherical assignment, which suits
        L2-normalised vectors).
    """
    from sklearn.cluster import KMeans  # lazy: keeps `import annotator` fast

    m = len(embeddings) if rows is None else len(rows)
    n_clusters = max(1, min(int(n_clusters), m))
    pick = np.sort(rng.choice(m, KMEANS_FIT_SAMPLE, replace=False)) if m > KMEANS_FIT_SAMPLE else np.arange(m)
    sample = np.asarray(embeddings[pick if rows is None else rows[pick]], dtype=np.float32)
    km = KMeans(n_clusters=n_clusters, n_init=KMEANS_N_INIT, random_state=int(rng.integers(2**31 - 1)))
    assignment = np.empty(m, dtype=np.int64)
    closeness = np.empty(m, dtype=np.float32)
    # One thread (see _threads.py). Measured on 2 loaded cores, 5k × 384, 20 clusters: 0.19 s
    # single-threaded vs 2.4 s with the default thread pools.
    with single_threaded():
        km.fit(sample)
        centres = km.cluster_centers_.astype(np.float32)
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        for start, block in _chunks(embeddings, rows):
            sim = block @ centres.T
            a = sim.argmax(axis=1)
            assignment[start:start + len(a)] = a
            closeness[start:start + len(a)] = sim[np.arange(len(a)), a]
    return assignment, closeness


def coverage_from_clusters(assignment: np.ndarray, closeness: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Positions (into ``assignment``) in coverage order, the first ``limit`` of them (all when None).

    Round r holds the r-th nearest item to each centroid (by ``closeness``, higher = nearer);
    within a round, bigger clusters come first, ties by cluster id. Two O(n log n) sorts of plain
    keys rather than a 3-key lexsort: 1M rows in ~0.3 s.
    """
    n = len(assignment)
    n_clusters = int(assignment.max()) + 1 if n else 0
    sizes = np.bincount(assignment, minlength=n_clusters)
    # Group by cluster, nearest first: closeness is in [-1, 1], so 1 - closeness in [0, 2] never
    # crosses into the next cluster's band of width 4 (float64 holds the float32 values exactly).
    by_cluster = np.argsort(assignment * 4.0 + (1.0 - closeness.astype(np.float64)), kind="stable")
    starts = np.cumsum(sizes) - sizes
    rank = np.empty(n, dtype=np.int64)
    rank[by_cluster] = np.arange(n) - starts[assignment[by_cluster]]
    size_position = np.empty(n_clusters, dtype=np.int64)
    size_position[np.argsort(-sizes, kind="stable")] = np.arange(n_clusters)
    key = rank * n_clusters + size_position[assignment]  # unique per row
    if limit is not None and limit < n:
        head = np.argpartition(key, limit - 1)[:limit]
        return head[np.argsort(key[head])].astype(np.int64)
    return np.argsort(key).astype(np.int64)


def coverage_order(embeddings: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """All rows of ``embeddings`` (n, d) in coverage order: (n,) int64 row indices.

    The first ``min(n_clusters, n)`` rows come from as many distinct k-means clusters (when none is
    empty), led by the most representative item of the biggest one; then the second-nearest item
    of every cluster, and so on.
    """
    assignment, closeness = cluster_closeness(embeddings, n_clusters, rng)
    return coverage_from_clusters(assignment, closeness)
