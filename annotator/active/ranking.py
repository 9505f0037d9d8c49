"""Rank an unlabelled pool: score every item with a strategy, diversify the first batch.

Only a bounded head of the ranking is sorted (``MAX_RANKED`` rows): the pool re-ranks after every
refit, long before a person gets that far. Selecting the head with ``np.argpartition`` is O(n)
where a full argsort is O(n log n): for 1M float64 scores on 2 busy cores, 75 ms against 630 ms
(stable) or 410 ms (quicksort). bench/bench_rerank.py times the whole path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from annotator.active.cold_start import cluster_closeness, cold_start_scores, coverage_from_clusters
from annotator.active.diversity import diverse_batch
from annotator.active.strategies import UNCERTAINTY_STRATEGIES, get_strategy, margin
from annotator.core.errors import EmptyPoolError, ValidationError

#: Rows kept in one ranking, best first. A person labels far fewer between two refits.
MAX_RANKED = 20_000
COLD_START_STRATEGY = "cold-start"
#: Name served with the randomly chosen rows of an uncertainty ranking (see ``explore_fraction``).
EXPLORE_STRATEGY = "random (calibration)"


@dataclass(frozen=True)
class Ranking:
    """A serving order over pool rows.

    Attributes:
        order: (m,) int64 row indices into the pool (``proba`` / ``embeddings`` rows), best first;
            m = min(unlabelled rows, MAX_RANKED).
        scores: (m,) float64 the strategy's score of each row in ``order`` (why it was chosen).
        strategy: the strategy name, or "cold-start".
        explore: (m,) bool, True where the row was drawn uniformly at random rather than by the
            strategy (``rank_pool(explore_fraction=…)``); None when no row was.
    """

    order: np.ndarray
    scores: np.ndarray
    strategy: str
    explore: np.ndarray | None = None

    def strategy_at(self, position: int) -> str:
        """The name that chose the row at ``position``: the strategy, or ``EXPLORE_STRATEGY``."""
        if self.explore is not None and self.explore[position]:
            return EXPLORE_STRATEGY
        return self.strategy


def _unlabelled_rows(unlabeled_mask: np.ndarray, n: int) -> np.ndarray:
    mask = np.asarray(unlabeled_mask)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValidationError("The unlabelled mask must be one bool per pool row.",
                              expected=f"bool array of shape ({n},)", got=f"{mask.dtype} array of shape {mask.shape}",
                              fix="pass ~labelled, a boolean mask over the pool")
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        raise EmptyPoolError("Nothing left to rank: every item of the pool is labelled or excluded.",
                             expected="at least one unlabelled item", got=f"0 of {n} items unlabelled",
                             fix="import more items, or export the finished dataset")
    return rows


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores), best first. argpartition first, so only k values get sorted."""
    if k < len(rows):
        part = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    return rows[order], scores[order]


