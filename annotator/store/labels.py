"""Derive each item's final label with its provenance. Read-only; nothing here is stored.

Precedence, recorded per row as ``settled_by``:

- ``reviewer``: a reviewer's newest decision (a submitted response with route ``review``) wins;
- ``single``: exactly one person answered: their answer;
- ``majority``: several people answered and a strict majority agrees (values compared as sets):
  that value, from the newest of the people who gave it;
- ``newest``: several people answered without a strict majority (a tie): the newest answer, and
  the item waits for a reviewer (the review queue lists it as a disagreement);
- ``import``: only an imported label (the ``import`` pseudo-user);
- ``auto``: no answer, an AI suggestion the router auto-accepted;
- None: no label yet.

"People" are the newest submitted answer of each non-system user other than reviewers' decisions
(the same rules as ``annotator.team.review.current_label``, which the review queue shows).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, select

from annotator.store.items import iter_items
from annotator.store.responses import auto_suggestions
from annotator.store.tables import Response, User

#: Route of a reviewer's decision (``annotator.team.review.REVIEW_ROUTE``).
REVIEW_ROUTE = "review"

#: Columns of every export row, in order. ``label`` is a list of label names.
EXPORT_COLUMNS = [
    "item_id", "external_id", "text", "metadata", "split", "label", "label_source", "annotator",
    "route", "confidence", "status", "verified", "query_strategy", "query_score", "comment", "flagged",
    "seconds_spent", "labelled_at", "created_at", "settled_by", "answers",
]

#: ``settled_by`` values, most authoritative first.
SETTLED_BY = ("reviewer", "majority", "single", "newest", "import", "auto")

_Answer = tuple[Response, str, bool]  # (response, user name, is_system)


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
            out.setdefault(response.item_id, []).append((response, name, bool(is_system)))
    return out


def settle(answers: list[_Answer]) -> tuple[_Answer | None, str | None, int]:
    """(the answer that gives the item its label, how it was settled, people who answered) from the
    item's submitted answers, oldest first (see the module docstring)."""
    people_by_user: dict[str, _Answer] = {}
    for answer in answers:
        if not answer[2] and answer[0].route != REVIEW_ROUTE:
            people_by_user[answer[1]] = answer  # oldest first: the newest per person stays
    people = sorted(people_by_user.values(), key=lambda a: a[0].id)
    reviews = [a for a in answers if a[0].route == REVIEW_ROUTE]
    if reviews:
        return reviews[-1], "reviewer", len(people)
    if len(people) == 1:
        return people[0], "single", 1
    if people:
        counts: dict[tuple[str, ...], int] = {}
        for a in people:
            key = tuple(sorted(a[0].value))
            counts[key] = counts.get(key, 0) + 1
        value, n = max(counts.items(), key=lambda kv: kv[1])
        if 2 * n > len(people):
            return [a for a in people if tuple(sorted(a[0].value)) == value][-1], "majority", len(people)
        return people[-1], "newest", len(people)
    if answers:
        return answers[-1], "import", 0
    return None, None, 0


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
                response, name, _ = chosen
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
