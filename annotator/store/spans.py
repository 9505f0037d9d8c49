"""Query functions for span projects: people's span answers and machines' span suggestions.

A span answer is a ``Response`` whose ``payload`` is ``{"spans": [{start, end, label}, …]}`` and
whose ``value`` is the sorted distinct labels of those spans (so label counts, the pool and the
progress figures work unchanged; ``[]`` means "no spans here", still an answer). A span suggestion
is a ``Suggestion`` with the same ``payload`` (migration 0008). Offsets are code points of the
item's text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from annotator.store.tables import Item, Response, Suggestion, User


@dataclass(frozen=True)
class SpanAnswer:
    """One person's newest submitted span answer to one item (``spans``: raw dicts as stored)."""

    response_id: int
    item_id: int
    user: str
    is_system: bool
    spans: list[dict[str, Any]]
    route: str
    source: str
    shown_suggestion_id: int | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class SpanSuggestion:
    """One agent's newest span suggestion for one item."""

    suggestion_id: int
    item_id: int
    agent: str
    agent_version: str
    spans: list[dict[str, Any]]
    score: float | None
    route: str | None = None  # the span router's decision (auto, audit, verify), None before it


def _spans_of(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((payload or {}).get("spans") or [])


def span_answers(session: Session, project_id: int, item_ids: Sequence[int] | None = None) -> list[SpanAnswer]:
    """Each person's (and the import user's) newest submitted answer per item, by item id then
    response id. ``item_ids`` limits the read to those items."""
    conds = [Item.project_id == project_id, Response.status == "submitted"]
    if item_ids is not None:
        conds.append(Response.item_id.in_(list(item_ids)))
    newest = (select(func.max(Response.id)).join(Item, Item.id == Response.item_id).where(*conds)
              .group_by(Response.item_id, Response.user_id))
    rows = session.exec(
        select(Response, User.name, User.is_system).join(User, User.id == Response.user_id)
        .where(Response.id.in_(newest)).order_by(Response.item_id, Response.id)
    ).all()
    return [SpanAnswer(int(r.id), int(r.item_id), name, bool(system), _spans_of(r.payload), r.route, r.source,
                       r.shown_suggestion_id, r.submitted_at) for r, name, system in rows]


def span_suggestions(session: Session, project_id: int, item_ids: Sequence[int] | None = None
                     ) -> list[SpanSuggestion]:
    """Each agent's newest suggestion per item that carries spans, by item id then agent."""
    conds = [Item.project_id == project_id, Suggestion.payload.is_not(None)]
    if item_ids is not None:
        conds.append(Suggestion.item_id.in_(list(item_ids)))
    newest = (select(func.max(Suggestion.id)).join(Item, Item.id == Suggestion.item_id).where(*conds)
              .group_by(Suggestion.item_id, Suggestion.agent))
    rows = session.exec(select(Suggestion).where(Suggestion.id.in_(newest))
                        .order_by(Suggestion.item_id, Suggestion.agent)).all()
    return [SpanSuggestion(int(s.id), int(s.item_id), s.agent, s.agent_version, _spans_of(s.payload), s.score,
                           s.route) for s in rows]


def set_suggestion_routes(session: Session, routes: dict[int, str]) -> None:
    """Record the router's decision on stored suggestions: suggestion id → route."""
    by_route: dict[str, list[int]] = {}
    for suggestion_id, route in routes.items():
        by_route.setdefault(route, []).append(int(suggestion_id))
    for route, ids in by_route.items():
        for start in range(0, len(ids), 5000):
            session.execute(update(Suggestion).where(Suggestion.id.in_(ids[start:start + 5000])).values(route=route))


def suggestion_spans(session: Session, suggestion_id: int) -> tuple[str, list[dict[str, Any]]] | None:
    """(agent, spans) of one stored suggestion, or None when it is gone or holds no spans."""
    s = session.get(Suggestion, suggestion_id)
    if s is None or s.payload is None:
        return None
    return s.agent, _spans_of(s.payload)


def iter_span_items(session: Session, project_id: int, chunk: int = 5000
                    ) -> Iterator[list[tuple[int, str | None, str, dict[str, Any]]]]:
    """Chunks of (item_id, external_id, text, metadata) in id order (constant memory)."""
    last = 0
    while True:
        rows = session.exec(select(Item.id, Item.external_id, Item.text, Item.meta)
                            .where(Item.project_id == project_id, Item.id > last).order_by(Item.id).limit(chunk)).all()
        if not rows:
            return
        yield [(int(i), e, t, dict(m or {})) for i, e, t, m in rows]
        last = int(rows[-1][0])


def texts_of(session: Session, item_ids: Sequence[int]) -> dict[int, str]:
    """item_id → text of the items given."""
    out: dict[int, str] = {}
    ids = list(item_ids)
    for start in range(0, len(ids), 5000):
        out.update({int(i): t for i, t in session.exec(
            select(Item.id, Item.text).where(Item.id.in_(ids[start:start + 5000]))).all()})
    return out