def _put_first(rows: np.ndarray, scores: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``first`` (a subset of ``rows``, in its own order), then the other rows in their order."""
    position = np.full(rows.max() + 1, -1, dtype=np.int64)  # row → position in ``rows``
    position[rows] = np.arange(len(rows))
    picked = position[first]
    rest = np.ones(len(rows), dtype=bool)
    rest[picked] = False
    return np.concatenate([first, rows[rest]]), np.concatenate([scores[picked], scores[rest]])


def rank_pool(
    proba: np.ndarray, embeddings: np.ndarray, unlabeled_mask: np.ndarray, strategy: str = "margin",
    batch_size: int = 10, rng: np.random.Generator | None = None, multi_label: bool = False,
    explore_fraction: float = 0.0, explore_mask: np.ndarray | None = None,
) -> Ranking:
    """Rank the unlabelled rows of a pool by ``strategy``; diversify the first batch.

    Args:
        proba: (n, k) current model's probabilities for every pool row.
        embeddings: (n, d) L2-normalised pool vectors (used for the diverse first batch).
        unlabeled_mask: (n,) bool, True for rows that may be served.
        strategy: a name in ``STRATEGIES``.
        batch_size: how many items at the head are picked for diversity; the rest follow by score.
        rng: for "random" and for tie-breaking; None → a fixed seed (reproducible).
        multi_label: ``proba`` holds independent per-label sigmoids.
        explore_fraction: share of the ranking (one row in every ``round(1 / f)``) drawn uniformly
            at random from the unlabelled rows instead of by ``strategy``. Uncertainty sampling
            never asks about items the model is sure of, so without these the human labels say
            nothing about how often a confident AI label is right; the router calibrates its
            auto-accept thresholds on them (``Ranking.explore`` marks them).
        explore_mask: (n,) bool, the rows random picks are drawn from; default ``unlabeled_mask``.
            The pool passes every unlabelled row, auto-accepted ones included, so that the random
            slice stays a sample of the whole pool, not of what the AI left to people.

    Raises:
        EmptyPoolError: no row is unlabelled.
        ValidationError: unknown strategy or mismatched shapes.
    """
    score_fn = get_strategy(strategy)
    rng = rng if rng is not None else np.random.default_rng(0)
    proba = np.asarray(proba)
    if proba.ndim != 2 or len(proba) != len(embeddings):
        raise ValidationError("proba and embeddings must describe the same pool rows.",
                              expected="proba (n, k) and embeddings (n, d)",
                              got=f"{proba.shape} and {np.shape(embeddings)}",
                              fix="score the whole pool with the current model")
    rows = _unlabelled_rows(unlabeled_mask, len(proba))
    scores = score_fn(proba[rows], rng, multi_label=multi_label)
    top_rows, top_scores = _top(rows, scores, min(len(rows), MAX_RANKED))
    if strategy in UNCERTAINTY_STRATEGIES and batch_size > 1:
        head = diverse_batch(top_rows, top_scores, embeddings, batch_size, rng)
        top_rows, top_scores = _put_first(top_rows, top_scores, head)
    explore = None
    if explore_fraction > 0 and strategy in UNCERTAINTY_STRATEGIES:
        candidates = rows if explore_mask is None else np.flatnonzero(np.asarray(explore_mask, dtype=bool))
        top_rows, top_scores, explore = _interleave_random(
            candidates, top_rows, top_scores, explore_fraction, rng,
            lambda chosen: score_fn(proba[chosen], rng, multi_label=multi_label))
    return Ranking(order=top_rows.astype(np.int64), scores=top_scores.astype(np.float64), strategy=strategy,
                   explore=explore)


def _interleave_random(
    candidates: np.ndarray, top_rows: np.ndarray, top_scores: np.ndarray, fraction: float,
    rng: np.random.Generator, score_of: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put a row drawn uniformly from ``candidates`` at every ``round(1/fraction)``-th position of
    the ranking ``top_rows``; ``score_of(rows)`` gives the drawn rows' strategy scores.

    Each spot's row is uniform over the candidates not served before it, whether or not the
    strategy ranked that row too (it then leaves its ranked place, which moves it forward, never
    back). Drawing only from rows outside the ranking would sample what the strategy did not rank:
    with the whole unlabelled pool ranked, only the auto-accepted items, an easy slice that makes
    the AI look better than it is on the pool.

    Returns the new (order, scores, explore mask); the result keeps at most ``MAX_RANKED`` rows.
    """
    period = max(2, int(round(1.0 / min(fraction, 0.5))))
    size = int(max(candidates.max(initial=-1), top_rows.max(initial=-1))) + 1
    served = np.zeros(size, dtype=bool)
    max_spots = int(np.ceil(len(top_rows) / (period - 1)))
    # enough draws for every spot even if each ranked row was drawn first (they are then skipped)
    draws = rng.choice(candidates, size=min(len(candidates), max_spots + len(top_rows)), replace=False)
    order: list[int] = []
    scores: list[float] = []
    explore: list[bool] = []
    ranked = drawn = spots = 0
    while len(order) < MAX_RANKED:
        if len(order) % period == period - 1 and spots < max_spots:
            while drawn < len(draws) and served[draws[drawn]]:
                drawn += 1
            if drawn < len(draws):
                row = int(draws[drawn])
                served[row] = True
                order.append(row)
                scores.append(np.nan)  # filled below, in one call
                explore.append(True)
                spots += 1
                continue
        while ranked < len(top_rows) and served[top_rows[ranked]]:
            ranked += 1
        if ranked >= len(top_rows):
            break
        served[top_rows[ranked]] = True
        order.append(int(top_rows[ranked]))
        scores.append(float(top_scores[ranked]))
        explore.append(False)
    out_rows, out_scores, is_random = np.asarray(order, dtype=np.int64), np.asarray(scores), np.asarray(explore)
    if is_random.any():
        out_scores[is_random] = np.asarray(score_of(out_rows[is_random]), dtype=np.float64)
    return out_rows, out_scores, is_random


def rank_cold_start(
    embeddings: np.ndarray, unlabeled_mask: np.ndarray, label_embeddings: np.ndarray | None = None,
    batch_size: int = 10, rng: np.random.Generator | None = None,
) -> Ranking:
    """Rank before the classifier can: cover the pool's clusters, then ask about ambiguous items.

    The head is one representative per k-means cluster (``max(batch_size, 2k)`` clusters, k the
    number of labels), biggest cluster first, scored by cosine closeness to its centroid. The rest
    follows by zero-shot margin (items the label descriptions cannot tell apart) when
    ``label_embeddings`` (k, d) are given, otherwise in coverage order (second-nearest of every
    cluster, then third, ...), scored by closeness.

    Args:
        embeddings: (n, d) L2-normalised pool vectors.
        unlabeled_mask: (n,) bool, True for rows that may be served.
        label_embeddings: (k, d) label name/description vectors, or None.
        batch_size: the first batch; at least this many clusters are formed.
        rng: k-means sample and seed; None → a fixed seed (reproducible).

    Raises:
        EmptyPoolError: no row is unlabelled.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    rows = _unlabelled_rows(unlabeled_mask, len(embeddings))
    # All rows unlabelled (the usual cold start): read the pool in place instead of gathering it.
    subset = rows if len(rows) < len(embeddings) else None
    n_labels = len(label_embeddings) if label_embeddings is not None else 2
    n_clusters = max(int(batch_size), 2 * n_labels)
    assignment, closeness = cluster_closeness(embeddings, n_clusters, rng, rows=subset)
    limit = min(len(rows), MAX_RANKED)
    coverage = coverage_from_clusters(assignment, closeness, limit)  # positions into ``rows``
    head = coverage[:len(np.unique(assignment))]  # one per non-empty cluster
    if label_embeddings is not None and len(label_embeddings) > 1:
        rest_scores = margin(cold_start_scores(embeddings, label_embeddings, rows=subset), rng)
        rest_scores[head] = -np.inf
        rest, rest_sorted = _top(np.arange(len(rows)), rest_scores, limit)
        keep = np.isfinite(rest_sorted)
        positions = np.concatenate([head, rest[keep]])[:limit]
        scores = np.concatenate([closeness[head].astype(np.float64), rest_sorted[keep]])[:limit]
    else:
        positions = coverage
        scores = closeness[positions].astype(np.float64)
    return Ranking(order=rows[positions].astype(np.int64), scores=scores, strategy=COLD_START_STRATEGY)
