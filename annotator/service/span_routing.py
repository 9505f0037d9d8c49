"""The span router of a span project (reached through ``svc.spans.route``).

- ``route_spans``: certify a suggester on the random human-labelled items (item-level exact
  match, ``spans.routing``), route every open item with its suggestion auto / audit / verify,
  store the route on the suggestion and hand it to the queue (auto items are not served; audits
  are served first, the suggestion hidden).
- ``restore_routes``: after a restart, the pool gets the stored routes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.core.errors import ValidationError
from annotator.core.schema import ROUTE_CODES, ROUTED_NAMES, Route
from annotator.routing import RoutingPolicy
from annotator.service.ai import SPAN_RANDOM_PICK_STRATEGIES
from annotator.service.part import project_settings
from annotator.spans import Span
from annotator.spans.routing import calibrate_spans, route_span_items, same_spans
from annotator.store import responses as response_q
from annotator.store import spans as span_q

if TYPE_CHECKING:
    from annotator.service.spans import SpansService


def _spans(raw: list[dict[str, Any]]) -> list[Span]:
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in raw]


def route_spans(part: SpansService, project: str, *, agent: str | None = None,
                policy: RoutingPolicy | None = None) -> dict[str, Any]:
    """Route every open item that ``agent`` (default: the newest span suggester) suggested spans for.

    Calibration items: items a person answered blind after a random pick (the queue's random
    calibration slice) or as an audit, each compared exactly with ``agent``'s suggestion.

    Returns:
        ``{"agent", "items", "routes": {auto, audit, verify, blind}, "target_precision",
        "calibration": SpanCalibration.as_dict()}``; ``items`` 0 when ``agent`` suggested nothing open.
    """
    proj, _, _ = part._rules(project)
    settings = project_settings(proj)
    policy = policy or RoutingPolicy(target_precision=settings.target_precision,
                                     audit_fraction=settings.audit_fraction)
    pool = part._svc.queue.pool(project)
    with store.transaction(part.engine) as s:
        sugg = span_q.span_suggestions(s, proj.id)
        answers = span_q.span_answers(s, proj.id)
        random_ids = response_q.randomly_picked_item_ids(s, proj.id, SPAN_RANDOM_PICK_STRATEGIES)
    if agent is None:
        if not sugg:
            raise ValidationError(f"Project {project!r} has no span suggestions to route.",
                                  fix=f"run a suggester first: python -m annotator ai --project {project} "
                                      "--annotators spacy")
        agent = max(sugg, key=lambda x: x.suggestion_id).agent
    mine = {x.item_id: x for x in sugg if x.agent == agent}
    # a person's blind answer to a random pick or an audit: never anchored, never chosen for being hard
    blind = [a for a in answers if not a.is_system and a.item_id in random_ids and a.item_id in mine
             and a.route in (Route.blind.value, Route.audit.value)]
    score = np.array([np.nan if mine[a.item_id].score is None else mine[a.item_id].score for a in blind])
    correct = np.array([same_spans(_spans(a.spans), _spans(mine[a.item_id].spans)) for a in blind], dtype=bool)
    audits = [bool(c) for a, c in zip(blind, correct, strict=True) if a.route == Route.audit.value]
    cal = calibrate_spans(score, correct, policy, audits=audits)

    rows = np.flatnonzero(~pool.labelled)
    rows = np.array([r for r in rows if int(pool.item_ids[r]) in mine], dtype=np.int64)
    ids = [int(i) for i in pool.item_ids[rows]]
    open_score = np.array([np.nan if mine[i].score is None else mine[i].score for i in ids], dtype=np.float64)
    rng = np.random.default_rng([settings.seed, pool.n_labelled])
    routes = route_span_items(cal, open_score, policy, rng, already_audited=len(audits),
                              keep_audit=pool.route[rows] == ROUTE_CODES[Route.audit]) \
        if len(rows) else np.zeros(0, dtype=str)
    with store.transaction(part.engine) as s:
        span_q.set_suggestion_routes(s, {mine[i].suggestion_id: str(r) for i, r in zip(ids, routes, strict=True)})
    pool.set_routes(rows, routes)
    pool.rerank()
    return {"agent": agent, "items": len(ids), "routes": {n: int((routes == n).sum()) for n in ROUTED_NAMES},
            "target_precision": policy.target_precision, "calibration": cal.as_dict()}


def restore_routes(part: SpansService, project: str) -> int:
    """Hand the stored routes of the open items' newest routed suggestions to the pool (a new
    process starts with none); returns how many items got one."""
    proj, _, _ = part._rules(project)
    pool = part._svc.queue.pool(project)
    rows = np.flatnonzero(~pool.labelled)
    with store.transaction(part.engine) as s:
        routed = response_q.auto_suggestions(s, [int(i) for i in pool.item_ids[rows]])
    keep = np.array([r for r in rows if int(pool.item_ids[r]) in routed], dtype=np.int64)
    if len(keep):
        pool.set_routes(keep, np.array([routed[int(pool.item_ids[r])].route for r in keep]))
    return len(keep)
