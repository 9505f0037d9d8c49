"""The browse page's store queries (annotator.store.browse) on SQLite and PostgreSQL: filters,
paging, capped totals, and speed on a pool big enough to show a full scan."""

from __future__ import annotations

import pytest

from annotator import store
from annotator.store import browse as browse_q
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q


def _seed(engine, n: int = 60) -> dict:
    """n items; every 3rd labelled by ana (a/b/c cycling), item 5 flagged, item 7 bulk, item 10 auto by AI."""
    with store.transaction(engine) as s:
        p = project_q.create_project(s, name="p", task_type="single-label",
                                     labels=[{"name": x} for x in ("a", "b", "c")], guidelines="", settings={})
        other = project_q.create_project(s, name="other", task_type="single-label", labels=[{"name": "a"}],
                                         guidelines="", settings={})
        ana = project_q.get_or_create_user(s, "ana")
        rows = [{"text": f"row {i} {'cat' if i % 2 else 'dog'} 100%_done", "text_hash": f"h{i}",
                 "external_id": f"e{i}", "metadata": {"channel": "chat" if i % 2 else "email", "n": i % 4}}
                for i in range(n)]
        ids = item_q.insert_items(s, p.id, rows)
        item_q.insert_items(s, other.id, [{"text": "row 1 cat", "text_hash": "o1", "metadata": {}}])
        for k, iid in enumerate(ids[::3]):
            response_q.add_response(s, item_id=iid, user_id=ana.id, value=["abc"[k % 3]])
        response_q.add_response(s, item_id=ids[5], user_id=ana.id, value=["b"], flagged=True)
        response_q.add_response(s, item_id=ids[7], user_id=ana.id, value=["c"], source="bulk")
        response_q.insert_suggestions(s, [{"item_id": ids[10], "agent": "zs", "agent_version": "1", "value": ["a"],
                                           "scores": {"a": 0.9}, "score": 0.9, "route": "auto"},
                                          {"item_id": ids[11], "agent": "zs", "agent_version": "1", "value": ["b"],
                                           "scores": {"b": 0.4}, "score": 0.4, "route": None}])
        # An answer that was taken back (undo) no longer counts.
        response_q.add_response(s, item_id=ids[1], user_id=ana.id, value=["a"], status="discarded")
        return {"pid": p.id, "ids": ids}


def _page(engine, pid, **kw):
    order = kw.pop("order", "id")
    offset = kw.pop("offset", 0)
    limit = kw.pop("limit", 50)
    with store.transaction(engine) as s:
        ids, total, exact = browse_q.page_item_ids(s, pid, browse_q.BrowseFilters(**kw), offset=offset, limit=limit,
                                                   order=order)
        return ids, total, exact


def test_filters_match_the_current_answer(engine):
    seeded = _seed(engine)
    pid, ids = seeded["pid"], seeded["ids"]
    labelled = set(ids[::3]) | {ids[5], ids[7]}
    assert _page(engine, pid)[1:] == (60, True)
    assert set(_page(engine, pid, status="labelled")[0]) == labelled
    unlabelled = set(_page(engine, pid, status="unlabelled", limit=100)[0])
    assert unlabelled == set(ids) - labelled - {ids[10]}  # item 10 carries an auto-accepted AI label
    assert _page(engine, pid, status="auto")[0] == [ids[10]]
    assert _page(engine, pid, status="flagged")[0] == [ids[5]]
    assert _page(engine, pid, status="bulk")[0] == [ids[7]]
    assert _page(engine, pid, route="auto")[0] == [ids[10]]
    label_a = set(_page(engine, pid, label="a")[0])
    assert label_a == {iid for k, iid in enumerate(ids[::3]) if k % 3 == 0} | {ids[10]}
    assert set(_page(engine, pid, annotator="ana")[0]) == labelled
    assert _page(engine, pid, annotator="nobody")[0] == []
    assert len(_page(engine, pid, metadata={"channel": "chat"})[0]) == 30
    assert len(_page(engine, pid, metadata={"n": "3"})[0]) == 15  # numbers compare as text
    assert len(_page(engine, pid, query="CAT")[0]) == 30  # case-insensitive, and only this project
    assert _page(engine, pid, query="e12")[0] == [ids[12]]  # an exact external id
    assert _page(engine, pid, query="100%_")[1] == 60  # LIKE wildcards are escaped, not wild
    assert _page(engine, pid, query="100%x")[0] == []


