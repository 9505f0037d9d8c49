"""Load: many annotators at once, each through its own service instance (a separate app process)
on one database: 32 on the real PostgreSQL server, 8 on a SQLite file. Some skip, some abandon
items (their leases run out), some reload (release). Afterwards:

- no item has more people's answers than it needs (1, or k for the overlap share), and every item
  has exactly what it needs once the run finishes;
- no answer is lost: every answer a submit accepted is in the database;
- every lease was either used by its answer or returned: none is left once everyone released.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import text
from sqlmodel import select

from annotator.core.config import Settings
from annotator.service import AnnotatorService
from annotator.simulate.team_load import run_team
from annotator.store import transaction
from annotator.store.tables import Item, Lease, Response, User

LABELS = ["pos", "neg", "mixed"]


def _team(settings: Settings, embedder, n_people: int, n_items: int, *, lease_minutes: float):
    first = AnnotatorService.from_settings(settings, embedder=embedder)
    first.projects.create_project("load", LABELS, settings={
        "overlap_fraction": 0.2, "overlap_k": 3, "lease_minutes": lease_minutes, "refit_every": 100_000,
        "explore_fraction": 0.0,
    })
    first.imports.import_records("load", [{"text": f"ticket {i}: " + " ".join(["slow", "late", "great", "broken"][j % 4]
                                                                        for j in range(i % 7 + 1))}
                                  for i in range(n_items)])
    services = [first] + [AnnotatorService.from_settings(settings, embedder=embedder) for _ in range(n_people - 1)]
    for svc in services:
        svc.queue.pool("load")  # built before the clock starts, one after the other (shared embedding cache)
    return services


def _check(services, run, names):
    assert run.errors == [], run.errors[:5]
    assert run.finished, f"{len(run.accepted)} answers in {run.seconds:.0f} s; the run did not finish"
    svc = services[0]
    required = svc.team.required_answers("load")
    with transaction(svc.engine) as s:
        leases_now = s.exec(select(Lease.item_id, User.name).join(User, User.id == Lease.user_id)).all()
        rows = s.exec(
            select(Response.item_id, User.name, Response.value).join(User, User.id == Response.user_id)
            .join(Item, Item.id == Response.item_id).where(Response.status == "submitted", User.is_system == False)  # noqa: E712
        ).all()
        n_items = len(s.exec(select(Item.id)).all())
    people = defaultdict(list)
    for item_id, name, _ in rows:
        people[item_id].append(name)
    # never more people than the item needs, never one person twice, and every item complete
    assert all(len(names_) == len(set(names_)) for names_ in people.values())
    over = {i: len(p) for i, p in people.items() if len(p) > required.get(i, 1)}
    assert over == {}
    assert len(people) == n_items and all(len(p) == required.get(i, 1) for i, p in people.items())
    # zero lost answers: every accepted submit is stored, with its value
    stored = {(i, name): list(v) for i, name, v in rows}
    assert all(stored.get((i, name)) == v for i, name, v in run.accepted)
    assert len(stored) == len(run.accepted)
    # an answer used its lease up: no lease is left on an answered (item, person)
    assert not {(i, n) for i, n in leases_now} & set(stored)
    for svc_, name in zip(services, names, strict=True):
        svc_.queue.release("load", name)
    with transaction(svc.engine) as s:
        assert s.exec(select(Lease)).all() == []  # every lease answered or returned
    assert run.skipped + run.abandoned > 0  # the run exercised returns


@pytest.mark.postgres
def test_32_annotators_on_postgres(pg_database_url, tmp_path, fake_embedder):
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_database_url, demo=False)
    names = [f"p{k:02d}" for k in range(32)]
    services = _team(settings, fake_embedder, 32, 240, lease_minutes=2.0 / 60)
    try:
        target = 240 + 2 * len(services[0].team.required_answers("load"))
        run = run_team(services, "load", names, labels=LABELS, target_answers=target, deadline_s=240, seed=1)
        _check(services, run, names)
    finally:
        for svc in services:
            svc.close()


def test_8_annotators_on_sqlite(tmp_path, fake_embedder):
    settings = Settings(data_dir=tmp_path / "data", demo=False)
    names = [f"p{k}" for k in range(8)]
    services = _team(settings, fake_embedder, 8, 120, lease_minutes=1.0 / 60)
    try:
        target = 120 + 2 * len(services[0].team.required_answers("load"))
        run = run_team(services, "load", names, labels=LABELS, target_answers=target, deadline_s=180, seed=2)
        _check(services, run, names)
    finally:
        for svc in services:
            svc.close()
