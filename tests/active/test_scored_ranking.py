"""Values given per item id land on the right pool rows; ids outside the pool are ignored."""

import numpy as np

from annotator.active.scored_ranking import rank_by_item_scores, spread_to_rows


def test_spread_to_rows_places_values_and_ignores_unknown_ids():
    pool_ids = np.array([3, 7, 10, 42])
    full, covered = spread_to_rows(pool_ids, np.array([42, 5, 7]), np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]),
                                   fill=np.nan)
    assert covered.tolist() == [False, True, False, True]
    assert full[3].tolist() == [0.9, 0.1] and full[1].tolist() == [0.2, 0.8]
    assert np.isnan(full[[0, 2]]).all()


def test_spread_to_rows_of_nothing_is_all_fill():
    full, covered = spread_to_rows(np.array([1, 2]), np.array([], dtype=np.int64), np.zeros(0), fill=0.0)
    assert not covered.any() and full.tolist() == [0.0, 0.0]


def test_item_scores_rank_the_highest_score_first_and_unscored_as_most_uncertain():
    rng = np.random.default_rng(0)
    scores = np.array([0.1, 0.9, np.nan, 0.5, 0.0])
    emb = rng.normal(size=(5, 4)).astype(np.float32)
    ranking = rank_by_item_scores(scores, "span-uncertainty", emb, np.ones(5, dtype=bool), strategy="margin",
                                  batch_size=1, rng=rng, explore_fraction=0.0, explore_mask=np.ones(5, dtype=bool))
    assert ranking.strategy == "span-uncertainty"
    assert ranking.order[:3].tolist() == [2, 1, 3]
