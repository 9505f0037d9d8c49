"""Read-only queries behind the dashboard and the report, and the finished-run records
(``Job`` rows of kind ``suspects`` / ``run_ai``) that the dashboard reads back.

Times come back as timezone-aware UTC datetimes (SQLite drops the zone; it was UTC when written).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from annotator.core.schema import JobStatus
from annotator.store.tables import Item, Job, ModelVersion, Response, Suggestion, utcnow

#: Status of a run recorded after it finished (the same word the job list uses for success).
DONE = JobStatus.done.value


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_finished_run(
    session: Session, project_id: int, kind: str, result: dict[str, Any], message: str = "",
) -> Job:
    """Store the outcome of a run that already finished in the caller (no worker involved)."""
    now = utcnow()
    job = Job(project_id=project_id, kind=kind, status=DONE, progress=1.0, message=message, result=result,
              created_at=now, started_at=now, finished_at=now)
    session.add(job)
    session.flush()
    return job


def latest_run(session: Session, project_id: int, kind: str, *, with_key: str | None = None) -> Job | None:
    """The newest finished run of ``kind`` (whose result holds ``with_key``, when given)."""
    rows = session.exec(
        select(Job).where(Job.project_id == project_id, Job.kind == kind, Job.status == DONE)
        .order_by(Job.id.desc()).limit(20)
    ).all()
    for job in rows:
        if with_key is None or with_key in (job.result or {}):
            return job
    return None


def jobs(session: Session, project_id: int, limit: int = 200) -> list[Job]:
    """The project's jobs, newest first."""
    return list(session.exec(
        select(Job).where(Job.project_id == project_id).order_by(Job.id.desc()).limit(limit)
    ).all())


def model_versions(session: Session, project_id: int) -> list[ModelVersion]:
    """Every model version of the project, oldest first."""
    return list(session.exec(
        select(ModelVersion).where(ModelVersion.project_id == project_id)
        .order_by(ModelVersion.created_at, ModelVersion.id)
    ).all())


def answer_times(session: Session, project_id: int) -> list[tuple[int, str, datetime]]:
    """(item_id, source, submitted_at) of every answer a person gave in the project, imports
    excluded, including answers later replaced (they were work done at that time)."""
    rows = session.exec(
        select(Response.item_id, Response.source, Response.submitted_at).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.source != "import", Response.submitted_at.is_not(None))
    ).all()
    return [(int(i), str(src), as_utc(at)) for i, src, at in rows]


def first_label_times(session: Session, project_id: int) -> dict[int, datetime]:
    """item_id → when it first got a submitted (still live) answer, imports included."""
    rows = session.exec(
        select(Response.item_id, func.min(Response.submitted_at)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted").group_by(Response.item_id)
    ).all()
    return {int(i): as_utc(at) for i, at in rows if at is not None}


def routed_suggestions(session: Session, project_id: int) -> list[tuple[int, str, datetime]]:
    """(item_id, route, created_at) of every suggestion the router decided on, oldest first."""
    rows = session.exec(
        select(Suggestion.item_id, Suggestion.route, Suggestion.created_at).join(Item, Item.id == Suggestion.item_id)
        .where(Item.project_id == project_id, Suggestion.route.is_not(None)).order_by(Suggestion.id)
    ).all()
    return [(int(i), str(r), as_utc(at)) for i, r, at in rows]


def timed_audit_outcomes(session: Session, project_id: int) -> list[tuple[datetime, list[str], list[str]]]:
    """(submitted_at, person's blind answer, audited AI label) of every submitted audit answer,
    oldest first: the same rows as ``responses.audit_outcomes``, with their time."""
    rows = session.exec(
        select(Response.submitted_at, Response.value, Suggestion.value)
        .join(Suggestion, Suggestion.id == Response.shown_suggestion_id)
        .join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.route == "audit", Response.status == "submitted")
        .order_by(Response.submitted_at, Response.id)
    ).all()
    return [(as_utc(at), list(a), list(b)) for at, a, b in rows]


def labelled_in_order(session: Session, project_id: int) -> list[tuple[int, int, list[str], datetime | None]]:
    """(item_id, response id, value, submitted_at) of each item's newest submitted answer, in the
    order the items were first labelled (first answer's time, then id): label-count snapshots."""
    newest = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted").group_by(Response.item_id)
    )
    rows = session.exec(
        select(Response.item_id, Response.id, Response.value, Response.submitted_at).where(Response.id.in_(newest))
    ).all()
    first = first_label_times(session, project_id)
    far = datetime.max.replace(tzinfo=UTC)
    out = [(int(i), int(rid), list(v), as_utc(at)) for i, rid, v, at in rows]
    out.sort(key=lambda r: (first.get(r[0]) or far, r[0]))
    return out


def newest_answers(session: Session, item_ids: list[int]) -> dict[int, tuple[int, list[str]]]:
    """item_id → (response id, value) of its newest submitted answer."""
    out: dict[int, tuple[int, list[str]]] = {}
    for start in range(0, len(item_ids), 5000):
        chunk = list(item_ids[start:start + 5000])
        newest = (select(func.max(Response.id)).where(Response.item_id.in_(chunk), Response.status == "submitted")
                  .group_by(Response.item_id))
        for i, rid, v in session.exec(select(Response.item_id, Response.id, Response.value)
                                      .where(Response.id.in_(newest))).all():
            out[int(i)] = (int(rid), list(v))
    return out
