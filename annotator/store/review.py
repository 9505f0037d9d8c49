"""Query functions for the review queue: which items need a reviewer, and what they show.

The queue itself is ranked in ``annotator.team.review``; here are only the reads and writes:
candidate items (two or more people answered, someone flagged an answer, an open review request,
an auto-accepted AI label with a judge score), the answers and suggestions of those items, and the
``review_request`` rows (flags from code such as suspect-label finding, and send-backs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from annotator.store.tables import Item, Response, ReviewRequest, Suggestion, User, utcnow

FLAG = "flag"
SEND_BACK = "send_back"


@dataclass(frozen=True)
class AnswerRow:
    """One submitted response of an item with its author (people, reviewers and imports)."""

    response_id: int
    item_id: int
    user: str
    role: str
    is_system: bool
    value: list[str]
    route: str
    seconds: float | None
    comment: str | None
    flagged: bool
    submitted_at: datetime | None


@dataclass(frozen=True)
class RequestRow:
    id: int
    item_id: int
    kind: str
    reason: str
    score: float | None
    requested_by: str
    after_response_id: int | None
    created_at: datetime


def _chunks(ids: Sequence[int], size: int = 5000):  # noqa: ANN202 - generator of lists
    ids = [int(i) for i in ids]  # numpy ints do not bind as SQL parameters
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def candidate_item_ids(session: Session, project_id: int, judge_below: float | None) -> set[int]:
    """Items that may need a reviewer: answered by two or more users, with a flagged answer, with an
    open review request, or (``judge_below`` set) whose newest routed suggestion went ``auto`` with
    a judge score below it. ``annotator.team.review`` decides which of them really do."""
    live = (Response.status == "submitted")
    several = session.exec(
        select(Response.item_id).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, live).group_by(Response.item_id)
        .having(func.count(func.distinct(Response.user_id)) > 1)
    ).all()
    flagged = session.exec(
        select(Response.item_id).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, live, Response.flagged == True)  # noqa: E712 - SQL
    ).all()
    requested = session.exec(
        select(ReviewRequest.item_id).join(Item, Item.id == ReviewRequest.item_id)
        .where(Item.project_id == project_id, ReviewRequest.resolved_at.is_(None))
    ).all()
    out = {int(i) for i in (*several, *flagged, *requested)}
    if judge_below is not None:
        newest = (
            select(func.max(Suggestion.id)).join(Item, Item.id == Suggestion.item_id)
            .where(Item.project_id == project_id, Suggestion.route.is_not(None)).group_by(Suggestion.item_id)
        )
        low = session.exec(
            select(Suggestion.item_id).where(Suggestion.id.in_(newest), Suggestion.route == "auto",
                                             Suggestion.judge_score < judge_below)
        ).all()
        out.update(int(i) for i in low)
    return out


def answers_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[AnswerRow]]:
    """item_id → its submitted responses, oldest first (columns only: this reads every candidate)."""
    out: dict[int, list[AnswerRow]] = {}
    columns = (Response.id, Response.item_id, User.name, User.role, User.is_system, Response.value, Response.route,
               Response.seconds_spent, Response.comment, Response.flagged, Response.submitted_at)
    for chunk in _chunks(item_ids):
        rows = session.exec(
            select(*columns).join(User, User.id == Response.user_id)
            .where(Response.item_id.in_(chunk), Response.status == "submitted").order_by(Response.id)
        ).all()
        for rid, item_id, name, role, is_system, value, route, seconds, comment, flagged, at in rows:
            out.setdefault(int(item_id), []).append(AnswerRow(
                response_id=int(rid), item_id=int(item_id), user=name, role=role, is_system=bool(is_system),
                value=list(value), route=route, seconds=seconds, comment=comment, flagged=bool(flagged),
                submitted_at=at,
            ))
    return out


def items_by_ids(session: Session, item_ids: Sequence[int]) -> dict[int, Item]:
    """item_id → its Item row."""
    out: dict[int, Item] = {}
    for chunk in _chunks(item_ids):
        out.update({int(i.id): i for i in session.exec(select(Item).where(Item.id.in_(chunk))).all()})
    return out


def suggestions_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[Suggestion]]:
    """item_id → each agent's newest suggestion, by agent name."""
    out: dict[int, list[Suggestion]] = {}
    for chunk in _chunks(item_ids):
        newest = (select(func.max(Suggestion.id)).where(Suggestion.item_id.in_(chunk))
                  .group_by(Suggestion.item_id, Suggestion.agent))
        for s in session.exec(select(Suggestion).where(Suggestion.id.in_(newest)).order_by(Suggestion.agent)).all():
            out.setdefault(s.item_id, []).append(s)
    return out


def routed_suggestion(session: Session, item_ids: Sequence[int]) -> dict[int, Suggestion]:
    """item_id → its newest suggestion the router decided on (the one an ``auto`` label comes from)."""
    out: dict[int, Suggestion] = {}
    for chunk in _chunks(item_ids):
        newest = (select(func.max(Suggestion.id)).where(Suggestion.item_id.in_(chunk), Suggestion.route.is_not(None))
                  .group_by(Suggestion.item_id))
        for s in session.exec(select(Suggestion).where(Suggestion.id.in_(newest))).all():
            out[s.item_id] = s
    return out


def open_requests(session: Session, item_ids: Sequence[int]) -> dict[int, list[RequestRow]]:
    """item_id → its unresolved review requests (flags and send-backs), oldest first."""
    out: dict[int, list[RequestRow]] = {}
    for chunk in _chunks(item_ids):
        rows = session.exec(
            select(ReviewRequest).where(ReviewRequest.item_id.in_(chunk), ReviewRequest.resolved_at.is_(None))
            .order_by(ReviewRequest.id)
        ).all()
        for r in rows:
            out.setdefault(r.item_id, []).append(RequestRow(
                id=int(r.id), item_id=int(r.item_id), kind=r.kind, reason=r.reason, score=r.score,
                requested_by=r.requested_by, after_response_id=r.after_response_id, created_at=r.created_at,
            ))
    return out


