"""Derive each item's final label with its provenance. Read-only; nothing here is stored.

Precedence: the newest submitted response of a person (or an imported label) wins; otherwise an
AI suggestion the router auto-accepted; otherwise the item has no label yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session

from annotator.store.items import iter_items
from annotator.store.projects import user_names
from annotator.store.responses import auto_suggestions, latest_responses

#: Columns of every export row, in order. ``label`` is a list of label names.
EXPORT_COLUMNS = [
    "item_id", "external_id", "text", "metadata", "split", "label", "label_source", "annotator",
    "route", "confidence", "status", "verified", "query_strategy", "query_score", "comment", "flagged",
    "seconds_spent", "labelled_at", "created_at",
]


def iter_final_labels(session: Session, project_id: int, *, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Rows of EXPORT_COLUMNS for every item, ``chunk`` items at a time, in item id order."""
    for items in iter_items(session, project_id, chunk=chunk):
        ids = [item.id for item in items]
        responses = latest_responses(session, ids)
        autos = auto_suggestions(session, [i for i in ids if i not in responses])
        names = user_names(session, {r.user_id for r in responses.values()})
        rows = []
        for item in items:
            row: dict[str, Any] = {
                "item_id": item.id, "external_id": item.external_id, "text": item.text, "metadata": item.meta,
                "split": item.split, "label": None, "label_source": None, "annotator": None, "route": None,
                "confidence": None, "status": "unlabelled", "verified": False, "query_strategy": None,
                "query_score": None, "comment": None, "flagged": False, "seconds_spent": None,
                "labelled_at": None, "created_at": item.created_at,
            }
            if (response := responses.get(item.id)) is not None:
                row.update(
                    label=list(response.value), label_source=response.source,
                    annotator=names.get(response.user_id, str(response.user_id)), route=response.route,
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
                    labelled_at=suggestion.created_at,
                )
            rows.append(row)
        yield rows
