"""Teams through the service: overlap, leases in the database (two service instances on one
database stand for two app processes), admin assignments, per-person figures."""

from __future__ import annotations

import pytest

from annotator.core.errors import ConflictError, NotFoundError, ValidationError
from annotator.service import AnnotatorService

LABELS = ["pos", "neg"]


def _records(n: int = 30):
    return [{"text": f"review number {i} " + ("great fun" if i % 2 else "dull mess"), "external_id": f"r{i}",
             "metadata": {"channel": "email" if i % 3 == 0 else "chat"}} for i in range(n)]


def _gold(item):
    return ["pos"] if int(item.external_id[1:]) % 2 else ["neg"]


@pytest.fixture
def project(service):
    service.projects.create_project("t", LABELS, settings={"refit_every": 1000})
    service.imports.import_records("t", _records())
    return "t"


def _second(service, fake_embedder) -> AnnotatorService:
    """Another service on the same database: what a second app process is."""
    return AnnotatorService.from_settings(service.settings, embedder=fake_embedder)


def test_overlap_items_get_k_answers_from_different_people(service, project):
    service.projects.update_project_settings(project, overlap_fraction=0.3, overlap_k=3)
    need = service.team.required_answers(project)
    assert need and set(need.values()) == {3}
    answers: dict[int, list[str]] = {}
    people = ["ana", "ben", "cara", "dan"]
    while True:
        progressed = False
        for person in people:
            item = service.queue.next_item(project, person)
            if item is None:
                continue
            progressed = True
            assert person not in answers.get(item.item_id, [])
            answers.setdefault(item.item_id, []).append(person)
            service.queue.submit(project, person, item.item_id, _gold(item))
        if not progressed:
            break
    assert len(answers) == 30
    assert {i: len(p) for i, p in answers.items()} == {i: need.get(i, 1) for i in answers}
    assert service.team.active_leases(project) == []  # every answer used its lease up


def test_two_processes_never_hand_one_item_to_two_people(service, project, fake_embedder):
    other = _second(service, fake_embedder)
    try:
        mine = [service.queue.next_item(project, "ana").item_id for _ in range(15)]
        theirs = [other.queue.next_item(project, "ben").item_id for _ in range(15)]
        assert len(set(mine) | set(theirs)) == 30  # the second pool proposed ana's items; the store refused
        assert other.queue.next_item(project, "cara") is None and service.queue.next_item(project, "dan") is None
        leases = service.team.active_leases(project)
        assert len(leases) == 30 and {lease["user"] for lease in leases} == {"ana", "ben"}
        service.queue.release(project, "ana")  # ana reloads the page: her items return
        back = other.queue.next_item(project, "cara")
        assert back is not None and back.item_id in mine
    finally:
        other.close()


def _expire_leases(service) -> None:
    """Every lease in the store runs out now (what the clock does after lease_minutes)."""
    from datetime import timedelta

    from sqlalchemy import update

    from annotator.store import transaction
    from annotator.store.tables import Lease, utcnow

    with transaction(service.engine) as s:
        s.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))


def test_an_expired_lease_returns_the_item_and_a_late_answer_is_refused(service, project, fake_embedder):
    other = _second(service, fake_embedder)
    try:
        for _ in range(30):
            service.queue.next_item(project, "ana")  # ana holds every item, then leaves them
        assert other.queue.next_item(project, "ben") is None
        _expire_leases(service)
        item = other.queue.next_item(project, "ben")
        assert item is not None
        other.queue.submit(project, "ben", item.item_id, _gold(item))
        with pytest.raises(ConflictError, match="already has the 1 answer"):
            service.queue.submit(project, "ana", item.item_id, _gold(item))  # her lease ran out, ben answered
        rows = [r for r in service.exports.final_labels(project) if r["item_id"] == item.item_id]
        assert rows[0]["annotator"] == "ben"
    finally:
        other.close()


def test_a_direct_answer_without_a_lease_is_never_refused(service, project):
    ids = [r["item_id"] for r in service.exports.final_labels(project)]
    service.queue.submit(project, "ana", ids[0], ["pos"])
    service.queue.submit(project, "ben", ids[0], ["neg"])  # agreement data entered by hand: both kept
    assert service.queue.progress(project).by_user == {"ana": 1, "ben": 1}


def test_skip_is_recorded_and_returns_the_lease(service, project):
    item = service.queue.next_item(project, "ana")
    service.queue.skip(project, "ana", item.item_id)
    assert service.team.active_leases(project) == []
    stats = {row["person"]: row for row in service.team.person_stats(project)}
    assert stats["ana"]["skips"] == 1 and stats["ana"]["labels"] == 0


def test_assigned_slice_goes_only_to_its_assignee(service, project):
    service.accounts.add_user("ana")
    service.accounts.add_user("ben")
    result = service.team.assign(project, "ana", metadata="channel=email")
    assert result["items"] == 10 and result["changed"] == 10
    emails = set(service.team.assignments(project))
    first = [service.queue.next_item(project, "ana").item_id for _ in range(10)]
    assert set(first) == emails  # ana's slice comes first
    got_ben = []
    while (item := service.queue.next_item(project, "ben")) is not None:
        got_ben.append(item.item_id)
    assert not emails & set(got_ben) and len(got_ben) == 20
    service.queue.release(project, "ana")
    undone = service.team.assign(project, "ana", metadata="channel=email", unassign=True)
    assert undone["changed"] == 10 and service.team.assignments(project) == {}
    assert service.queue.next_item(project, "ben").item_id in emails


