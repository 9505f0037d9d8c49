"""Cold start, before the classifier has two labels per class: coverage and zero-shot.

Coverage: the items nearest to k-means centroids come first, so the first answers span the
pool's clusters. Zero-shot: cosine similarity of each item to the label names/descriptions on
the same embeddings, turned into a distribution with a temperature.
"""

from __future__ import annotations

import numpy as np

#: Cosine similarities of sentence embeddings differ by a few hundredths between labels; a low
#: temperature turns them into a usable distribution.
ZERO_SHOT_TEMPERATURE = 0.05
KMEANS_FIT_SAMPLE = 20_000


def zero_shot_proba(embeddings: np.ndarray, label_embeddings: np.ndarray,
                    temperature: float = ZERO_SHOT_TEMPERATURE) -> np.ndarray:
    """(n, k) softmax of cosine similarity to each label's embedding / temperature."""
    z = (np.asarray(embeddings, dtype=np.float32) @ np.asarray(label_embeddings, dtype=np.float32).T) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def coverage_order(embeddings: np.ndarray, n_clusters: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Representatives of ``n_clusters`` k-means clusters, biggest cluster first.

    Returns:
        (rows, cluster_share): rows (c,) into ``embeddings`` (the item nearest each centroid) and
        the share of the pool in that item's cluster (c,).
    """
    from sklearn.cluster import MiniBatchKMeans

    n = len(embeddings)
    n_clusters = max(1, min(n_clusters, n))
    sample = embeddings if n <= KMEANS_FIT_SAMPLE else embeddings[rng.choice(n, KMEANS_FIT_SAMPLE, replace=False)]
    km = MiniBatchKMeans(n_clusters=n_clusters, random_state=int(rng.integers(2**31 - 1)), n_init=3,
                         batch_size=2048).fit(sample)
    centers = km.cluster_centers_.astype(np.float32)
    similarity = embeddings @ centers.T  # (n, c)
    assignment = similarity.argmax(axis=1)
    sizes = np.bincount(assignment, minlength=n_clusters)
    reps, shares = [], []
    for c in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(assignment == c)
        if len(members) == 0:
            continue
        reps.append(int(members[np.argmax(similarity[members, c])]))
        shares.append(sizes[c] / n)
    return np.asarray(reps, dtype=np.int64), np.asarray(shares, dtype=np.float64)