def test_paging_orders_and_capped_totals(engine):
    seeded = _seed(engine)
    pid, ids = seeded["pid"], seeded["ids"]
    page2, total, exact = _page(engine, pid, offset=50, limit=50)
    assert page2 == ids[50:] and (total, exact) == (60, True)
    assert _page(engine, pid, order="newest", limit=3)[0] == ids[::-1][:3]
    assert _page(engine, pid, order="suggestion score", limit=2)[0] == [ids[11], ids[10]]
    with store.transaction(engine) as s:
        _, total, exact = browse_q.page_item_ids(s, pid, browse_q.BrowseFilters(query="row"), count_cap=25)
    assert (total, exact) == (25, False)


def test_rows_carry_label_provenance_and_suggestion(engine):
    seeded = _seed(engine)
    ids = seeded["ids"]
    with store.transaction(engine) as s:
        rows = {r["item_id"]: r for r in browse_q.rows_for_ids(s, [ids[5], ids[10], ids[11], ids[1], 999_999])}
        annotators = browse_q.project_annotators(s, seeded["pid"])
    assert set(rows) == {ids[5], ids[10], ids[11], ids[1]}
    assert rows[ids[5]]["label"] == ["b"] and rows[ids[5]]["flagged"] and rows[ids[5]]["annotator"] == "ana"
    assert rows[ids[10]]["status"] == "auto" and rows[ids[10]]["annotator"] == "zs@1"
    assert rows[ids[11]]["label"] is None and rows[ids[11]]["suggestion"] == ["b"]
    assert rows[ids[1]]["status"] == "unlabelled"  # its only answer was discarded
    assert annotators == ["ana"]


def test_pages_of_a_big_pool_are_right(tmp_path):
    """50k items on a file database: every filter returns a full, correctly filtered page (the speed
    of the same queries is measured by bench/bench_browse.py, not asserted here)."""
    engine = store.make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    store.migrate(engine)
    n = 50_000
    with store.transaction(engine) as s:
        p = project_q.create_project(s, name="big", task_type="single-label", labels=[{"name": "a"}, {"name": "b"}],
                                     guidelines="", settings={})
        ana = project_q.get_or_create_user(s, "ana")
        ids = item_q.insert_items(s, p.id, [{"text": f"item {i} {'cat' if i % 2 else 'dog'}", "text_hash": str(i),
                                             "metadata": {"channel": "chat" if i % 3 else "email"}}
                                            for i in range(n)])
        response_q.insert_responses(s, [{"item_id": iid, "user_id": ana.id, "value": ["ab"[k % 2]],
                                         "status": "submitted", "source": "human", "route": "manual"}
                                        for k, iid in enumerate(ids[::10])])
        pid = p.id
    cases = [{}, {"offset": n - 60}, {"query": "cat"}, {"query": "item 4999 "}, {"status": "unlabelled"},
             {"status": "labelled"}, {"label": "a"}, {"annotator": "ana"}, {"metadata": {"channel": "email"}},
             {"status": "flagged"}, {"order": "newest"}]
    pages = {repr(case): _page(engine, pid, **dict(case)) for case in cases}
    engine.dispose()
    first_ids, total, _ = pages[repr({})]
    assert first_ids == ids[:50] and total >= 50
    assert pages[repr({"offset": n - 60})][0] == ids[n - 60:n - 10]
    assert pages[repr({"query": "item 4999 "})][0] == [ids[4999]]
    for case in ({"status": "labelled"}, {"annotator": "ana"}):
        assert pages[repr(case)][0] == ids[::10][:50], case  # every 10th item has ana's answer
    assert pages[repr({"label": "a"})][0] == ids[::20][:50]  # labels alternate a, b over the labelled ones
    assert pages[repr({"metadata": {"channel": "email"}})][0] == ids[::3][:50]
    assert set(pages[repr({"status": "unlabelled"})][0]).isdisjoint(ids[::10])
    assert all(ids.index(i) % 2 for i in pages[repr({"query": "cat"})][0])
    assert pages[repr({"status": "flagged"})][0] == []
    assert pages[repr({"order": "newest"})][0][0] == ids[-1]


@pytest.mark.parametrize("text", ["channel=email, n=2", {"channel": "email", "n": 2}])
def test_service_parses_metadata_filters(text):
    from annotator.service.browse import BrowseService

    assert BrowseService.parse_metadata_filter(text) == {"channel": "email", "n": "2"}
