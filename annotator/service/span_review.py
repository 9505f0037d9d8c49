"""Review of span disagreements (reached through ``svc.spans.disagreements`` / ``svc.spans.settle``).

An item is disputed when two or more raters (people, as ``SpansService.spans_by_rater`` counts
them: the import user and reviewers' decisions left out) gave spans that are not exactly the same
(start, end and label). A reviewer settles it with spans of their own (often one rater's version):
stored as the reviewer's answer with route ``review``, the item's final answer (the newest
answer decides an item in exports), as classification's ``svc.review.settle`` does. The item
leaves the list until a rater answers it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.core.errors import ValidationError
from annotator.core.schema import Route
from annotator.service.part import project_settings
from annotator.spans import Span, parse_spans, validate_spans
from annotator.spans.routing import same_spans
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store import review as review_q
from annotator.store import spans as span_q

if TYPE_CHECKING:
    from annotator.service.spans import SpansService


def _spans(raw: list[dict[str, Any]]) -> list[Span]:
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in raw]


def _with_text(text: str, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s.as_dict(), "text": text[s.start:s.end]} for s in sorted(_spans(raw))]


def disagreements(part: SpansService, project: str, *, limit: int | None = None,
                  include_settled: bool = False) -> dict[str, Any]:
    """The disputed items, oldest item first.

    Returns:
        ``{"project", "items" (disputed, unsettled), "settled" (disputed, settled since the last
        rater's answer), "entries": [{"item_id", "external_id", "text", "raters": [{"rater",
        "spans": [{start, end, label, text}]}] (by rater name), "settled": the reviewer's spans or
        None, "reviewer"}]}``; ``entries`` holds the first ``limit`` (settled ones too with
        ``include_settled``).
    """
    proj, _, _ = part._rules(project)
    with store.transaction(part.engine) as s:
        answers = span_q.span_answers(s, proj.id)
    raters: dict[int, list[Any]] = {}
    reviews: dict[int, Any] = {}
    for a in answers:
        if a.route == Route.review.value:
            if a.item_id not in reviews or a.response_id > reviews[a.item_id].response_id:
                reviews[a.item_id] = a
        elif not a.is_system:
            raters.setdefault(a.item_id, []).append(a)
    disputed, settled = [], 0
    for item_id in sorted(raters):
        given = raters[item_id]
        if len(given) < 2 or all(same_spans(_spans(g.spans), _spans(given[0].spans)) for g in given[1:]):
            continue
        review = reviews.get(item_id)
        done = review is not None and review.response_id > max(g.response_id for g in given)
        settled += done
        if include_settled or not done:
            disputed.append((item_id, given, review if done else None))
    shown = disputed if limit is None else disputed[:limit]
    with store.transaction(part.engine) as s:
        items = {i: item_q.get_item(s, i) for i, _, _ in shown}
    entries = []
    for item_id, given, review in shown:
        text = items[item_id].text
        entries.append({
            "item_id": item_id, "external_id": items[item_id].external_id, "text": text,
            "raters": [{"rater": g.user, "spans": _with_text(text, g.spans)} for g in sorted(given, key=lambda g: g.user)],
            "settled": _with_text(text, review.spans) if review else None, "reviewer": review.user if review else None,
        })
    return {"project": project, "items": len(disputed) - (settled if include_settled else 0), "settled": settled,
            "entries": entries}


def settle(part: SpansService, project: str, reviewer: str, item_id: int, spans: Any, *,
           comment: str | None = None) -> list[Span]:
    """Store ``reviewer``'s spans as the item's final answer (route ``review``); their earlier
    decision on the item is replaced. Needs the reviewer or admin role.

    Args:
        spans: ``[{start, end, label}]``, triples or ``Span``; validated like any answer.

    Raises:
        PermissionDeniedError: ``reviewer`` may not review. ValidationError: a span that does not
        fit the text, or an item of another project; nothing is written then.
    """
    with store.transaction(part.engine, serialized=True) as s:
        proj = project_q.get_project(s, project)
        part.require_spans(proj)
        person = part._svc.review._require_reviewer(s, reviewer)
        item = item_q.get_item(s, item_id)
        if item.project_id != proj.id:
            raise ValidationError(f"Item {item_id} does not belong to project {project!r}.",
                                  fix="pass an item id of this project (svc.spans.disagreements lists them)")
        given = spans if isinstance(spans, (list, tuple)) and all(isinstance(x, Span) for x in spans) \
            else parse_spans(spans)
        checked = validate_spans(item.text, list(given), [lab["name"] for lab in proj.labels],
                                 allow_overlap=project_settings(proj).allow_overlapping_spans)
        value = sorted({sp.label for sp in checked})
        response_q.discard_responses(s, item_id, person.id)  # a reviewer's new decision replaces theirs
        response_q.add_response(s, item_id=item_id, user_id=person.id, value=value, source="human",
                                route=Route.review.value, comment=(comment or "").strip() or None,
                                query_strategy="review", payload={"spans": [sp.as_dict() for sp in checked]})
        review_q.resolve_requests(s, item_id)
        pid = proj.id
    if (pool := part._svc.queue.pools.get(pid)) is not None:
        pool.set_label(item_id, value)  # the decision is the item's answer for the tagger too
    return checked


def take(part: SpansService, project: str, reviewer: str, item_id: int, rater: str, *,
         comment: str | None = None) -> list[Span]:
    """Settle the item with ``rater``'s spans as they are (ValidationError when ``rater`` did not answer it)."""
    by_rater = part.spans_by_rater(project)
    if item_id not in by_rater.get(rater, {}):
        answered = sorted(r for r, items in by_rater.items() if item_id in items)
        raise ValidationError(f"{rater!r} gave no spans for item {item_id}.", expected=" | ".join(answered) or
                              "a rater who answered it", got=rater, fix="take the spans of one of the raters shown")
    return settle(part, project, reviewer, item_id, by_rater[rater][item_id], comment=comment)
