"""An annotator's view of a team project: only their own answers and their own name.

Two people answer an overlap item differently, each also answers items of their own, and an AI
label is auto-accepted elsewhere; ``own_answers_of`` views (browse, its filter choices, progress)
show each person their answers only, while the everyone view still shows the item's newest answer
(SQLite, and PostgreSQL under the postgres marker)."""

from __future__ import annotations

import pytest

from annotator import store
from annotator.service import AnnotatorService
from annotator.store import projects as project_q
from annotator.store import responses as response_q


@pytest.fixture
def team(settings, engine, fake_embedder):
    """On SQLite, and on PostgreSQL under the postgres marker."""
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    service.projects.create_project("t", ["billing", "bug", "account"])
    service.imports.import_records("t", [{"text": f"ticket {k}", "external_id": f"i{k}"} for k in range(6)])
    service.imports.import_records("t", [{"text": "ticket auto", "external_id": "auto"}])
    ids = {row["external_id"]: row["item_id"] for row in service.exports.final_labels("t")}
    with store.transaction(service.engine) as s:  # the router auto-accepted an AI label on 'auto'
        response_q.insert_suggestions(s, [{"item_id": ids["auto"], "agent": "gpt", "agent_version": "",
                                           "value": ["account"], "scores": {}, "score": 0.99, "route": "auto"}])
    service.queue.submit("t", "ana", ids["i0"], ["billing"])
    service.queue.submit("t", "ana", ids["i1"], ["billing"])
    service.queue.submit("t", "bo", ids["i0"], ["bug"])  # after ana: the item's newest answer is bo's
    service.queue.submit("t", "bo", ids["i2"], ["account"])
    yield service, ids
    service.close()


def _labels(page) -> dict[int, tuple[list[str] | None, str | None]]:
    return {r["item_id"]: (r["label"], r["annotator"]) for r in page.rows}


def test_browse_shows_a_person_only_their_own_answers(team):
    service, ids = team
    everyone = _labels(service.browse.browse("t", status="labelled"))
    assert everyone[ids["i0"]] == (["bug"], "bo")  # the item's newest answer
    ana = service.browse.browse("t", own_answers_of="ana")
    assert _labels(ana) == {ids["i0"]: (["billing"], "ana"), ids["i1"]: (["billing"], "ana")}
    assert ana.total == 2 and ana.exact
    assert all(r["source"] in ("human", None) for r in ana.rows)
    bo = _labels(service.browse.browse("t", own_answers_of="bo"))
    assert bo == {ids["i0"]: (["bug"], "bo"), ids["i2"]: (["account"], "bo")}
    # Filters apply to the person's own answers: bo's 'bug' on i0 is not ana's.
    assert _labels(service.browse.browse("t", label="bug", own_answers_of="ana")) == {}
    assert set(_labels(service.browse.browse("t", label="billing", own_answers_of="ana"))) == {ids["i0"], ids["i1"]}
    assert _labels(service.browse.browse("t", query="ticket 1", own_answers_of="ana")) == {ids["i1"]: (["billing"], "ana")}
    # Asking for someone else's answers in one's own view gets nothing of theirs.
    assert _labels(service.browse.browse("t", annotator="bo", own_answers_of="ana")) == {}
    # The auto-accepted AI label shows in the everyone view only.
    assert everyone.get(ids["auto"]) is None and _labels(service.browse.browse("t", status="auto"))[ids["auto"]][0] == [
        "account"]
    assert ids["auto"] not in _labels(service.browse.browse("t", status="auto", own_answers_of="ana"))
    # Someone who answered nothing (or does not exist) sees no rows, and nothing is created.
    assert service.browse.browse("t", own_answers_of="cy").rows == []
    with store.transaction(service.engine) as s:
        assert project_q.user_id(s, "cy") is None


def test_progress_and_filter_choices_name_only_the_person(team):
    service, _ids = team
    everyone = service.queue.progress("t")
    assert everyone.by_user == {"ana": 2, "bo": 2}
    assert everyone.by_label == {"billing": 1, "bug": 1, "account": 1}  # newest answer per item
    ana = service.queue.progress("t", own_answers_of="ana")
    assert ana.by_user == {"ana": 2} and ana.by_label == {"billing": 2, "bug": 0, "account": 0}
    assert (ana.total, ana.labelled) == (everyone.total, everyone.labelled)
    bo = service.queue.progress("t", own_answers_of="bo")
    assert bo.by_user == {"bo": 2} and bo.by_label == {"billing": 0, "bug": 1, "account": 1}
    assert service.queue.progress("t", own_answers_of="cy").by_user == {}
    assert set(service.browse.browse_options("t")["annotators"]) >= {"ana", "bo"}
    assert service.browse.browse_options("t", own_answers_of="ana")["annotators"] == ["ana"]
