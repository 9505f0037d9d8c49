"""Derive each item's final label with its provenance. Read-only; nothing here is stored.

The label comes from ``annotator.core.settlement.settle`` (the one final-label rule, which the
review queue shows too); an item nobody answered takes the AI label the router auto-accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from annotator.core.settlement import SETTLED_BY, settle
from annotator.store.items import iter_items
from annotator.store.responses import auto_suggestions
from annotator.store.tables import Response, User

#: Columns of every export row, in order. ``label`` is a list of label names.
EXPORT_COLUMNS = [
    "item_id", "external_id", "text", "metadata", "split", "label", "label_source", "annotator",
    "route", "confidence", "status", "verified", "query_strategy", "query_score", "comment", "flagged",
    "seconds_spent", "labelled_at", "created_at", "settled_by", "answers",
]

__all__ = ["EXPORT_COLUMNS", "SETTLED_BY", "iter_final_labels"]


@dataclass(frozen=True, slots=True)
class _Answer:
    """A submitted response with its author, as the settlement rule reads it."""

    response: Response
    user: str
    is_system: bool

    @property
    def response_id(self) -> int:
        return int(self.response.id)

    @property
    def value(self) -> Sequence[str]:
        return self.response.value

    @property
    def route(self) -> str | None:
        return self.response.route


def _submitted(session: Session, item_ids: list[int]) -> dict[int, list[_Answer]]:
    """item_id → its submitted responses with author name and whether a system user gave it, oldest first."""
    out: dict[int, list[_Answer]] = {}
    for start in range(0, len(item_ids), 5000):
        chunk = item_ids[start:start + 5000]
        rows = session.exec(
            select(Response, User.name, User.is_system).join(User, User.id == Response.user_id)
            .where(Response.item_id.in_(chunk), Response.status == "submitted").order_by(Response.id)
        ).all()
        for response, name, is_system in rows:
            out.setdefault(response.item_id, []).append(_Answer(response, name, bool(is_system)))
    return out


def iter_final_labels(session: Session, project_id: int, *, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Rows of EXPORT_COLUMNS for every item, ``chunk`` items at a time, in item id order."""
    for items in iter_items(session, project_id, chunk=chunk):
        ids = [item.id for item in items]
        submitted = _submitted(session, ids)
        autos = auto_suggestions(session, [i for i in ids if i not in submitted])
        rows = []
        for item in items:
            row: dict[str, Any] = {
                "item_id": item.id, "external_id": item.external_id, "text": item.text, "metadata": item.meta,
                "split": item.split, "label": None, "label_source": None, "annotator": None, "route": None,
                "confidence": None, "status": "unlabelled", "verified": False, "query_strategy": None,
                "query_score": None, "comment": None, "flagged": False, "seconds_spent": None,
                "labelled_at": None, "created_at": item.created_at, "settled_by": None, "answers": 0,
            }
            chosen, how, n_people = settle(submitted.get(item.id, []))
            row["answers"] = n_people
            if chosen is not None:
                response, name = chosen.response, chosen.user
                row.update(
                    settled_by=how, label=list(response.value), label_source=response.source,
                    annotator=name, route=response.route,
                    status=response.status, verified=response.source != "import",
                    query_strategy=response.query_strategy, query_score=response.query_score,
                    comment=response.comment, flagged=response.flagged, seconds_spent=response.seconds_spent,
                    labelled_at=response.submitted_at,
                )
            elif (suggestion := autos.get(item.id)) is not None:
                row.update(
                    label=list(suggestion.value), label_source="agent",
                    annotator=f"{suggestion.agent}@{suggestion.agent_version}".rstrip("@"),
                    route="auto", confidence=suggestion.score, status="auto", verified=False,
                    labelled_at=suggestion.created_at, settled_by="auto",
                )
            rows.append(row)
        yield rows
