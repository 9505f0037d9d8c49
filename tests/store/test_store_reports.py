"""store.reports on SQLite and PostgreSQL: times come back aware UTC, newest answers and runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from annotator.store import reports as report_q
from annotator.store import transaction
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q

LABELS = [{"name": "pos", "description": "", "hotkey": "1"}, {"name": "neg", "description": "", "hotkey": "2"}]


def test_report_queries(engine):
    with transaction(engine) as s:
        p = project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="", settings={})
        ids = item_q.insert_items(s, p.id, [{"text": t, "text_hash": f"h{t}", "external_id": None, "metadata": {}}
                                            for t in "abc"])
        ana = project_q.get_or_create_user(s, "ana")
        imp = project_q.get_or_create_user(s, "import", is_system=True)
        response_q.insert_responses(s, [{"item_id": ids[2], "user_id": imp.id, "value": ["neg"],
                                         "status": "submitted", "source": "import", "route": "imported"}])
        first = response_q.add_response(s, item_id=ids[1], user_id=ana.id, value=["pos"])
        response_q.discard_responses(s, ids[1], ana.id)
        second = response_q.add_response(s, item_id=ids[1], user_id=ana.id, value=["neg"])
        response_q.insert_suggestions(s, [{"item_id": ids[0], "agent": "x", "agent_version": "", "value": ["pos"],
                                           "scores": {}, "score": 0.99, "route": "auto"}])
        report_q.record_finished_run(s, p.id, "suspects", {"suspects": [], "found": 0})
        report_q.record_finished_run(s, p.id, "suspects", {"other": 1})
        pid = p.id
    with transaction(engine) as s:
        answers = report_q.answer_times(s, pid)
        assert sorted(i for i, _, _ in answers) == [ids[1], ids[1]]  # imports left out, replaced answers kept
        assert all(at.tzinfo is not None and abs(at - datetime.now(UTC)) < timedelta(minutes=5) for _, _, at in answers)
        assert set(report_q.first_label_times(s, pid)) == {ids[1], ids[2]}
        assert [(i, r) for i, r, _ in report_q.routed_suggestions(s, pid)] == [(ids[0], "auto")]
        assert report_q.newest_answers(s, [ids[1], ids[0]]) == {ids[1]: (second.id, ["neg"])}
        assert second.id != first.id
        ordered = report_q.labelled_in_order(s, pid)
        assert {i for i, *_ in ordered} == {ids[1], ids[2]}
        run = report_q.latest_run(s, pid, "suspects", with_key="suspects")
        assert run is not None and run.result == {"suspects": [], "found": 0} and run.status == "done"
        assert report_q.latest_run(s, pid, "suspects").result == {"other": 1}
        assert [j.kind for j in report_q.jobs(s, pid)] == ["suspects", "suspects"]
