"""Teams in the database: leases (who may answer which item now), admin assignments, and the
per-person figures behind ``AnnotatorService.team.person_stats``.

The in-memory pool ranks; these functions arbitrate. ``claim`` and ``consume`` run inside
``transaction(engine, serialized=True)``: on PostgreSQL they lock the item row first (``claim``
with ``FOR UPDATE SKIP LOCKED``, so a claimer never waits behind another: it takes the next item),
on SQLite the whole transaction is the only writer. Either way the counts they read (answers,
other people's live leases) cannot change before the transaction commits, so no item is ever
handed to more people than its required answers.

An item's *answerers* are the distinct users with a submitted response (the ``import`` pseudo-user
included: an imported label is one answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, null, update
from sqlmodel import Session, select

from annotator.store.tables import Assignment, Item, Lease, Response, User, utcnow

#: ``claim`` outcomes.
OK, BUSY, HELD, FULL, ANSWERED, ASSIGNED = "ok", "busy", "held", "full", "answered", "assigned"

def _as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _lock_item(session: Session, item_id: int, *, skip_locked: bool) -> bool:
    """PostgreSQL: lock the item row (False when another transaction holds it and ``skip_locked``).
    SQLite: the serialized transaction already excludes every other writer."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    stmt = select(Item.id).where(Item.id == item_id).with_for_update(skip_locked=skip_locked)
    return session.exec(stmt).first() is not None


def _item_state(session: Session, item_id: int) -> tuple[set[int], set[int], list[tuple[int, datetime]]]:
    """(assignees, people with a submitted answer, leases as (user_id, expires_at)) of one item,
    in one round trip (the claim and the answer check are the hot path)."""
    from sqlalchemy import literal, null, union_all

    query = union_all(
        select(literal("l").label("kind"), Lease.user_id, Lease.expires_at).where(Lease.item_id == item_id),
        select(literal("a"), Assignment.user_id, null()).where(Assignment.item_id == item_id),
        select(literal("r"), Response.user_id, null()).where(Response.item_id == item_id,
                                                              Response.status == "submitted"),
    )
    assignees: set[int] = set()
    answerers: set[int] = set()
    leases: list[tuple[int, datetime]] = []
    for kind, user_id, expires_at in session.execute(query).all():
        if kind == "l":
            leases.append((int(user_id), _as_utc(expires_at)))
        elif kind == "a":
            assignees.add(int(user_id))
        else:
            answerers.add(int(user_id))
    return assignees, answerers, leases


def claim(
    session: Session, *, project_id: int, item_id: int, user_id: int, required: int, lease_seconds: float,
    now: datetime | None = None,
) -> str:
    """Reserve ``item_id`` for ``user_id`` for ``lease_seconds`` if a slot is free.

    Returns ``OK`` (the lease is written or renewed), ``BUSY`` (PostgreSQL: another claim holds
    the row this instant), ``HELD`` (other people's live leases fill the free slots), ``FULL``
    (enough answers), ``ANSWERED`` (this person answered it already) or ``ASSIGNED`` (an admin
    gave it to other people).
    """
    if not _lock_item(session, item_id, skip_locked=True):
        return BUSY
    now = now or utcnow()
    assignees, answerers, leases = _item_state(session, item_id)
    if assignees and user_id not in assignees:
        return ASSIGNED
    if user_id in answerers:
        return ANSWERED
    if len(answerers) >= required:
        return FULL
    mine = any(uid == user_id for uid, _ in leases)
    others = sum(1 for uid, until in leases if uid != user_id and until > now)
    if len(answerers) + others >= required:
        return HELD
    expires = now + timedelta(seconds=lease_seconds)
    if mine:
        session.execute(update(Lease).where(Lease.item_id == item_id, Lease.user_id == user_id)
                        .values(expires_at=expires))
    else:
        session.execute(insert(Lease).values(project_id=project_id, item_id=item_id, user_id=user_id,
                                             expires_at=expires, created_at=now))
    return OK