def test_assignment_is_enforced_across_processes(service, project, fake_embedder):
    service.accounts.add_user("ana")
    other = _second(service, fake_embedder)
    try:
        other.queue.pool(project)  # built before the assignment: it does not know
        service.team.assign(project, ["ana"], item_ids=[r["item_id"] for r in service.exports.final_labels(project)][:5])
        got = []
        while (item := other.queue.next_item(project, "ben")) is not None:
            got.append(item.item_id)
        assert len(got) == 25 and not set(got) & set(service.team.assignments(project))
    finally:
        other.close()


def test_assign_errors_say_what_to_fix(service, project):
    with pytest.raises(NotFoundError, match="user add zed"):
        service.team.assign(project, "zed", metadata="channel=email")
    service.accounts.add_user("ana")
    with pytest.raises(ValidationError, match="No item matches"):
        service.team.assign(project, "ana", metadata="channel=fax")


def test_person_stats_counts_labels_speed_skips_and_agreement(service, project):
    service.projects.update_project_settings(project, overlap_fraction=1.0, overlap_k=2)
    for _ in range(4):
        for person, flip in (("ana", False), ("ben", True)):
            item = service.queue.next_item(project, person)
            value = _gold(item)
            if flip and int(item.external_id[1:]) % 4 == 0:
                value = ["pos"] if value == ["neg"] else ["neg"]
            service.queue.submit(project, person, item.item_id, value)
    stats = {row["person"]: row for row in service.team.person_stats(project)}
    assert set(stats) == {"ana", "ben"}
    for row in stats.values():
        assert row["labels"] == 4 and row["skips"] == 0
        assert row["median_seconds"] is not None and row["labels_per_hour"] > 0
        assert row["overlap_items"] == 4 and 0.0 <= row["agreement"] <= 1.0


def test_export_says_how_each_label_was_settled(service, project, tmp_path):
    import pandas as pd

    ids = [r["item_id"] for r in service.exports.final_labels(project)]
    service.queue.submit(project, "ana", ids[0], ["pos"])
    for person, value in (("ana", "pos"), ("ben", "pos"), ("cara", "neg")):
        service.queue.submit(project, person, ids[1], [value])
    result = service.exports.export(project, fmt="csv", out=tmp_path / "out")
    frame = pd.read_csv(tmp_path / "out" / "data.csv")
    by_id = frame.set_index("item_id")
    assert by_id.loc[ids[0], "settled_by"] == "single" and by_id.loc[ids[1], "settled_by"] == "majority"
    assert by_id.loc[ids[1], "answers"] == 3 and by_id.loc[ids[1], "label"] == "pos"
    card = (tmp_path / "out" / "README.md").read_text()
    assert "## How each label was settled" in card and "| majority | 1 |" in card
    assert result is not None


@pytest.fixture
def on_engine(settings, engine, fake_embedder):
    """A service on in-memory SQLite and (marker postgres) on PostgreSQL, with project "t"."""
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    service.projects.create_project("t", LABELS, settings={"refit_every": 1000})
    service.imports.import_records("t", _records())
    yield service
    service.close()


def test_person_stats_from_spans_equal_the_ones_from_every_answers_time(on_engine):
    """The Team tab reads each person's first and last answer as two SQL aggregates
    (``answer_spans``) instead of every response's time: the figures are the same, with re-answers,
    undos, skips, a reviewer's decision, imported labels and untimed answers in the mix."""
    from annotator import store
    from annotator.team import stats as teams_stats
    from annotator.store import projects as project_q
    from annotator.store import teams as team_q

    service, project = on_engine, "t"
    service.imports.import_records(project, [{"text": "imported with a label", "external_id": "imp", "labels": ["pos"]}])
    service.accounts.add_user("rita", role="reviewer")
    ids = [r["item_id"] for r in service.exports.final_labels(project)]
    for person in ("ana", "ben", "cy"):
        for _ in range(3):  # served through the queue: timed
            item = service.queue.next_item(project, person)
            service.queue.submit(project, person, item.item_id, _gold(item))
    service.queue.submit(project, "ana", ids[0], ["neg"])  # direct: untimed
    service.queue.submit(project, "ana", ids[0], ["pos"])  # a re-answer replaces it
    service.queue.submit(project, "ben", ids[1], ["neg"])
    service.queue.undo(project, "ben")  # undone, not answered again
    service.queue.skip(project, "cy", ids[2])
    service.queue.submit(project, "dan", ids[3], ["pos"])
    service.review.correct(project, "rita", ids[3], ["neg"])
    service.queue.skip(project, "eve", ids[4])  # a person with only a skip: no span
    with store.transaction(service.engine) as s:
        pid = project_q.get_project(s, project).id
        reference = teams_stats.person_stats(team_q.answer_records(s, pid))
        spans = team_q.answer_spans(s, pid, teams_stats.SKIP_SOURCE)
        fast = teams_stats.person_stats(team_q.answer_records(s, pid, times=False), spans=spans)
    assert fast == reference
    by_name = {row["person"]: row for row in reference}
    assert set(by_name) == {"ana", "ben", "cy", "dan", "eve", "rita"} and "eve" not in spans
    assert by_name["ana"]["first_at"] < by_name["ana"]["last_at"] and by_name["ben"]["undone"] == 1
    assert by_name["eve"]["first_at"] is None and by_name["cy"]["skips"] == 1
