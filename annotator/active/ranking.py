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
    """Insert rows drawn uniformly from ``candidates`` (not already ranked) at every
    ``round(1/fraction)``-th position; ``score_of(rows)`` gives their strategy scores.

    Returns the new (order, scores, explore mask); the result keeps at most ``MAX_RANKED`` rows.
    """
    period = max(2, int(round(1.0 / min(fraction, 0.5))))
    taken = np.zeros(int(max(candidates.max(initial=0), top_rows.max(initial=0))) + 1, dtype=bool)
    taken[top_rows] = True
    free = candidates[~taken[candidates]]
    n_random = min(len(free), int(np.ceil(len(top_rows) / (period - 1))))
    if n_random <= 0:
        # every candidate is ranked already (a small pool): mark a random share of them as exploration
        explore = np.zeros(len(top_rows), dtype=bool)
        explore[period - 1::period] = True
        spots = np.flatnonzero(explore)
        pick = rng.choice(np.flatnonzero(~explore), size=min(len(spots), int((~explore).sum())), replace=False)
        spots = spots[:len(pick)]
        explore[:] = False
        explore[spots] = True
        order, scores = top_rows.copy(), top_scores.copy()
        order[spots], order[pick] = top_rows[pick], top_rows[spots]
        scores[spots], scores[pick] = top_scores[pick], top_scores[spots]
        return order, scores, explore
    chosen = rng.choice(free, size=n_random, replace=False)
    chosen_scores = np.asarray(score_of(chosen), dtype=np.float64)
    out_rows, out_scores, explore = [], [], []
    r = 0
    for start in range(0, len(top_rows), period - 1):
        out_rows.append(top_rows[start:start + period - 1])
        out_scores.append(top_scores[start:start + period - 1])
        explore.append(np.zeros(len(out_rows[-1]), dtype=bool))
        if r < n_random:
            out_rows.append(chosen[r:r + 1])
            out_scores.append(chosen_scores[r:r + 1])
            explore.append(np.ones(1, dtype=bool))
            r += 1
    order = np.concatenate(out_rows)[:MAX_RANKED]
    return order, np.concatenate(out_scores)[:MAX_RANKED], np.concatenate(explore)[:MAX_RANKED]


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
