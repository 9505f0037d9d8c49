"""Query functions for people's responses and machines' suggestions. Never merged here."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, insert
from sqlmodel import Session, select

from annotator.store.tables import Item, Response, Suggestion, User, utcnow


def add_response(
    session: Session, *, item_id: int, user_id: int, value: list[str], status: str = "submitted",
    source: str = "human", route: str = "manual", comment: str | None = None, flagged: bool = False,
    shown_suggestion_id: int | None = None, query_strategy: str | None = None, query_score: float | None = None,
    started_at: datetime | None = None, seconds_spent: float | None = None, payload: dict[str, Any] | None = None,
) -> Response:
    now = utcnow()
    response = Response(
        item_id=item_id, user_id=user_id, value=value, status=status, source=source, route=route,
        comment=comment, flagged=flagged, shown_suggestion_id=shown_suggestion_id,
        query_strategy=query_strategy, query_score=query_score, started_at=started_at,
        submitted_at=now if status == "submitted" else None, seconds_spent=seconds_spent, payload=payload,
        created_at=now, updated_at=now,
    )
    session.add(response)
    session.flush()
    return response


def insert_responses(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert (imports). Each row: item_id, user_id, value, status, source, route."""
    if not rows:
        return
    now = utcnow()
    values = [
        {"created_at": now, "updated_at": now, "submitted_at": now, "flagged": False, **row} for row in rows
    ]
    session.execute(insert(Response.__table__), values)


def insert_suggestions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert. Each row: item_id, agent, agent_version, value, scores, score, route."""
    if not rows:
        return
    now = utcnow()
    session.execute(insert(Suggestion.__table__), [{"created_at": now, **row} for row in rows])


def discard_responses(session: Session, item_id: int, user_id: int) -> int:
    """Mark the user's live responses on an item as discarded; returns how many changed."""
    rows = session.exec(
        select(Response).where(Response.item_id == item_id, Response.user_id == user_id,
                               Response.status != "discarded")
    ).all()
    now = utcnow()
    for row in rows:
        row.status = "discarded"
        row.updated_at = now
        session.add(row)
    session.flush()
    return len(rows)


def last_submitted_response(session: Session, project_id: int, user_id: int) -> Response | None:
    """The user's most recent submitted, non-bulk response in the project (what undo takes back)."""
    return session.exec(
        select(Response).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.user_id == user_id,
               Response.status == "submitted", Response.source == "human")
        .order_by(Response.id.desc()).limit(1)
    ).first()


def latest_responses(session: Session, item_ids: Sequence[int], *, status: str = "submitted",
                     user_id: int | None = None) -> dict[int, Response]:
    """For each item, its newest response with ``status`` (highest id wins); with ``user_id``, that
    person's newest."""
    out: dict[int, Response] = {}
    for start in range(0, len(item_ids), 5000):
        chunk = list(item_ids[start:start + 5000])
        conds = [Response.item_id.in_(chunk), Response.status == status]
        if user_id is not None:
            conds.append(Response.user_id == user_id)
        newest = select(func.max(Response.id)).where(*conds).group_by(Response.item_id)
        for response in session.exec(select(Response).where(Response.id.in_(newest))).all():
            out[response.item_id] = response
    return out


def labelled_values(session: Session, project_id: int) -> dict[int, list[str]]:
    """item_id → value of its newest submitted response, for every labelled item (training data)."""
    newest = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted").group_by(Response.item_id)
    )
    rows = session.exec(select(Response.item_id, Response.value).where(Response.id.in_(newest))).all()
    return {item_id: list(value) for item_id, value in rows}


def auto_suggestions(session: Session, item_ids: Sequence[int]) -> dict[int, Suggestion]:
    """For each item whose newest routed suggestion the router accepted ('auto', or 'audit' while
    the audit answer is pending), that suggestion."""
    out: dict[int, Suggestion] = {}
    for start in range(0, len(item_ids), 5000):
        chunk = list(item_ids[start:start + 5000])
        newest = (select(func.max(Suggestion.id)).where(Suggestion.item_id.in_(chunk), Suggestion.route.is_not(None))
                  .group_by(Suggestion.item_id))
        for s in session.exec(select(Suggestion).where(Suggestion.id.in_(newest))).all():
            if s.route in ("auto", "audit"):
                out[s.item_id] = s
    return out


def audit_outcomes(session: Session, project_id: int) -> list[tuple[list[str], list[str]]]:
    """(person's blind answer, audited AI label) for every submitted audit answer in the project."""
    rows = session.exec(
        select(Response.value, Suggestion.value).join(Suggestion, Suggestion.id == Response.shown_suggestion_id)
        .join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.route == "audit", Response.status == "submitted")
    ).all()
    return [(list(a), list(b)) for a, b in rows]


def latest_suggestions(session: Session, item_ids: Sequence[int]) -> dict[int, Suggestion]:
    """For each item, its newest suggestion of any agent."""
    out: dict[int, Suggestion] = {}
    for start in range(0, len(item_ids), 5000):
        chunk = list(item_ids[start:start + 5000])
        for s in session.exec(select(Suggestion).where(Suggestion.item_id.in_(chunk)).order_by(Suggestion.id)).all():
            out[s.item_id] = s
    return out


