"""Overlap in the pool: k answers from k different people for a share of the items, never twice to one
person, stable overlap choice; admin assignments served to their assignees only, first."""

from __future__ import annotations

import numpy as np

from annotator.active.leases import Leases, required_answers
from annotator.active.pool import LabelPool

LABELS = ["a", "b"]


def _pool(n: int = 40, *, required=None, seed: int = 0) -> LabelPool:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return LabelPool(np.arange(1, n + 1), x, LABELS, seed=seed, required=required)


def test_required_answers_is_deterministic_stable_as_the_pool_grows_and_near_the_fraction():
    ids = np.arange(1, 20_001)
    req = required_answers(ids, seed=3, fraction=0.2, k=3)
    assert set(np.unique(req)) == {1, 3}
    assert abs((req == 3).mean() - 0.2) < 0.02
    grown = required_answers(np.arange(1, 40_001), seed=3, fraction=0.2, k=3)
    assert np.array_equal(grown[:20_000], req)  # an item keeps its count as items are added
    assert not np.array_equal(required_answers(ids, seed=4, fraction=0.2, k=3), req)  # the seed picks
    assert (required_answers(ids, seed=3, fraction=0.0, k=3) == 1).all()


def test_an_overlap_item_goes_to_k_different_people_and_never_twice_to_one():
    required = np.ones(10, dtype=np.int16)
    required[:3] = 3  # items 1..3 need three answers
    pool = _pool(10, required=required)
    answers: dict[int, list[str]] = {}
    people = ["ana", "ben", "cara", "dan"]
    for _ in range(40):
        progressed = False
        for person in people:
            served = pool.next(person)
            if served is None:
                continue
            progressed = True
            assert person not in answers.get(served.item_id, [])
            answers.setdefault(served.item_id, []).append(person)
            pool.add_answer(served.item_id, person, ["a"])
        if not progressed:
            break
    assert {i: len(set(p)) for i, p in answers.items()} == {i: (3 if i <= 3 else 1) for i in range(1, 11)}
    assert all(len(p) == len(set(p)) for p in answers.values())
    assert pool.done.all() and pool.n_labelled == 10


def test_open_overlap_slots_count_other_peoples_leases():
    required = np.full(4, 2, dtype=np.int16)
    pool = _pool(4, required=required)
    first = pool.next("ana")
    second = pool.next("ben")  # the begun overlap item has a free slot: ben gets the same one
    assert second.item_id == first.item_id and second.strategy == "overlap"
    third = pool.next("cara")  # both slots are held now: cara gets another item
    assert third.item_id != first.item_id
    pool.add_answer(first.item_id, "ana", ["a"])
    assert not pool.done[pool.row_of(first.item_id)]
    pool.add_answer(first.item_id, "ben", ["b"])
    assert pool.done[pool.row_of(first.item_id)]


def test_an_item_a_person_answered_is_not_served_to_them_again_even_when_it_needs_more():
    pool = _pool(3, required=np.array([3, 1, 1], dtype=np.int16))
    pool.add_answer(1, "ana", ["a"])
    served = [pool.next("ana") for _ in range(3)]
    assert sorted(s.item_id for s in served[:2]) == [2, 3] and served[2] is None
    assert pool.next("ben").item_id == 1  # ben may still answer it


def test_undo_returns_the_overlap_slot():
    pool = _pool(3, required=np.array([2, 1, 1], dtype=np.int16))
    pool.add_answer(1, "ana", ["a"])
    pool.add_answer(1, "ben", ["b"])
    assert pool.done[0]
    pool.remove_answer(1, "ben", ["a"])
    assert not pool.done[0] and pool.answers[0] == 1
    assert pool.next("cara").item_id == 1


def test_load_answers_rebuilds_counts_and_answered_sets():
    pool = _pool(4, required=np.array([3, 3, 1, 1], dtype=np.int16))
    pool.load_answers({1: ["a"], 2: ["b"], 3: ["a"]}, [(1, "ana"), (1, "ben"), (2, "ana"), (3, "ana")])
    assert pool.answers.tolist() == [2, 1, 1, 0]
    assert pool.done.tolist() == [False, False, True, False]
    assert pool.answered_by("ana") == {1, 2, 3}
    assert pool.next("ana").item_id == 4
    assert pool.next("cara").item_id in (1, 2)


def test_assigned_items_go_to_their_assignees_first_and_to_nobody_else():
    pool = _pool(10)
    pool.set_assignees([7, 8], ["ana"])
    got = [pool.next("ana").item_id, pool.next("ana").item_id]
    assert got == [7, 8]
    others = []
    while (s := pool.next("ben")) is not None:
        others.append(s.item_id)
    assert not {7, 8} & set(others) and len(others) == 8
    pool.clear_assignees()
    pool.reserved.release("ana")
    pool.rerank()
    assert pool.next("ben").item_id in (7, 8)


def test_leases_hold_several_people_per_row_and_expire_each():
    now = [0.0]
    leases = Leases(10, clock=lambda: now[0])
    leases[5] = "ana"
    now[0] = 5.0
    leases[5] = "ben"
    assert set(leases.holders(5)) == {"ana", "ben"} and len(leases) == 2
    now[0] = 11.0  # ana's ran out, ben's has not
    assert set(leases.holders(5)) == {"ben"}
    leases.drop(5, "ben")
    assert 5 not in leases