def add_requests(
    session: Session, item_ids: Sequence[int], *, kind: str, reason: str, requested_by: str,
    score: float | None = None, after_response_id: int | None = None,
) -> int:
    """One open request per item; an item that already has an open request of the same kind and
    reason keeps that one (asking twice does not list it twice). Returns how many were added."""
    existing = {
        int(i) for chunk in _chunks(item_ids) for i in session.exec(
            select(ReviewRequest.item_id).where(ReviewRequest.item_id.in_(chunk), ReviewRequest.kind == kind,
                                                ReviewRequest.reason == reason, ReviewRequest.resolved_at.is_(None))
        ).all()
    }
    now = utcnow()
    added = 0
    for item_id in dict.fromkeys(int(i) for i in item_ids):
        if item_id in existing:
            continue
        session.add(ReviewRequest(item_id=item_id, kind=kind, reason=reason, score=score, requested_by=requested_by,
                                  after_response_id=after_response_id, created_at=now))
        added += 1
    session.flush()
    return added


def resolve_requests(session: Session, item_id: int) -> int:
    """Close every open request of the item (a reviewer decided); returns how many."""
    rows = session.exec(
        select(ReviewRequest).where(ReviewRequest.item_id == item_id, ReviewRequest.resolved_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.resolved_at = now
        session.add(row)
    session.flush()
    return len(rows)


def newest_response_id(session: Session, item_id: int) -> int:
    """The highest response id of the item (any status), 0 when none."""
    return int(session.exec(select(func.max(Response.id)).where(Response.item_id == item_id)).first() or 0)


def sent_back_item_ids(session: Session, project_id: int) -> set[int]:
    """Items a reviewer sent back that no person has answered since: they are served again."""
    rows = session.exec(
        select(ReviewRequest.item_id, ReviewRequest.after_response_id).join(Item, Item.id == ReviewRequest.item_id)
        .where(Item.project_id == project_id, ReviewRequest.kind == SEND_BACK, ReviewRequest.resolved_at.is_(None))
    ).all()
    if not rows:
        return set()
    after = {int(i): int(a or 0) for i, a in rows}
    answered = session.exec(
        select(Response.item_id, func.max(Response.id)).where(
            Response.item_id.in_(list(after)), Response.status == "submitted", Response.route != "review")
        .group_by(Response.item_id)
    ).all()
    newest = {int(i): int(m) for i, m in answered}
    return {i for i, a in after.items() if newest.get(i, 0) <= a}


def project_of_items(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """item_id → its project id, for the ids that exist."""
    out: dict[int, int] = {}
    for chunk in _chunks([int(i) for i in item_ids]):
        out.update({int(i): int(p) for i, p in session.exec(
            select(Item.id, Item.project_id).where(Item.id.in_(chunk))).all()})
    return out


def decision_pairs(session: Session, project_id: int) -> set[tuple[int, str]]:
    """(item_id, user name) whose newest submitted answer is a review decision (route ``review``):
    agreement counts those as settling the item, whatever the decider's role (an admin, the local
    user in single-user mode), never as a rater's answer."""
    newest = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted")
        .group_by(Response.item_id, Response.user_id)
    )
    rows = session.exec(
        select(Response.item_id, User.name).join(User, User.id == Response.user_id)
        .where(Response.id.in_(newest), Response.route == "review")
    ).all()
    return {(int(i), name) for i, name in rows}


@dataclass(frozen=True)
class QueueMarks:
    """Where a look at the review queue's inputs stopped: the highest response, suggestion and review
    request ids, and the time it began (app clock, UTC) for changes made in place (discards,
    resolved requests)."""

    response_id: int
    suggestion_id: int
    request_id: int
    at: datetime


def queue_marks(session: Session) -> QueueMarks:
    """The current ``QueueMarks`` (three primary-key maxima: constant time)."""
    return QueueMarks(
        response_id=int(session.exec(select(func.max(Response.id))).one() or 0),
        suggestion_id=int(session.exec(select(func.max(Suggestion.id))).one() or 0),
        request_id=int(session.exec(select(func.max(ReviewRequest.id))).one() or 0),
        at=utcnow(),
    )


def changed_item_ids(session: Session, project_id: int, since: QueueMarks, changed_after: datetime) -> set[int]:
    """Items of the project whose review inputs may have changed since ``since``: a response,
    suggestion or review request added after its ids, a response discarded or a request resolved at
    or after ``changed_after`` (the caller's ``since.at`` less a margin for clock skew and slow
    transactions). Everything ``annotator.team.review.assess`` reads of an item is among these rows.

    Each row set is found without the project first (a primary-key range, or one pass over the
    rows), then kept to the project's items: joined to the item table first, each query probed
    every item of the project (~30 ms at 50k items, now ~3)."""
    queries = [
        select(Response.item_id).where(Response.id > since.response_id),
        select(Response.item_id).where(Response.status == "discarded", Response.updated_at >= changed_after),
        select(Suggestion.item_id).where(Suggestion.id > since.suggestion_id),
        select(ReviewRequest.item_id).where((ReviewRequest.id > since.request_id)
                                            | (ReviewRequest.resolved_at >= changed_after)),
    ]
    touched = {int(i) for query in queries for i in session.exec(query.distinct()).all()}
    return {i for i, pid in project_of_items(session, sorted(touched)).items() if pid == project_id}