def label_counts(session: Session, project_id: int) -> dict[str, int]:
    """How many labelled items carry each label (newest submitted response per item)."""
    counts: dict[str, int] = {}
    for value in labelled_values(session, project_id).values():
        for label in value:
            counts[label] = counts.get(label, 0) + 1
    return counts


def label_counts_of_user(session: Session, project_id: int, user_id: int) -> dict[str, int]:
    """How many of one person's answered items carry each label (their newest submitted answer per item)."""
    newest = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted", Response.user_id == user_id)
        .group_by(Response.item_id)
    )
    counts: dict[str, int] = {}
    for value in session.exec(select(Response.value).where(Response.id.in_(newest))).all():
        for label in value:
            counts[label] = counts.get(label, 0) + 1
    return counts


def counts_by_user(session: Session, project_id: int) -> dict[int, int]:
    rows = session.exec(
        select(Response.user_id, func.count()).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted").group_by(Response.user_id)
    ).all()
    return {uid: int(n) for uid, n in rows}


def randomly_picked_item_ids(session: Session, project_id: int, strategies: Sequence[str]) -> set[int]:
    """Items whose submitted human answer was served by one of ``strategies`` (the random picks:
    calibration slice, audits, a random queue): the unbiased sample the router certifies on."""
    rows = session.exec(
        select(Response.item_id).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted",
               Response.query_strategy.in_(list(strategies)))
    ).all()
    return {int(r) for r in rows}


def _json_lists() -> Callable[[Any], list[str]]:
    """A decoder for a JSON list column read as text (``cast(column, Text)``) that decodes each
    distinct text once: a project's answers repeat a handful of values (``["a"]``, ``["b"]``, …), and
    decoding 60k of them one by one was most of the agreement's read time. Each call returns a
    fresh list; a value the driver decoded already (not text) is copied as it is."""
    decoded: dict[str, list[str]] = {}

    def decode(raw: Any) -> list[str]:  # noqa: ANN401 - text, or a list from the driver
        if not isinstance(raw, str):
            return list(raw or [])
        value = decoded.get(raw)
        if value is None:
            value = decoded[raw] = list(json.loads(raw) or [])
        return list(value)

    return decode


def answers_by_person(session: Session, project_id: int) -> list[tuple[int, str, str, list[str]]]:
    """(item_id, person's name, role, value) of each person's newest submitted answer per item.

    System users (the ``import`` pseudo-user) are left out: imported labels are no one's answer
    in this project. Ordered by item id, then name (agreement tables).
    """
    return answers_and_decisions(session, project_id)[0]


def answers_and_decisions(session: Session, project_id: int, decision_route: str = "review"
                          ) -> tuple[list[tuple[int, str, str, list[str]]], set[tuple[int, str]]]:
    """``answers_by_person`` and, from the same read, the (item_id, name) pairs among them whose
    answer is a review decision (route ``decision_route``): agreement counts those as settling the
    item, not as a rater's answer (``store.review.decision_pairs``, without a second pass)."""
    newest = (
        select(func.max(Response.id)).join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted")
        .group_by(Response.item_id, Response.user_id)
    )
    rows = session.connection().execute(  # Core rows: no ORM result machinery per row
        select(Response.item_id, User.name, User.role, cast(Response.value, Text), Response.route)
        .join(User, User.id == Response.user_id)
        .where(Response.id.in_(newest), User.is_system == False)  # noqa: E712 - SQL, not Python
        .order_by(Response.item_id, User.name)
    ).all()
    decode = _json_lists()
    answers = [(int(item_id), name, role, decode(value)) for item_id, name, role, value, _ in rows]
    decided = {(int(item_id), name) for item_id, name, _, _, route in rows if route == decision_route}
    return answers, decided


def suggestions_by_agent(session: Session, project_id: int) -> list[tuple[int, str, list[str]]]:
    """(item_id, agent, value) of each agent's newest suggestion per item, ordered by item, agent."""
    newest = (
        select(func.max(Suggestion.id)).join(Item, Item.id == Suggestion.item_id)
        .where(Item.project_id == project_id).group_by(Suggestion.item_id, Suggestion.agent)
    )
    rows = session.connection().execute(  # Core rows: no ORM result machinery per row
        select(Suggestion.item_id, Suggestion.agent, cast(Suggestion.value, Text)).where(Suggestion.id.in_(newest))
        .order_by(Suggestion.item_id, Suggestion.agent)
    ).all()
    decode = _json_lists()
    return [(int(item_id), agent, decode(value)) for item_id, agent, value in rows]


def newest_suggestions_of_agent(session: Session, project_id: int, agent: str) -> list[tuple[str, list[str], float | None]]:
    """(item text, value, score) of ``agent``'s newest suggestion for each item of the project that has one."""
    newest = (select(func.max(Suggestion.id)).join(Item, Item.id == Suggestion.item_id)
              .where(Item.project_id == project_id, Suggestion.agent == agent).group_by(Suggestion.item_id))
    rows = session.exec(select(Item.text, Suggestion.value, Suggestion.score).join(Item, Item.id == Suggestion.item_id)
                        .where(Suggestion.id.in_(newest))).all()
    return [(text, list(value or []), score) for text, value, score in rows]