def consume(session: Session, *, item_id: int, user_id: int, required: int, now: datetime | None = None) -> bool:
    """Before ``user_id``'s answer to ``item_id`` is written: False if it would exceed the item's
    required answers, else True, and the person's lease (if any) is used up.

    An answer is refused only when the item reached this person through the queue (a lease row,
    live or expired, exists) and, since their lease ran out, the other people's answers and live
    leases filled the item. A re-answer and an answer given directly (an item id typed on the
    command line, the browse page) are never refused.
    """
    _lock_item(session, item_id, skip_locked=False)
    now = now or utcnow()
    _, answerers, leases = _item_state(session, item_id)
    if not any(uid == user_id for uid, _ in leases):
        return True
    if user_id not in answerers:
        others = sum(1 for uid, until in leases if uid != user_id and until > now)
        if len(answerers) + others >= required:
            return False
    session.execute(delete(Lease).where(Lease.item_id == item_id, Lease.user_id == user_id))
    return True


def release(session: Session, *, project_id: int, user_id: int, item_id: int | None = None) -> int:
    """Return ``user_id``'s leases in the project (or on one item) to the queue; how many."""
    stmt = delete(Lease).where(Lease.project_id == project_id, Lease.user_id == user_id)
    if item_id is not None:
        stmt = stmt.where(Lease.item_id == item_id)
    return int(session.execute(stmt).rowcount or 0)


def active_leases(session: Session, project_id: int, now: datetime | None = None) -> list[tuple[int, str, datetime]]:
    """(item_id, person, expires_at) of every live lease in the project."""
    now = now or utcnow()
    rows = session.exec(
        select(Lease.item_id, User.name, Lease.expires_at).join(User, User.id == Lease.user_id)
        .where(Lease.project_id == project_id).order_by(Lease.item_id)
    ).all()
    return [(int(i), name, _as_utc(t)) for i, name, t in rows if _as_utc(t) > now]


# ---------------------------------------------------------------------------------- pool state
def answerers_by_item(session: Session, project_id: int) -> list[tuple[int, str]]:
    """(item_id, user name) of every submitted answer, one per user and item, by item id: what the
    pool needs to count answers and never serve an item twice to one person."""
    rows = session.exec(
        select(Response.item_id, User.name).join(User, User.id == Response.user_id)
        .join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted")
        .distinct().order_by(Response.item_id)
    ).all()
    return [(int(i), name) for i, name in rows]


# ---------------------------------------------------------------------------------- assignments
def assign(session: Session, *, project_id: int, item_ids: Sequence[int], user_ids: Sequence[int]) -> int:
    """Give ``item_ids`` to ``user_ids`` (on top of any earlier assignment); new pairs written."""
    if not item_ids or not user_ids:
        return 0
    have: set[tuple[int, int]] = set()
    for start in range(0, len(item_ids), 5000):
        chunk = list(item_ids[start:start + 5000])
        have |= set(session.exec(select(Assignment.item_id, Assignment.user_id).where(
            Assignment.item_id.in_(chunk), Assignment.user_id.in_(list(user_ids)))).all())
    now = utcnow()
    new = [Assignment(project_id=project_id, item_id=int(i), user_id=int(u), created_at=now)
           for i in item_ids for u in user_ids if (int(i), int(u)) not in have]
    session.add_all(new)
    session.flush()
    return len(new)


def unassign(session: Session, *, project_id: int, item_ids: Sequence[int] | None = None,
             user_ids: Sequence[int] | None = None) -> int:
    """Lift assignments of the project (only of ``item_ids`` / ``user_ids`` when given); how many."""
    total = 0
    chunks = [None] if item_ids is None else [list(item_ids[s:s + 5000]) for s in range(0, len(item_ids), 5000)]
    for chunk in chunks:
        stmt = delete(Assignment).where(Assignment.project_id == project_id)
        if chunk is not None:
            stmt = stmt.where(Assignment.item_id.in_(chunk))
        if user_ids is not None:
            stmt = stmt.where(Assignment.user_id.in_(list(user_ids)))
        total += int(session.execute(stmt).rowcount or 0)
    return total


