"""Rank an unlabelled pool: score every item with a strategy, diversify the head.

Only a bounded head of the ranking is sorted (``MAX_RANKED``): the pool re-ranks after every
refit, and long before a person gets that far.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.active.cold_start import coverage_order, zero_shot_proba
from annotator.active.diversity import diverse_batch
from annotator.active.strategies import UNCERTAINTY_STRATEGIES, get_strategy, margin
from annotator.errors import EmptyPoolError

MAX_RANKED = 20_000
HEAD_FACTOR = 10  # the diversified batch is chosen among the top HEAD_FACTOR × batch_size items


@dataclass(frozen=True)
class Ranking:
    """``order`` (m,) pool rows, best first; ``scores`` (m,) why each was chosen; ``strategy``."""

    order: np.ndarray
    scores: np.ndarray
    strategy: str


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores), sorted best first; argpartition keeps this O(n) for 1M rows."""
    if k < len(rows):
        part = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    return rows[order], scores[order]


def _empty(unlabelled: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(unlabelled)
    if len(rows) == 0:
        raise EmptyPoolError("Every item is labelled: nothing left to rank.",
                             fix="import more items, or export the finished dataset")
    return rows


def rank_pool(
    proba: np.ndarray, embeddings: np.ndarray, unlabelled: np.ndarray, *, strategy: str = "margin",
    batch_size: int = 10, rng: np.random.Generator | None = None, multi_label: bool = False,
) -> Ranking:
    """Rank unlabelled rows by ``strategy`` on ``proba`` (n, k); diversify the first batch.

    Args:
        unlabelled: (n,) bool mask of rows that may be served.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    rows = _empty(unlabelled)
    scores = np.asarray(get_strategy(strategy)(proba[rows], rng, multi_label=multi_label), dtype=np.float64)
    top_rows, top_scores = _top(rows, scores, min(len(rows), MAX_RANKED))
    if strategy in UNCERTAINTY_STRATEGIES and batch_size > 1:
        head_n = min(len(top_rows), HEAD_FACTOR * batch_size)
        head = diverse_batch(top_rows[:head_n], top_scores[:head_n], embeddings, batch_size)
        rest = np.setdiff1d(top_rows, head, assume_unique=True)
        rest_scores = dict(zip(top_rows.tolist(), top_scores.tolist()))
        rest = rest[np.argsort([-rest_scores[r] for r in rest], kind="stable")] if len(rest) else rest
        order = np.concatenate([head, rest])
        top_scores = np.asarray([rest_scores[r] for r in order.tolist()])
        top_rows = order
    return Ranking(order=top_rows.astype(np.int64), scores=top_scores, strategy=strategy)


def rank_cold_start(
    embeddings: np.ndarray, unlabelled: np.ndarray, *, label_embeddings: np.ndarray | None = None,
    batch_size: int = 10, rng: np.random.Generator | None = None,
) -> Ranking:
    """Before the classifier can rank: cluster representatives first (coverage), then the items the
    zero-shot scores find most ambiguous between labels (or random ones without label vectors)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    rows = _empty(unlabelled)
    n_clusters = max(batch_size, 2 * (len(label_embeddings) if label_embeddings is not None else 2))
    reps, shares = coverage_order(embeddings[rows], n_clusters, rng)
    head = rows[reps]
    if label_embeddings is not None and len(label_embeddings) > 1:
        rest_scores = margin(zero_shot_proba(embeddings[rows], label_embeddings))
    else:
        rest_scores = rng.random(len(rows))
    rest_scores[reps] = -np.inf
    rest_rows, rest_sorted = _top(rows, rest_scores, min(len(rows), MAX_RANKED))
    keep = np.isfinite(rest_sorted)
    order = np.concatenate([head, rest_rows[keep]])
    scores = np.concatenate([shares, rest_sorted[keep]])
    return Ranking(order=order.astype(np.int64), scores=scores, strategy="cold-start")
