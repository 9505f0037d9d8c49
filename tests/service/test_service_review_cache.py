"""The review queue kept between looks (service.review._review_assessed): a decision re-assesses only the
items that changed, and the queue is always the one a fresh look from scratch gives; a settled item
never shows again, and a disagreement written by another process shows after a refresh."""

from __future__ import annotations

import random

import pytest

from annotator.service import AnnotatorService

PEOPLE = ["ana", "ben", "cy", "dan"]


@pytest.fixture
def svc(settings, engine, fake_embedder):
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    yield service
    service.close()


@pytest.fixture
def other(settings, engine, fake_embedder):
    """A second service on the same database: another process of a team (its own cache, or none)."""
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    yield service
    service.close()


@pytest.fixture
def ids(svc):
    """20 items, an AI suggestion 'a' each; a reviewer rita."""
    svc.projects.create_project("q", ["a", "b", "c"])
    svc.imports.import_records("q", [{"text": f"cached review item {k}", "external_id": f"i{k}", "labels": ["a"]}
                             for k in range(20)], labels_as="suggestion", agent="gpt")
    svc.accounts.add_user("rita", role="reviewer")
    return sorted(row["item_id"] for row in svc.exports.final_labels("q"))


def _page(service: AnnotatorService) -> tuple[list[tuple[int, list[str], float]], dict]:
    entries, counts = service.review.page("q")
    return [(e.item_id, e.reasons, e.priority) for e in entries], counts


@pytest.fixture
def scratch(settings, engine, fake_embedder):
    """The reference: a service whose kept queue is dropped before each look (every candidate assessed)."""
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    yield service
    service.close()


def _from_scratch(service: AnnotatorService) -> tuple[list[tuple[int, list[str], float]], dict]:
    service.review._review_cache.clear()
    return _page(service)


def test_the_kept_queue_equals_a_fresh_one_after_every_kind_of_change(svc, other, scratch, ids):
    rng = random.Random(11)
    built = []
    assess_all = svc.review._review_assess_all
    svc.review._review_assess_all = lambda *a, **k: built.append(1) or assess_all(*a, **k)
    _page(svc)  # the cache is built here; every later look is incremental
    plan = ["answer", "answer", "answer", "flagged", "undo", "request", "settle", "correct", "send_back",
            "other_answer"] * 7
    rng.shuffle(plan)
    kinds = []
    for step, kind in enumerate(plan):
        item = rng.choice(ids)
        queued = [i for i, _, _ in _page(svc)[0]]
        if kind in ("settle", "correct", "send_back") and queued:
            item = rng.choice(queued)
        if kind == "answer":
            svc.queue.submit("q", rng.choice(PEOPLE), item, [rng.choice("abc")])
        elif kind == "other_answer":  # another process: this service learns of it only through the store
            other.queue.submit("q", rng.choice(PEOPLE), item, [rng.choice("abc")])
        elif kind == "flagged":
            svc.queue.submit("q", rng.choice(PEOPLE), item, [rng.choice("abc")], flagged=True, comment="unsure")
        elif kind == "undo":
            svc.queue.undo("q", rng.choice(PEOPLE))
        elif kind == "request":
            other.review.flag("q", [item], f"suspect {step % 3}", score=rng.choice([None, 0.9]))
        elif kind == "settle" and queued:
            svc.review.settle("q", "rita", item, [rng.choice("abc")])
        elif kind == "correct" and queued:
            other.review.correct("q", "rita", item, [rng.choice("abc")])
        elif kind == "send_back" and queued:
            svc.review.send_back("q", "rita", item)
        if queued or kind not in ("settle", "correct", "send_back"):
            kinds.append(kind)
        assert _page(svc) == _from_scratch(scratch), (step, kind)
    assert set(kinds) == set(plan) and _page(svc)[1]["items"] > 0  # every kind of change happened
    assert len(built) == 1  # assessed from scratch once; every other look only re-assessed what changed


def test_a_settled_item_never_shows_again_and_a_new_disagreement_shows_after_refresh(svc, other, ids):
    for k, item in enumerate(ids[:6]):  # six disputed items
        svc.queue.submit("q", "ana", item, ["a"])
        svc.queue.submit("q", "ben", item, ["b" if k % 2 else "c"])
    shown, settled = [], set()
    while True:
        entries, counts = svc.review.page("q", limit=1)
        if not entries:
            break
        item = entries[0].item_id
        assert item not in settled, f"settled item {item} shown again"
        shown.append(item)
        svc.review.settle("q", "rita", item, ["a"])
        settled.add(item)
        assert counts["items"] == 6 - len(shown) + 1
    assert sorted(shown) == ids[:6]
    assert svc.review.page("q")[1]["items"] == 0
    # another process writes a new disagreement (and one on a settled item that agrees with the decision)
    other.queue.submit("q", "cy", ids[10], ["a"])
    other.queue.submit("q", "dan", ids[10], ["c"])
    other.queue.submit("q", "cy", ids[0], ["a"])
    entries, counts = svc.review.page("q")
    assert [e.item_id for e in entries] == [ids[10]] and counts["items"] == 1
    # a person disagreeing with a decision brings that item back, through the store too
    other.queue.submit("q", "dan", ids[1], ["c"])
    assert sorted(e.item_id for e in svc.review.page("q")[0]) == sorted([ids[1], ids[10]])
