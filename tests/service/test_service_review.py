"""The review queue and the reviewer's actions through the service, on in-memory SQLite
and on PostgreSQL (the ``engine`` fixture): which items are queued and why, their order, accept,
correct, send back (the item is served again, also after a restart), settled items leave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from annotator import store
from annotator.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from annotator.service import AnnotatorService
from annotator.store import responses as response_q

SUSPECT = "suspect label: model says 'b' with p=0.97"


@pytest.fixture
def svc(settings, engine, fake_embedder):
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    yield service
    service.close()


def _ids(service: AnnotatorService, project: str = "r") -> dict[str, int]:
    return {row["external_id"]: row["item_id"] for row in service.exports.final_labels(project)}


@pytest.fixture
def team(svc):
    """Items i0..i9 with an AI suggestion 'a' each; people's answers make i0, i1, i2 disputed, i3
    agreed, i4 flagged; i5 is a suspect label registered by other code."""
    svc.projects.create_project("r", ["a", "b", "c"])
    svc.imports.import_records("r", [{"text": f"review item number {k}", "external_id": f"i{k}", "labels": ["a"]}
                             for k in range(10)], labels_as="suggestion", agent="gpt")
    ids = _ids(svc)
    answers = {"i0": {"ana": "a", "ben": "b"}, "i1": {"ana": "a", "ben": "a", "cy": "b"},
               "i2": {"ana": "a", "ben": "b", "cy": "c"}, "i3": {"ana": "a", "ben": "a"}, "i5": {"ana": "a"}}
    for ext, given in answers.items():
        for person, value in given.items():
            svc.queue.submit("r", person, ids[ext], [value], comment="hm" if (ext, person) == ("i0", "ben") else None)
    svc.queue.submit("r", "ben", ids["i4"], ["c"], flagged=True, comment="unsure: could be b")
    svc.accounts.add_user("rita", role="reviewer")
    svc.accounts.add_user("boss", role="admin")
    assert svc.review.flag("r", [ids["i5"]], SUSPECT, score=0.97, requested_by="suspects") == 1
    return svc


def _queue_ids(service, ids):
    names = {v: k for k, v in ids.items()}
    return [names[e.item_id] for e in service.review.queue("r")]


def test_queue_holds_disputed_flagged_and_requested_items_in_priority_order(team):
    ids = _ids(team)
    # p(label wrong): suspect 0.97; 1:1:1 → 2/3; 1:1 → 1/2 and the flag 1/2 (tie: by item id); 2:1 → 1/3
    assert _queue_ids(team, ids) == ["i5", "i2", "i0", "i4", "i1"]
    entries = {e.item_id: e for e in team.review.queue("r")}
    assert entries[ids["i5"]].reasons == [SUSPECT] and entries[ids["i5"]].priority == pytest.approx(0.97)
    assert entries[ids["i2"]].priority == pytest.approx(2 / 3)
    assert entries[ids["i1"]].priority == pytest.approx(1 / 3)
    assert entries[ids["i1"]].reasons == ["disagreement: a × 2, b × 1"]
    assert entries[ids["i4"]].reasons == ["flagged by ben: unsure: could be b"]
    i0 = entries[ids["i0"]]
    assert [(a.user, a.value, a.comment) for a in i0.answers] == [("ana", ["a"], None), ("ben", ["b"], "hm")]
    assert [(g.agent, g.value) for g in i0.suggestions] == [("gpt", ["a"])]
    assert i0.final_label == ["b"] and i0.settled_by == "newest"  # a 1:1 tie: the newest answer stands
    assert entries[ids["i1"]].final_label == ["a"] and entries[ids["i1"]].settled_by == "majority"
    assert i0.text == "review item number 0" and i0.external_id == "i0"
    # one key per distinct value: people's answers (most common first), then the AI's
    assert entries[ids["i1"]].choices() == [("ana, ben, AI gpt", ["a"]), ("cy", ["b"])]


def test_summary_counts_items_by_kind_of_reason(team):
    summary = team.review.summary("r", top=2)
    assert summary["items"] == 5
    assert summary["by_reason"] == {"disagreement": 3, "flagged": 1, "suspect label": 1}
    assert [row["external_id"] for row in summary["top"]] == ["i5", "i2"]


def test_accept_settles_the_item_and_the_export_shows_the_reviewer(team, tmp_path):
    ids = _ids(team)
    team.review.accept("r", "rita", ids["i0"], ["a"], comment="ana is right")
    assert "i0" not in _queue_ids(team, ids)
    row = next(r for r in team.exports.final_labels("r") if r["item_id"] == ids["i0"])
    assert (row["label"], row["annotator"], row["route"], row["settled_by"]) == (["a"], "rita", "review", "reviewer")
    frame = pd.read_json(team.exports.export("r", fmt="jsonl", out=tmp_path / "o").data_path, lines=True)
    exported = frame.set_index("external_id").loc["i0"]
    assert exported["annotator"] == "rita" and exported["route"] == "review"
    # the answers stay for the record
    with store.transaction(team.engine) as s:
        kept = response_q.answers_by_person(s, team.projects.project("r").id)
    assert sorted((name, v) for i, name, _, v in kept if i == ids["i0"]) == [
        ("ana", ["a"]), ("ben", ["b"]), ("rita", ["a"])]


def test_accept_only_takes_a_value_someone_gave(team):
    ids = _ids(team)
    with pytest.raises(ValidationError, match="Nobody answered") as err:
        team.review.accept("r", "rita", ids["i0"], ["c"])
    assert "correct" in err.value.message
    team.review.accept("r", "rita", ids["i0"], ["b"])  # ben's answer
    team.review.accept("r", "rita", ids["i3"], ["a"])  # the AI's (and everyone's) value


def test_correct_settles_with_a_new_value_and_closes_requests(team):
    ids = _ids(team)
    team.review.correct("r", "boss", ids["i5"], ["c"])  # an admin may review too
    assert "i5" not in _queue_ids(team, ids)
    entry_after = [e for e in team.review.queue("r") if e.item_id == ids["i5"]]
    assert entry_after == []
    row = next(r for r in team.exports.final_labels("r") if r["item_id"] == ids["i5"])
    assert row["label"] == ["c"] and row["annotator"] == "boss"
    with pytest.raises(ValidationError, match="Unknown label"):
        team.review.correct("r", "rita", ids["i2"], ["z"])


def test_flag_is_settled_by_the_decision_and_a_later_disagreeing_answer_reopens(team):
    ids = _ids(team)
    team.review.accept("r", "rita", ids["i4"], ["c"])
    assert "i4" not in _queue_ids(team, ids)
    team.queue.submit("r", "ana", ids["i4"], ["c"])  # agrees with the decision: stays settled
    assert "i4" not in _queue_ids(team, ids)
    team.queue.submit("r", "cy", ids["i4"], ["a"])  # disagrees with it: back to the reviewer
    entry = next(e for e in team.review.queue("r") if e.item_id == ids["i4"])
    # the later answers against the decision (which counts once): c (ana, rita) × 2, a (cy) × 1
    assert entry.reasons == ["disagreement: c × 2, a × 1"] and entry.settled_by == "reviewer"
    assert entry.priority == pytest.approx(1 / 3)


def test_send_back_serves_the_item_again_and_it_returns_once_answered(team):
    ids = _ids(team)
    team.review.send_back("r", "rita", ids["i2"], comment="three different answers")
    assert "i2" not in _queue_ids(team, ids)
    served = team.queue.next_item("r", "dan")
    assert served is not None and served.item_id == ids["i2"]  # ahead of the ranking
    team.queue.submit("r", "dan", served.item_id, ["c"])
    entry = next(e for e in team.review.queue("r") if e.item_id == ids["i2"])
    assert "sent back, answered again" in entry.reasons
    assert any(r.startswith("disagreement: c × 2") for r in entry.reasons)
    assert [a.user for a in entry.answers] == ["ana", "ben", "cy", "dan"]  # nothing discarded
    team.review.accept("r", "rita", ids["i2"], ["c"])
    assert "i2" not in _queue_ids(team, ids)


def test_a_sent_back_item_is_served_again_after_a_restart(team, settings, engine, fake_embedder):
    ids = _ids(team)
    team.review.send_back("r", "rita", ids["i0"])
    fresh = AnnotatorService(settings, engine, embedder=fake_embedder)  # another process: pool from the DB
    try:
        served = fresh.queue.next_item("r", "eve")
        assert served is not None and served.item_id == ids["i0"]
        fresh.queue.submit("r", "eve", served.item_id, ["a"])
        assert "i0" in _queue_ids(fresh, ids)  # answered again: the reviewer sees it with the new answer
        again = fresh.queue.next_item("r", "eve")
        assert again is None or again.item_id != ids["i0"]
    finally:
        fresh.close()


def test_only_reviewers_and_admins_review(team):
    ids = _ids(team)
    with pytest.raises(PermissionDeniedError, match="may not review") as err:
        team.review.accept("r", "ana", ids["i0"], ["a"])
    assert "set-role ana reviewer" in err.value.message
    with pytest.raises(PermissionDeniedError):
        team.review.send_back("r", "ben", ids["i0"])
    with pytest.raises(NotFoundError):
        team.review.correct("r", "nobody", ids["i0"], ["a"])
    assert "i0" in _queue_ids(team, ids)  # nothing changed


def test_flag_for_review_validates_and_does_not_repeat(team):
    ids = _ids(team)
    assert team.review.flag("r", [ids["i5"], ids["i6"]], SUSPECT, score=0.97) == 1  # i5 already asked
    assert "i6" in _queue_ids(team, ids)
    assert team.review.flag("r", np.array([ids["i7"]]), "numpy ids too") == 1  # e.g. pool.item_ids rows
    assert "i7" in _queue_ids(team, ids)
    with pytest.raises(ValidationError, match="not an item of project"):
        team.review.flag("r", [ids["i6"], 10_000], "why")
    with pytest.raises(ValidationError, match="needs a reason"):
        team.review.flag("r", [ids["i6"]], "  ")
    with pytest.raises(ValidationError, match="probability"):
        team.review.flag("r", [ids["i6"]], "why", score=3)
    team.projects.create_project("other", ["a", "b"])
    with pytest.raises(ValidationError, match="'other'"):
        team.review.flag("other", [ids["i6"]], "why")


def test_low_judge_scores_of_auto_labels_are_reviewed(team):
    ids = _ids(team)
    with store.transaction(team.engine) as s:
        response_q.insert_suggestions(s, [
            {"item_id": ids[ext], "agent": "ensemble(knn)", "agent_version": "1", "value": ["b"],
             "scores": {"a": 0.1, "b": 0.9, "c": 0.0}, "score": 0.9, "route": route, "judge_score": judge}
            for ext, route, judge in [("i7", "auto", 0.6), ("i8", "auto", 0.99), ("i9", "auto", None),
                                      ("i6", "verify", 0.1)]
        ])
    entry = next(e for e in team.review.queue("r") if e.item_id == ids["i7"])
    assert entry.reasons == ["low judge score: P(AI label correct) = 0.60"]
    assert entry.priority == pytest.approx(0.4) and entry.final_label == ["b"] and entry.settled_by == "auto"
    assert {"ensemble(knn)@1": 0.6}.items() <= {g.agent: g.judge_score for g in entry.suggestions}.items()
    queued = _queue_ids(team, ids)
    assert "i8" not in queued and "i9" not in queued and "i6" not in queued  # high, no judge, not auto
    team.review.correct("r", "rita", ids["i7"], ["a"])
    assert "i7" not in _queue_ids(team, ids)


def test_the_queue_shows_the_label_the_export_derives(team):
    """annotator.team.review.current_label and store.labels (the export) follow the same rules."""
    ids = _ids(team)
    team.queue.submit("r", "cy", ids["i0"], ["b"])  # i0 now b by 2:1 majority
    team.review.correct("r", "rita", ids["i1"], ["c"])
    team.queue.submit("r", "dan", ids["i1"], ["a"])  # disagrees with the decision: back in the queue, settled by rita
    rows = {r["item_id"]: r for r in team.exports.final_labels("r")}
    entries = team.review.queue("r")
    assert {e.settled_by for e in entries} >= {"majority", "newest", "reviewer", "single"}
    for e in entries:
        assert (e.final_label, e.settled_by) == (rows[e.item_id]["label"], rows[e.item_id]["settled_by"]), e.item_id



def test_an_admins_decision_settles_for_agreement_and_is_not_a_rating(team):
    ids = _ids(team)
    team.review.accept("r", "boss", ids["i0"], ["a"])  # boss is an admin, not a reviewer
    report = team.quality.agreement("r")
    assert "boss" not in report["raters"] and report["settled_by"]["reviewer"] == 1
    ana = next(row for row in report["accuracy"] if row["rater"] == "ana")
    ben = next(row for row in report["accuracy"] if row["rater"] == "ben")
    # settled: i0 by boss (a), i1 by its 2:1 majority of three (a): ana 2 of 2, ben 1 of 2
    assert (ana["accuracy"], ben["accuracy"]) == (1.0, 0.5)
