"""Queue rankings over scores computed outside the pool's own classifier.

Two sources rank a project's queue instead of the probe: the judges' verdicts of a preference
project (``rank_by_judges``) and per-item scores of a span project (``rank_by_item_scores``).
Both go through ``rank_pool``, so they keep its diverse first batch and random calibration slice.
``spread_to_rows`` places values given per item id on the pool's rows.
"""

from __future__ import annotations

import numpy as np

from annotator.active.ranking import Ranking, rank_pool
from annotator.active.strategies import STRATEGIES


def spread_to_rows(pool_ids: np.ndarray, item_ids: np.ndarray, values: np.ndarray,
                   fill: float) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (m, ...) of ``item_ids`` (m,) laid on the rows of ``pool_ids`` (n,) sorted.

    Returns ``(full, covered)``: ``full`` (n, ...) float64 holding ``fill`` on rows no id names,
    ``covered`` (n,) bool. Ids that are not in the pool are ignored.
    """
    item_ids = np.asarray(item_ids, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    full = np.full((len(pool_ids), *values.shape[1:]), fill, dtype=np.float64)
    covered = np.zeros(len(pool_ids), dtype=bool)
    if len(item_ids) and len(pool_ids):
        pos = np.clip(np.searchsorted(pool_ids, item_ids), 0, len(pool_ids) - 1)
        hit = pool_ids[pos] == item_ids
        full[pos[hit]] = values[hit]
        covered[pos[hit]] = True
    return full, covered


def rank_by_judges(judge_proba: np.ndarray, embeddings: np.ndarray, unlabelled: np.ndarray, *, strategy: str,
                   batch_size: int, rng: np.random.Generator, explore_fraction: float,
                   explore_mask: np.ndarray) -> Ranking:
    """The classification ranking over the judges' probabilities ``judge_proba`` (n, k; NaN rows:
    no judge answered) instead of the classifier's, by ``strategy`` (margin when it is not a
    classification strategy; "random" ignores the verdicts: the baseline). An item no judge has
    answered counts as the most uncertain (uniform): nothing is known about it."""
    proba = judge_proba.copy()
    proba[~np.isfinite(proba).all(axis=1)] = 1.0 / proba.shape[1]
    strategy = strategy if strategy in STRATEGIES else "margin"
    ranking = rank_pool(proba, embeddings, unlabelled, strategy=strategy, batch_size=batch_size, rng=rng,
                        multi_label=False, explore_fraction=explore_fraction, explore_mask=explore_mask)
    return Ranking(order=ranking.order, scores=ranking.scores, strategy=f"judge-{strategy}", explore=ranking.explore)


def rank_by_item_scores(scores: np.ndarray, name: str, embeddings: np.ndarray, unlabelled: np.ndarray, *,
                        strategy: str, batch_size: int, rng: np.random.Generator, explore_fraction: float,
                        explore_mask: np.ndarray) -> Ranking:
    """``rank_pool`` over ``scores`` (n,) in [0, 1] (higher: ask a person first; NaN: unscored, ranked
    as most uncertain), reported under the strategy ``name``. One sigmoid column p = s / 2 has the
    multi-label margin 1 - |2p - 1| = s, so the margin strategy ranks by s itself; "random" still
    ignores the scores (the baseline)."""
    proba = (np.where(np.isfinite(scores), scores, 1.0) / 2.0)[:, None]
    strategy = "random" if strategy == "random" else "margin"
    ranking = rank_pool(proba, embeddings, unlabelled, strategy=strategy, batch_size=batch_size, rng=rng,
                        multi_label=True, explore_fraction=explore_fraction, explore_mask=explore_mask)
    return Ranking(order=ranking.order, scores=ranking.scores, strategy=name if strategy != "random" else strategy,
                   explore=ranking.explore)