def assignments(session: Session, project_id: int) -> dict[int, list[str]]:
    """item_id → names of the people it is assigned to."""
    rows = session.exec(
        select(Assignment.item_id, User.name).join(User, User.id == Assignment.user_id)
        .where(Assignment.project_id == project_id).order_by(Assignment.item_id, User.name)
    ).all()
    out: dict[int, list[str]] = {}
    for item_id, name in rows:
        out.setdefault(int(item_id), []).append(name)
    return out


# ---------------------------------------------------------------------------------- analytics
@dataclass(slots=True)
class AnswerRecord:
    """One response of a person, as the analytics read it (not its value: the per-person figures
    count and time answers, they never read what was answered)."""

    item_id: int
    person: str
    role: str
    status: str
    source: str
    submitted_at: datetime | None
    seconds_spent: float | None


def answer_records(session: Session, project_id: int, *, times: bool = True) -> list[AnswerRecord]:
    """Every response (any status) of people (not system users) in the project, oldest first.

    ``submitted_at`` is the time of the answer (its creation time where it has none), in UTC; with
    ``times=False`` it is None and no timestamp is read (the Team tab takes each person's first and
    last answer from ``answer_spans`` instead: parsing 60k timestamps was most of this read). The
    answers' JSON values are never read: the per-person figures count and time answers.
    """
    answered_at = func.coalesce(Response.submitted_at, Response.created_at) if times else null()
    rows = session.connection().execute(  # Core rows: no ORM result machinery per row
        select(Response.item_id, User.name, User.role, Response.status, Response.source, answered_at,
               Response.seconds_spent)
        .join(User, User.id == Response.user_id).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, User.is_system == False)  # noqa: E712 - SQL
        .order_by(Response.id)
    ).all()
    return [AnswerRecord(int(i), name, role, status, source, _as_utc(at) if at is not None else None, secs)
            for i, name, role, status, source, at, secs in rows]


def answer_spans(session: Session, project_id: int, skip_source: str) -> dict[str, tuple[datetime, datetime]]:
    """person → (first, last) time of the answers that count as their labels: per item their newest
    submitted response that is not a skip (source ``skip_source``), times as in ``answer_records``.
    People (not system users) with at least one such answer; two aggregates per person in SQL
    instead of a timestamp per response in Python."""
    kept = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted", Response.source != skip_source)
        .group_by(Response.item_id, Response.user_id)
    )
    answered_at = func.coalesce(Response.submitted_at, Response.created_at)
    rows = session.connection().execute(
        select(User.name, func.min(answered_at), func.max(answered_at)).join(User, User.id == Response.user_id)
        .where(Response.id.in_(kept), User.is_system == False)  # noqa: E712 - SQL
        .group_by(User.name)
    ).all()
    return {name: (_as_utc(first), _as_utc(last)) for name, first, last in rows}


def count_answers_per_item(session: Session, project_id: int) -> dict[int, int]:
    """item_id → distinct people with a submitted answer (items with at least one)."""
    rows = session.exec(
        select(Response.item_id, func.count(func.distinct(Response.user_id))).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted").group_by(Response.item_id)
    ).all()
    return {int(i): int(n) for i, n in rows}


# ---------------------------------------------------------------------------------- pool sync
def sync_state(
    session: Session, project_id: int, *, after_response_id: int, now: datetime | None = None,
) -> tuple[list[tuple[int, str, datetime]], list[tuple[int, int, str, list[str]]]]:
    """What other processes did since the last look: (live leases as (item_id, person, expires_at),
    submitted answers newer than ``after_response_id`` as (response_id, item_id, person, value))."""
    leases = active_leases(session, project_id, now)
    rows = session.exec(
        select(Response.id, Response.item_id, User.name, Response.value).join(User, User.id == Response.user_id)
        .join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted", Response.id > after_response_id)
        .order_by(Response.id)
    ).all()
    return leases, [(int(rid), int(i), name, list(v or [])) for rid, i, name, v in rows]


def newest_response_id(session: Session) -> int:
    """The highest response id so far (0 when none): where a fresh pool's sync starts."""
    return int(session.exec(select(func.max(Response.id))).one() or 0)
