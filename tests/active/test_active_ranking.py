"""Ranking the pool: uncertain first under the current model, diverse head, bounded, never empty."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.active import ranking as ranking_module
from annotator.active.classifier import fit_classifier
from annotator.active.ranking import rank_pool
from annotator.active.strategies import get_strategy
from annotator.core.errors import EmptyPoolError, ValidationError

from active_data import make_blobs


def _pool(n: int = 600, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, (x[:, 0] > 0).astype(int)  # the true boundary: the first coordinate


def test_ranking_after_refit_puts_the_new_models_least_certain_items_first():
    x, truth = _pool()
    # A misleading start: labels that suggest the boundary is the SECOND coordinate.
    start = np.flatnonzero((np.abs(x[:, 1]) > 0.3) & ((x[:, 1] > 0) == truth.astype(bool)))[:8]
    old = fit_classifier(x[start], truth[start], 2)
    more = np.union1d(start, np.random.default_rng(1).choice(len(x), 150, replace=False))
    new = fit_classifier(x[more], truth[more], 2)
    unlabelled = np.ones(len(x), dtype=bool)
    unlabelled[more] = False

    new_proba = new.predict_proba(x)
    ranked = rank_pool(new_proba, x, unlabelled, "margin", batch_size=1, rng=np.random.default_rng(0))
    new_gap = np.abs(new_proba[:, 1] - 0.5)
    first = ranked.order[0]
    assert new_gap[first] == new_gap[unlabelled].min()
    old_gap = np.abs(old.predict_proba(x)[:, 1] - 0.5)
    assert old_gap[first] > np.quantile(old_gap[unlabelled], 0.2)  # not what the old model would ask
    # The served items sit near the new boundary x0 = 0, far less so under the old one.
    assert np.abs(x[ranked.order[:20], 0]).mean() < 0.5 * np.abs(x[unlabelled, 0]).mean()


def test_order_holds_only_unlabelled_rows_and_the_tail_is_sorted_by_score():
    x, blob = make_blobs(n_per=50, n_blobs=4)
    proba = np.random.default_rng(0).dirichlet(np.ones(3), size=len(x)).astype(np.float32)
    unlabelled = np.random.default_rng(1).random(len(x)) > 0.3
    ranked = rank_pool(proba, x, unlabelled, "entropy", batch_size=5, rng=np.random.default_rng(0))
    assert len(ranked.order) == unlabelled.sum() and unlabelled[ranked.order].all()
    assert len(set(ranked.order.tolist())) == len(ranked.order)
    expected = get_strategy("entropy")(proba, np.random.default_rng(0))
    np.testing.assert_allclose(ranked.scores, expected[ranked.order])
    assert (np.diff(ranked.scores[5:]) <= 0).all()
    head_pool = np.sort(expected[unlabelled])[::-1][:50]  # batch_size × POOL_FACTOR best
    assert (ranked.scores[:5] >= head_pool[-1]).all()


def test_the_first_batch_skips_near_duplicates_of_the_most_uncertain_item():
    x, _ = make_blobs(n_per=40, n_blobs=5, seed=3)
    x[:8] = x[0]  # eight copies of one text
    proba = np.tile(np.float32([0.9, 0.1]), (len(x), 1))
    proba[:8] = [0.5, 0.5]                                   # the copies are the most uncertain
    proba[8:40] = [0.55, 0.45]                               # then a few others
    ranked = rank_pool(proba, x, np.ones(len(x), dtype=bool), "margin", batch_size=4,
                       rng=np.random.default_rng(0))
    head = ranked.order[:4]
    assert np.isin(head, np.arange(8)).sum() == 1
    plain = rank_pool(proba, x, np.ones(len(x), dtype=bool), "margin", batch_size=1)
    assert np.isin(plain.order[:4], np.arange(8)).all()  # without diversity: four copies in a row


def test_random_strategy_is_reproducible_per_rng():
    x, _ = make_blobs(n_per=20, n_blobs=3)
    proba = np.full((len(x), 3), 1 / 3, dtype=np.float32)
    mask = np.ones(len(x), dtype=bool)
    a = rank_pool(proba, x, mask, "random", 5, np.random.default_rng(11))
    b = rank_pool(proba, x, mask, "random", 5, np.random.default_rng(11))
    c = rank_pool(proba, x, mask, "random", 5, np.random.default_rng(12))
    np.testing.assert_array_equal(a.order, b.order)
    assert not np.array_equal(a.order, c.order)
    assert a.strategy == "random"


def test_multi_label_ranking_uses_per_label_uncertainty():
    x, _ = make_blobs(n_per=10, n_blobs=3)
    proba = np.full((len(x), 3), 0.99, dtype=np.float32)
    proba[7] = [0.5, 0.5, 0.5]  # sums to 1.5: only right as three independent coin flips
    ranked = rank_pool(proba, x, np.ones(len(x), dtype=bool), "least-confidence", batch_size=1,
                       multi_label=True)
    assert ranked.order[0] == 7 and ranked.scores[0] == pytest.approx(0.5)


def test_the_ranking_is_bounded(monkeypatch):
    monkeypatch.setattr(ranking_module, "MAX_RANKED", 30)
    x, _ = make_blobs(n_per=50, n_blobs=4)
    proba = np.random.default_rng(0).dirichlet(np.ones(2), size=len(x)).astype(np.float32)
    ranked = rank_pool(proba, x, np.ones(len(x), dtype=bool), "margin", batch_size=1)
    assert len(ranked.order) == 30
    scores = get_strategy("margin")(proba, np.random.default_rng(0))
    np.testing.assert_allclose(ranked.scores, np.sort(scores)[::-1][:30])


def test_an_empty_pool_says_so():
    x, _ = make_blobs(n_per=5, n_blobs=2)
    with pytest.raises(EmptyPoolError, match="Nothing left to rank") as err:
        rank_pool(np.full((10, 2), 0.5), x, np.zeros(10, dtype=bool), "margin", 5)
    assert "0 of 10" in str(err.value)


def test_bad_inputs_are_refused_with_the_expected_shape():
    x, _ = make_blobs(n_per=5, n_blobs=2)
    with pytest.raises(ValidationError, match="one bool per pool row"):
        rank_pool(np.full((10, 2), 0.5), x, np.ones(9, dtype=bool), "margin", 5)
    with pytest.raises(ValidationError, match="Unknown query strategy"):
        rank_pool(np.full((10, 2), 0.5), x, np.ones(10, dtype=bool), "bald", 5)


@pytest.mark.parametrize("n", [600, 40])  # a pool larger than the ranking head, and one fully ranked
def test_explore_fraction_interleaves_random_rows_marked_as_such(n):
    x, truth = _pool(n=n)
    model = fit_classifier(x[:30], truth[:30], 2)
    proba = model.predict_proba(x)
    mask = np.ones(len(x), dtype=bool)
    mask[:30] = False
    plain = rank_pool(proba, x, mask, "margin", batch_size=1, rng=np.random.default_rng(3))
    mixed = rank_pool(proba, x, mask, "margin", batch_size=1, rng=np.random.default_rng(3), explore_fraction=0.1)
    assert plain.explore is None
    explore = mixed.explore
    assert explore is not None and len(explore) == len(mixed.order)
    assert 0.07 <= explore[:100].mean() <= 0.13  # one row in ten
    assert len(np.unique(mixed.order)) == len(mixed.order) and mask[mixed.order].all()
    assert mixed.strategy_at(int(np.flatnonzero(explore)[0])) == ranking_module.EXPLORE_STRATEGY
    assert mixed.strategy_at(0) == "margin"
    # The strategy's rows keep their order; the random ones are not just the next most uncertain.
    ranked = mixed.order[~explore]
    margins = np.abs(proba[:, 1] - proba[:, 0])
    assert margins[mixed.order[explore]].mean() > margins[ranked[: int(explore.sum())]].mean()


def test_random_strategy_never_explores():
    x, truth = _pool(n=100)
    proba = fit_classifier(x[:20], truth[:20], 2).predict_proba(x)
    assert rank_pool(proba, x, np.ones(100, dtype=bool), "random", explore_fraction=0.2).explore is None


def test_random_picks_sample_the_whole_mask_not_only_what_the_strategy_left_out():
    # Half the pool is auto-accepted (outside the ranking, inside the explore mask): the random
    # slice must still fall on ranked (hard) rows about half the time, or it measures only the easy half.
    x, truth = _pool(n=400)
    proba = fit_classifier(x[:30], truth[:30], 2).predict_proba(x)
    ranked_mask = np.zeros(len(x), dtype=bool)
    ranked_mask[30:215] = True
    explore_mask = np.zeros(len(x), dtype=bool)
    explore_mask[30:] = True  # rows 215.. stand for the auto-accepted ones
    from_ranked = []
    for seed in range(40):
        r = rank_pool(proba, x, ranked_mask, "margin", batch_size=1, rng=np.random.default_rng(seed),
                      explore_fraction=0.2, explore_mask=explore_mask)
        picks = r.order[r.explore]
        assert explore_mask[picks].all() and len(np.unique(r.order)) == len(r.order)
        from_ranked.append(ranked_mask[picks[:10]].mean())
    share = ranked_mask[explore_mask].mean()  # 0.5
    assert abs(np.mean(from_ranked) - share) < 0.08


def test_a_drawn_row_moves_forward_never_back():
    x, truth = _pool(n=200)
    proba = fit_classifier(x[:30], truth[:30], 2).predict_proba(x)
    mask = np.ones(len(x), dtype=bool)
    mask[:30] = False
    plain = rank_pool(proba, x, mask, "margin", batch_size=1, rng=np.random.default_rng(1))
    mixed = rank_pool(proba, x, mask, "margin", batch_size=1, rng=np.random.default_rng(1), explore_fraction=0.2)
    where_plain = {int(r): i for i, r in enumerate(plain.order)}
    assert sorted(mixed.order.tolist()) == sorted(plain.order.tolist())
    # a drawn row comes before it would have come by rank: fewer ranked rows precede it than in the plain order
    ranked_before = np.cumsum(~mixed.explore) - ~mixed.explore
    for i in np.flatnonzero(mixed.explore):
        assert ranked_before[i] <= where_plain[int(mixed.order[i])]
