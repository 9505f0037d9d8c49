"""The in-memory queue: cold start covers clusters, refits re-rank, nothing is served twice."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.active.pool import LabelPool

LABELS = ["a", "b", "c"]


def _blobs(n_per: int = 40, n_blobs: int = 5, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_blobs, d))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    blob = np.repeat(np.arange(n_blobs), n_per)
    x = centers[blob] * 4 + rng.normal(scale=0.3, size=(len(blob), d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), blob


def test_cold_start_serves_items_from_different_clusters_first():
    x, blob = _blobs()
    pool = LabelPool(np.arange(1, len(x) + 1), x, LABELS, batch_size=5, seed=0)
    served = [pool.next("ana") for _ in range(5)]
    assert all(s.strategy == "cold-start" for s in served)
    assert len({blob[s.item_id - 1] for s in served}) == 5


def test_nothing_is_served_twice_and_reservations_hold():
    x, _ = _blobs(n_per=4)
    pool = LabelPool(np.arange(1, 21), x, LABELS, seed=0)
    ana = [pool.next("ana").item_id for _ in range(10)]
    ben = [pool.next("ben").item_id for _ in range(10)]
    assert len(set(ana) | set(ben)) == 20
    assert pool.next("cara") is None


def test_skipped_items_come_back_when_the_queue_runs_out():
    x, _ = _blobs(n_per=1, n_blobs=3)
    pool = LabelPool(np.array([10, 20, 30]), x, LABELS, seed=0)
    first = pool.next("ana").item_id
    pool.skip(first)
    rest = [pool.next("ana").item_id for _ in range(2)]
    assert first not in rest
    for item_id in rest:
        pool.set_label(item_id, ["a"])
    assert pool.next("ana").item_id == first


def test_refit_reranks_by_the_newest_model():
    """After new labels and a refit, the head of the queue is the least certain item under the NEW
    model, not under the first one."""
    rng = np.random.default_rng(0)
    d = 8
    x = rng.normal(size=(400, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    truth = (x[:, 0] > 0).astype(int)  # the real boundary: the first coordinate
    pool = LabelPool(np.arange(1, 401), x, ["neg", "pos"], batch_size=1, seed=0)
    # A misleading start: two labels per class that suggest the boundary is the SECOND coordinate.
    start = [i for i in range(400) if (x[i, 1] > 0.3) == truth[i] and abs(x[i, 1]) > 0.3][:8]
    for i in start:
        pool.set_label(i + 1, [["neg", "pos"][truth[i]]])
    assert pool.refit()
    first_model = pool.model
    first_version = pool.model_version
    for i in rng.choice(400, size=120, replace=False):
        pool.set_label(int(i) + 1, [["neg", "pos"][truth[i]]])
    assert pool.refit() and pool.model_version == first_version + 1
    served = pool.next("ana")
    row = pool.row_of(served.item_id)
    new_p = pool.model.predict_proba(x)[:, 1]
    old_p = first_model.predict_proba(x)[:, 1]
    unlabelled = ~pool.labelled
    new_margin = np.abs(new_p - 0.5)
    assert new_margin[row] <= np.quantile(new_margin[unlabelled], 0.05)
    old_margin = np.abs(old_p - 0.5)
    assert np.argmin(np.where(unlabelled, old_margin, np.inf)) != row
    assert served.model_version == pool.model_version


def test_undo_clears_the_label_and_counts_toward_refit():
    x, _ = _blobs(n_per=2)
    pool = LabelPool(np.arange(1, 11), x, LABELS)
    pool.set_label(3, ["b"])
    assert pool.n_labelled == 1 and pool.labels_since_refit == 1
    pool.set_label(3, None)
    assert pool.n_labelled == 0 and pool.labels_since_refit == 2


def test_unknown_item_is_a_key_error():
    x, _ = _blobs(n_per=1, n_blobs=2)
    pool = LabelPool(np.array([5, 9]), x, LABELS)
    with pytest.raises(KeyError):
        pool.row_of(7)


def test_exploration_items_are_served_blind_and_named_as_random():
    x, blob = _blobs()
    pool = LabelPool(np.arange(1, len(x) + 1), x, LABELS, batch_size=5, seed=0, explore_fraction=0.2)
    for i in [*range(0, 8), *range(40, 48), *range(80, 88)]:  # three classes, so the classifier can rank
        pool.set_label(i + 1, [LABELS[blob[i] % 3]])
    assert pool.refit()
    served = [pool.next("ana") for _ in range(20)]
    explored = [s for s in served if s.strategy == "random (calibration)"]
    assert 2 <= len(explored) <= 6
    assert all(s.route == "blind" for s in explored)
    assert all(s.strategy == "margin" and s.route == "manual" for s in served if s not in explored)


def test_random_picks_never_outlast_the_queue():
    x, blob = _blobs()
    n = len(x)
    pool = LabelPool(np.arange(1, n + 1), x, LABELS, batch_size=5, seed=0, explore_fraction=0.2)
    for i in [*range(0, 8), *range(40, 48), *range(80, 88)]:
        pool.set_label(i + 1, [LABELS[blob[i] % 3]])
    assert pool.refit()
    open_rows = np.flatnonzero(~pool.labelled)
    routes = np.array(["auto"] * len(open_rows), dtype=object)
    routes[:5] = "verify"  # all but five open items were auto-accepted
    pool.set_routes(open_rows, routes)
    pool.rerank()
    served = []
    while (item := pool.next("ana")) is not None:
        served.append(item)
        pool.set_label(item.item_id, ["a"])
        assert len(served) < 50, "the queue must end once only auto items are left"
    verify_ids = {int(pool.item_ids[r]) for r in open_rows[:5]}
    assert verify_ids <= {s.item_id for s in served}
    assert all(s.route == "blind" for s in served if s.item_id not in verify_ids)


def test_an_expired_lease_returns_the_item_to_the_queue():
    from annotator.active.leases import Leases

    now = [0.0]
    x, _ = _blobs(n_per=2)
    pool = LabelPool(np.arange(1, 11), x, LABELS, seed=0, lease_seconds=60)
    pool.reserved = Leases(60, clock=lambda: now[0])
    ana = [pool.next("ana").item_id for _ in range(10)]
    assert pool.next("ben") is None  # every item is held by ana
    now[0] = 59.0
    assert pool.next("ben") is None
    now[0] = 61.0  # ana's leases ran out (closed tab): the items return for everyone
    pool.rerank()
    ben = pool.next("ben")
    assert ben is not None and ben.item_id in ana
    assert pool.reserved.holder(pool.row_of(ben.item_id)) == "ben"


def test_leases_release_and_never_expire_without_a_time():
    from annotator.active.leases import Leases

    now = [0.0]
    leases = Leases(None, clock=lambda: now[0])
    leases[3] = "ana"
    leases[4] = "ben"
    now[0] = 1e9
    assert 3 in leases and leases.holder(4) == "ben" and len(leases) == 2
    leases.release("ana")
    assert 3 not in leases and len(leases) == 1
    assert leases.pop(4) == "ben" and leases.pop(4) is None


def test_judge_verdicts_rank_the_queue_unjudged_first_then_least_sure_and_diverse():
    """Preference projects: the judges' stored probabilities rank the queue (margin), the head is
    diversified as for classification, an unjudged item counts as the least sure, and clearing the
    verdicts gives the pool's own order back."""
    x, blob = _blobs(n_per=20, n_blobs=5)
    ids = np.arange(1, len(x) + 1)
    pool = LabelPool(ids, x, ["A", "B", "tie", "both-bad"], batch_size=4, seed=0, explore_fraction=0.0)
    rng = np.random.default_rng(1)
    p_a = rng.uniform(0.9, 0.99, size=len(x))  # sure of most pairs
    unsure = np.unique(np.concatenate([np.flatnonzero(blob == 0)[:10], [np.flatnonzero(blob == 1)[0]],
                                       [np.flatnonzero(blob == 2)[0]]]))
    p_a[unsure] = rng.uniform(0.5, 0.55, size=len(unsure))
    proba = np.stack([p_a, 1 - p_a, np.zeros_like(p_a), np.zeros_like(p_a)], axis=1)
    unjudged = np.flatnonzero(blob == 3)[0]
    judged = np.setdiff1d(np.arange(len(x)), [unjudged])
    assert pool.set_judge_proba(ids[judged], proba[judged]) == len(judged)
    served = [pool.next("ana") for _ in range(4)]
    rows = [s.item_id - 1 for s in served]
    assert all(s.strategy == "judge-margin" for s in served)
    assert rows[0] == unjudged  # nothing known about it: the least sure of all
    # then the unsure pairs, one per cluster: blob 0 holds ten of them, only one is served
    assert set(rows[1:]) <= set(unsure) and sorted(blob[rows[1:]]) == [0, 1, 2]
    pool.set_judge_proba(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    assert pool.judge_proba is None and pool.next("ana").strategy == "cold-start"
    with pytest.raises(ValueError, match="4 labels"):
        pool.set_judge_proba(ids[:2], proba[:2, :2])


def test_random_strategy_ignores_the_judges_verdicts():
    """The baseline of ``simulate --compare random``: verdicts set, yet the order is random."""
    x, _ = _blobs(n_per=20, n_blobs=5)
    ids = np.arange(1, len(x) + 1)
    p_a = np.linspace(0.5, 0.99, len(x))  # row 0 the least sure, the last the surest
    proba = np.stack([p_a, 1 - p_a, np.zeros_like(p_a), np.zeros_like(p_a)], axis=1)
    firsts = []
    for strategy in ("margin", "random"):
        pool = LabelPool(ids, x, ["A", "B", "tie", "both-bad"], batch_size=1, seed=0, strategy=strategy,
                         explore_fraction=0.0)
        pool.set_judge_proba(ids, proba)
        served = [pool.next("ana") for _ in range(10)]
        assert {s.strategy for s in served} == {f"judge-{strategy}"}
        firsts.append([s.item_id - 1 for s in served])
    assert firsts[0] == list(range(10))
    assert np.mean(firsts[1]) > 20  # random picks from 100 rows: mean ~50; the first ten would give 4.5
