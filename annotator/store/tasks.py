"""Reads for post-training projects (annotator.tasks): final answers with their payload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, select

from annotator.store.labels import iter_final_labels
from annotator.store.responses import latest_responses
from annotator.store.tables import Item, Response


def iter_task_rows(session: Session, project_id: int, *, chunk: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Rows of ``store.labels.EXPORT_COLUMNS`` plus ``payload`` (the deciding response's payload:
    shown order, ratings, edited text and diff, rationale; {} for AI labels and unlabelled items)."""
    for rows in iter_final_labels(session, project_id, chunk=chunk):
        responses = latest_responses(session, [r["item_id"] for r in rows])
        for row in rows:
            response = responses.get(row["item_id"])
            row["payload"] = dict(response.payload or {}) if response is not None and row["label_source"] != "agent" \
                else {}
        yield rows


def item_fields(session: Session, project_id: int, keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Item text (the prompt) → its metadata values under ``keys`` (the responses), for the judges."""
    rows = session.exec(select(Item.text, Item.meta).where(Item.project_id == project_id)).all()
    return {text: {k: str((meta or {}).get(k, "")) for k in keys} for text, meta in rows}


def response_payload(session: Session, response_id: int) -> dict[str, Any] | None:
    response = session.get(Response, response_id)
    return None if response is None else response.payload
