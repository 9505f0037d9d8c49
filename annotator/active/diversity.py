"""Diversity-aware batches: do not serve near-duplicates or one dense cluster back to back.

The most uncertain items of a pool often sit together: the same template text, the same
ambiguous region of embedding space. Labelling ten of them teaches the model about as much as
labelling one. ``diverse_batch`` picks among a bounded head of top-scored candidates by greedy
farthest-first traversal weighted by score, so each next item must be both informative and far
from those already chosen.
"""

from __future__ import annotations

import numpy as np

from annotator.core.errors import ValidationError

#: The batch is chosen among the top ``POOL_FACTOR × batch_size`` candidates by score: wide enough
#: to step around a cluster, narrow enough that every pick is still among the most informative.
POOL_FACTOR = 10
#: Relevance of the head's weakest candidate relative to its best (scores are min–max mapped onto
#: [RELEVANCE_FLOOR, 1]): the weakest must be twice as far from the batch so far to beat the best.
RELEVANCE_FLOOR = 0.5


def diverse_batch(
    candidates: np.ndarray, scores: np.ndarray, embeddings: np.ndarray, batch_size: int,
    rng: np.random.Generator | None = None, *, pool_factor: int = POOL_FACTOR,
) -> np.ndarray:
    """Pick ``batch_size`` of ``candidates`` by score-weighted farthest-first traversal.

    Args:
        candidates: (m,) int row indices into ``embeddings``.
        scores: (m,) informativeness of each candidate, higher = better (any real scale).
        embeddings: (n, d) float32 L2-normalised vectors; only candidate rows are read.
        batch_size: how many to pick.
        rng: breaks ties for the first pick among equally scored candidates (e.g. a model that
            scores every item alike); None → the first of them.
        pool_factor: only the top ``pool_factor × batch_size`` candidates by score are considered.

    Returns:
        (min(batch_size, m),) int64 row indices into ``embeddings``, in serving order. The first
        is the best-scored candidate; each next maximises relevance × cosine distance to the
        nearest item already chosen, so a near-duplicate of a chosen item (distance ~0) is only
        taken once no distinct candidate is left. Cost O(batch_size × head × d); the loop runs over
        the batch, never over the pool.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if candidates.shape != scores.shape or candidates.ndim != 1:
        raise ValidationError("diverse_batch needs one score per candidate.",
                              expected="candidates and scores of the same shape (m,)",
                              got=f"{candidates.shape} and {scores.shape}", fix="pass scores[candidates]")
    k = min(int(batch_size), len(candidates))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    head_n = min(len(candidates), max(k, pool_factor * k))
    if head_n < len(candidates):  # O(m) selection of the head; its order does not matter below
        head = np.argpartition(-scores, head_n - 1)[:head_n]
        candidates, scores = candidates[head], scores[head]

    span = scores.max() - scores.min()
    relevance = RELEVANCE_FLOOR + (1.0 - RELEVANCE_FLOOR) * ((scores - scores.min()) / span if span > 0 else 1.0)
    relevance = np.broadcast_to(relevance, scores.shape).astype(np.float64)
    vectors = np.asarray(embeddings[candidates], dtype=np.float32)  # (head, d)

    best = np.flatnonzero(scores == scores.max())
    first = int(best[rng.integers(len(best))]) if rng is not None and len(best) > 1 else int(best[0])
    chosen = [first]
    # Cosine distance to the nearest chosen item, in [0, 2]; clipped at 0 against rounding.
    min_distance = np.clip(1.0 - vectors @ vectors[first], 0.0, 2.0).astype(np.float64)
    taken = np.zeros(len(candidates), dtype=bool)
    taken[first] = True
    for _ in range(k - 1):
        # A tiny relevance term breaks ties (e.g. only exact duplicates left) by score.
        value = relevance * min_distance + 1e-9 * relevance
        value[taken] = -np.inf
        nxt = int(np.argmax(value))
        chosen.append(nxt)
        taken[nxt] = True
        np.minimum(min_distance, np.clip(1.0 - vectors @ vectors[nxt], 0.0, 2.0), out=min_distance)
    return candidates[np.asarray(chosen)]
