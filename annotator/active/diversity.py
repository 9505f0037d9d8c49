"""Diversity-aware batches: do not serve near-duplicates or one dense cluster back to back."""

from __future__ import annotations

import numpy as np


def diverse_batch(
    candidates: np.ndarray, scores: np.ndarray, embeddings: np.ndarray, batch_size: int, *,
    weight: float = 0.5,
) -> np.ndarray:
    """Pick ``batch_size`` of ``candidates`` by score-weighted farthest-first traversal.

    Args:
        candidates: (m,) row indices into ``embeddings``, e.g. the most uncertain items.
        scores: (m,) informativeness of each candidate (higher is better).
        embeddings: (n, d) L2-normalised vectors.
        weight: 0 → pure score order, 1 → pure max-min distance.

    Returns:
        (min(batch_size, m),) row indices, in the order to serve them: the best-scored first,
        then each next one the best trade-off between its score and its cosine distance to
        those already chosen. O(batch_size × m × d); m is a bounded head, never the whole pool.
    """
    m = len(candidates)
    k = min(batch_size, m)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    vectors = embeddings[candidates]
    span = float(scores.max() - scores.min())
    relevance = (scores - scores.min()) / span if span > 0 else np.ones(m)
    chosen = [int(np.argmax(scores))]
    min_distance = 1.0 - vectors @ vectors[chosen[0]]
    for _ in range(k - 1):
        value = (1 - weight) * relevance + weight * np.clip(min_distance, 0.0, 2.0) / 2.0
        value[chosen] = -np.inf
        nxt = int(np.argmax(value))
        chosen.append(nxt)
        np.minimum(min_distance, 1.0 - vectors @ vectors[nxt], out=min_distance)
    return candidates[np.asarray(chosen)]
