"""Span projects (``svc.spans``): a person's spans for an item, undo, the item's spans, AI span
suggestions, the queue ranked by span uncertainty, and span agreement. Imports and exports of
span data are in ``service.span_io`` (reached through this part).

A span answer is stored as a response whose ``payload`` is ``{"spans": [{start, end, label}]}``
and whose ``value`` is the sorted distinct labels of its spans (``[]``: a person said "no spans
here", still an answer), so counts, the pool and progress work as for multi-label projects.
Offsets are code points of the item's text (Python string offsets), end exclusive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from annotator import store
from annotator.core.errors import NoOverlapError, NotEnoughRatersError, ValidationError
from annotator.core.schema import ImportReport, QueuedItem, Route, TaskType
from annotator.export import ExportResult
from annotator.service.part import ServicePart, project_settings
from annotator.spans import SpacySpanSuggester, Span, parse_spans, validate_spans
from annotator.spans.agreement import Counts, pairwise_span_agreement, span_f1
from annotator.spans.tagger import TokenTagger, disagreement, item_uncertainty
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store import spans as span_q

log = logging.getLogger(__name__)

#: Strategy names the span ranking reports (and the queue serves items under).
TAGGER_STRATEGY = "span-tagger-margin"
DISAGREEMENT_STRATEGY = "span-suggester-disagreement"
POOL_STRATEGY = "pool-order"


class SpanItemView(BaseModel):
    """One span item as a labelling page or the client shows it.

    Attributes:
        spans: what to pre-fill: the person's previous spans after undo, else the suggested spans
            (none on the blind and audit routes), as ``[{start, end, label}]``.
        suggested: the newest suggester's spans (empty when hidden or none).
        previous: the spans undo took back, or None.
    """

    item_id: int
    external_id: str | None = None
    text: str
    route: str = Route.manual.value
    strategy: str = ""
    score: float | None = None
    spans: list[dict[str, Any]] = Field(default_factory=list)
    suggested: list[dict[str, Any]] = Field(default_factory=list)
    suggestion_agent: str | None = None
    previous: list[dict[str, Any]] | None = None


def _dicts(spans: Sequence[Span]) -> list[dict[str, Any]]:
    return [s.as_dict() for s in sorted(spans)]


def _as_spans(raw: Sequence[Mapping[str, Any]]) -> list[Span]:
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in raw]


def _parse(spans: Any, row: int | None = None) -> list[Span]:
    """``Span`` objects as they are; anything else through ``parse_spans`` (dicts or triples)."""
    if isinstance(spans, (list, tuple)) and all(isinstance(x, Span) for x in spans):
        return list(spans)
    return parse_spans(spans, row=row)


def _sum(counts: Sequence[Counts]) -> Counts:
    return sum(counts, Counts())


def _counts_dict(c: Counts) -> dict[str, Any]:
    return {"f1": None if c.f1 is None else round(c.f1, 4), "matched": c.matched, "spans_a": c.n_a, "spans_b": c.n_b}


class SpansService(ServicePart):
    """Span projects: answers, suggestions, ranking, agreement (see the module docstring)."""

    def __init__(self, svc: Any) -> None:
        super().__init__(svc)
        self._ranked: set[int] = set()  # projects ranked by span uncertainty in this process
        self._rank_lock = threading.Lock()

    # ---- the project ---------------------------------------------------------------------------
    @staticmethod
    def require_spans(proj: Any) -> None:
        """Raise unless ``proj`` (a project row) is a span project."""
        if proj.task_type != TaskType.spans:
            raise ValidationError(f"Project {proj.name!r} is a {proj.task_type} project, not a span project.",
                                  expected="a project created with --task spans",
                                  fix="python -m annotator init NAME --task spans --labels PER,ORG,LOC")

    def _rules(self, project: str) -> tuple[Any, list[str], bool]:
        """(project row, label names, overlapping spans allowed) of a span project."""
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
        self.require_spans(proj)
        return proj, [lab["name"] for lab in proj.labels], project_settings(proj).allow_overlapping_spans

    def check(self, project: str, text: str, spans: Any, *, row: int | None = None) -> list[Span]:
        """``spans`` (dicts, triples or ``Span``) parsed and validated against ``text`` and the
        project's labels and overlap rule, sorted; ValidationError naming every problem otherwise."""
        _, labels, overlap = self._rules(project)
        return validate_spans(text, _parse(spans, row), labels, allow_overlap=overlap, row=row)

    # ---- the labelling loop ---------------------------------------------------------------------
    def next_item(self, project: str, user: str | None = None) -> SpanItemView | None:
        """The next span item for ``user`` (queue order: span uncertainty once ranked), or None."""
        user = user or self.settings.default_user
        proj, _, _ = self._rules(project)
        if proj.id not in self._ranked:
            from annotator.service.span_routing import restore_routes

            restore_routes(self, project)  # a new process: auto items stay unserved, audits first
            self.rank(project)  # after a restart the pool comes back in its own order: rank it once
        queued = self._svc.queue.next_item(project, user)
        return None if queued is None else self._view(queued)

    def _view(self, queued: QueuedItem, previous: list[dict[str, Any]] | None = None) -> SpanItemView:
        """A served item with its newest suggester's spans (hidden on the blind and audit routes)."""
        hidden = queued.route in (Route.blind.value, Route.audit.value)
        with store.transaction(self.engine) as s:
            item = item_q.get_item(s, queued.item_id)
            sugg = span_q.span_suggestions(s, item.project_id, [queued.item_id])
        newest = max(sugg, key=lambda x: x.suggestion_id) if sugg and not hidden else None
        suggested = newest.spans if newest else []
        return SpanItemView(item_id=queued.item_id, external_id=queued.external_id, text=queued.text,
                            route=queued.route, strategy=queued.strategy, score=queued.score,
                            spans=previous if previous is not None else list(suggested), suggested=list(suggested),
                            suggestion_agent=newest.agent if newest else None, previous=previous)

    def submit_spans(self, project: str, user: str | None, item_id: int, spans: Any, *,
                     comment: str | None = None) -> list[Span]:
        """Save ``user``'s spans for an item (one transaction; a re-answer replaces their old one).

        Args:
            spans: ``[{start, end, label}]`` (or triples / ``Span``), code-point offsets of the item's
                text; ``[]`` says the item has no spans.

        Returns:
            the stored spans, sorted by position.

        Raises:
            ValidationError: a span outside the text, overlapping (unless the project allows it),
                with an unknown label or cutting a character; nothing is written then.
        """
        user = user or self.settings.default_user
        queue = self._svc.queue
        with store.transaction(self.engine, serialized=True) as s:  # teams: one writer decides who may answer
            proj = project_q.get_project(s, project)
            self.require_spans(proj)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.",
                                      fix="pass an item id of this project")
            labels = [lab["name"] for lab in proj.labels]
            checked = validate_spans(item.text, _parse(spans), labels,
                                     allow_overlap=project_settings(proj).allow_overlapping_spans)
            person = project_q.get_or_create_user(s, user)
            self._svc.team.consume_lease(s, proj, item_id, person.id)
            served = queue.take_served(proj.id, user, item_id)
            strategy, score, seconds, route, suggestion_id = (
                served.strategy, served.score, served.seconds, served.route, served.suggestion_id)
            if route == Route.manual.value and suggestion_id is not None \
                    and span_q.suggestion_spans(s, suggestion_id) is not None:
                route = Route.verify.value  # the person saw the suggested spans and kept or corrected them
            value = sorted({sp.label for sp in checked})
            response_q.discard_responses(s, item_id, person.id)
            response_q.add_response(
                s, item_id=item_id, user_id=person.id, value=value, route=route, comment=comment,
                query_strategy=strategy, query_score=score, seconds_spent=seconds, shown_suggestion_id=suggestion_id,
                payload={"spans": _dicts(checked)},
            )
            pid, refit_every = proj.id, project_settings(proj).refit_every
        pool = queue.pools.get(pid)
        if pool is not None:
            pool.add_answer(item_id, user, value)
            if pool.labels_since_refit >= refit_every:
                pool.labels_since_refit = 0
                self.rank_in_background(project)
        return checked

    def undo(self, project: str, user: str | None = None) -> SpanItemView | None:
        """Take back ``user``'s last span answer (kept as discarded) and serve the item again with
        those spans pre-filled; None when there is nothing to undo."""
        user = user or self.settings.default_user
        self._rules(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            person = project_q.get_or_create_user(s, user)
            last = response_q.last_submitted_response(s, proj.id, person.id)
            previous = list((last.payload or {}).get("spans") or []) if last is not None else None
        queued = self._svc.queue.undo(project, user)
        return None if queued is None else self._view(queued, previous=previous or [])

    def item_spans(self, project: str, item_id: int) -> dict[str, Any]:
        """Everything known about one item's spans.

        Returns:
            ``{"item_id", "text", "answers": [{"user", "spans", "route", "source", "submitted_at"}],
            "suggestions": [{"agent", "agent_version", "spans", "score"}], "final": spans of the
            newest answer (None when no one answered)}``; spans as ``[{start, end, label}]``.
        """
        self._rules(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.",
                                      fix="pass an item id of this project")
            answers = span_q.span_answers(s, proj.id, [item_id])
            sugg = span_q.span_suggestions(s, proj.id, [item_id])
        newest = max(answers, key=lambda a: a.response_id) if answers else None
        return {
            "item_id": item_id, "text": item.text,
            "answers": [{"user": a.user, "spans": a.spans, "route": a.route, "source": a.source,
                         "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None} for a in answers],
            "suggestions": [{"agent": x.agent, "agent_version": x.agent_version, "spans": x.spans, "score": x.score}
                            for x in sugg],
            "final": newest.spans if newest else None,
        }

    # ---- imports and exports (service.span_io) ---------------------------------------------------
    def import_file(self, project: str, source: str | Path, *, text_key: str = "text", id_key: str | None = "id",
                    labels_as: str = "response", agent: str = "import", encoding: str | None = None
                    ) -> ImportReport:
        """Import a span file (``importers.span_records`` shapes) in one transaction; see ``span_io``."""
        from annotator.service.span_io import import_span_file

        return import_span_file(self, project, source, text_key=text_key, id_key=id_key, labels_as=labels_as,
                                agent=agent, encoding=encoding)

    def import_records(self, project: str, records: Sequence[Mapping[str, Any]], *, labels_as: str = "response",
                       agent: str = "import") -> ImportReport:
        """Import in-memory span records (same shapes as a file's lines) in one transaction."""
        from annotator.service.span_io import import_span_records

        return import_span_records(self, project, records, labels_as=labels_as, agent=agent)

    def export(self, project: str, *, fmt: str, out: str | Path, only: str | None = None,
               overwrite: bool = False) -> ExportResult:
        """Export the decided spans as jsonl | hf | spacy with a card; atomic like every export."""
        from annotator.service.span_io import export_spans

        return export_spans(self, project, fmt=fmt, out=out, only=only, overwrite=overwrite)

    # ---- AI suggestions ---------------------------------------------------------------------------
    def suggester(self, project: str, name: str = "spacy", label_map: Mapping[str, str] | None = None) -> Any:
        """A span suggester for the project's labels: "spacy" (the offline pipeline, entity types
        mapped to the labels, ``spans.suggest.DEFAULT_SPACY_LABELS`` unless ``label_map``),
        "spacy:MODEL" (another installed pipeline), "llm-local[:MODEL]" or "llm-endpoint" (an LLM
        asked for JSON spans, ``llm.span_suggest``; the endpoint options come from Settings)."""
        _, labels, _ = self._rules(project)
        if name == "spacy" or name.startswith("spacy:"):
            kwargs: dict[str, Any] = {"labels": labels}
            if label_map is not None:
                kwargs["label_map"] = dict(label_map)
            if name.startswith("spacy:"):
                kwargs["model"] = name.split(":", 1)[1]
            return SpacySpanSuggester(**kwargs)
        from annotator.service.span_ai import llm_suggester

        return llm_suggester(self, project, name)  # llm-local[:MODEL] | llm-endpoint, or a clear error

    def suggest(self, project: str, suggester: Any = "spacy", *, label_map: Mapping[str, str] | None = None,
                all_items: bool = False) -> dict[str, Any]:
        """Store a suggester's spans for every item no person answered (``all_items``: every item),
        then re-rank the queue. The suggester needs ``agent`` and ``suggest(texts) -> [[Span]]``.

        An LLM suggester (one with ``suggest_parsed``) also reports what its answers held that did
        not fit: ``"answers": {"items", "unparsed" (no JSON list), "kept", "dropped" (spans not in
        the text, unknown labels, overlaps), "reasons" (the first few)}``; its per-item confidence
        is stored as the suggestion's score.

        Returns:
            ``{"agent", "items", "suggested", "spans", "by_label", "dropped", "ranking"}`` (and
            ``"answers"``); ``dropped`` counts every suggested span left out: broke the project's
            rules (e.g. overlap) or, from an LLM, did not match the text.
        """
        proj, labels, overlap = self._rules(project)
        model = self.suggester(project, suggester, label_map) if isinstance(suggester, str) else suggester
        pool = self._svc.queue.pool(project)
        rows = np.arange(len(pool.item_ids)) if all_items else np.flatnonzero(~pool.labelled)
        ids = [int(i) for i in pool.item_ids[rows]]
        with store.transaction(self.engine) as s:
            texts = span_q.texts_of(s, ids)
        ordered = [texts[i] for i in ids]
        started = time.perf_counter()
        answers = None
        if hasattr(model, "suggest_parsed"):
            parsed = model.suggest_parsed(ordered) if ordered else []
            suggested, item_scores = [p.spans for p in parsed], [p.score for p in parsed]
            answers = {"items": len(parsed), "unparsed": sum(not p.parsed for p in parsed),
                       "kept": sum(len(p.spans) for p in parsed), "dropped": sum(p.dropped for p in parsed),
                       "reasons": [r for p in parsed for r in p.reasons][:10]}
        else:
            suggested = model.suggest(ordered) if ordered else []
            item_scores = [None] * len(suggested)
        stored, dropped, by_label = [], 0, {lab: 0 for lab in labels}
        version = str(getattr(model, "version", None) or getattr(model, "model", ""))
        for item_id, text, spans, item_score in zip(ids, ordered, suggested, item_scores, strict=True):
            kept: list[Span] = []
            for span in sorted(spans):  # the suggester may overlap where the project may not
                try:
                    kept = validate_spans(text, [*kept, span], labels, allow_overlap=overlap)
                except ValidationError:
                    dropped += 1
            for sp in kept:
                by_label[sp.label] += 1
            stored.append({"item_id": item_id, "agent": getattr(model, "agent", "spans"),
                           "agent_version": version, "value": sorted({x.label for x in kept}),
                           "scores": {}, "score": item_score, "route": None, "payload": {"spans": _dicts(kept)}})
        with store.transaction(self.engine) as s:
            response_q.insert_suggestions(s, stored)
        ranking = self.rank(project)
        report = {"agent": getattr(model, "agent", "spans"), "items": len(pool.item_ids), "suggested": len(stored),
                  "spans": sum(by_label.values()), "by_label": by_label,
                  "dropped": dropped + (answers["dropped"] if answers else 0),
                  "seconds": round(time.perf_counter() - started, 3), "ranking": ranking}
        if answers is not None:
            report["answers"] = answers
        return report

    def route(self, project: str, *, agent: str | None = None, policy: Any = None) -> dict[str, Any]:
        """Route the open items by their suggested spans (``service.span_ai.route_spans``): auto
        where the suggester's item-level exact precision is certified on the random human-labelled
        items, a random slice of those audited blind, every other one verified by a person."""
        from annotator.service.span_routing import route_spans

        return route_spans(self, project, agent=agent, policy=policy)

    # ---- review of span disagreements (service.span_review) --------------------------------------
    def disagreements(self, project: str, *, limit: int | None = None, include_settled: bool = False
                      ) -> dict[str, Any]:
        """Items where two or more raters' spans differ, every rater's spans side by side."""
        from annotator.service.span_review import disagreements

        return disagreements(self, project, limit=limit, include_settled=include_settled)

    def settle(self, project: str, reviewer: str, item_id: int, spans: Any, *, comment: str | None = None
               ) -> list[Span]:
        """A reviewer's spans as the item's final answer (route "review"; reviewer or admin role)."""
        from annotator.service.span_review import settle

        return settle(self, project, reviewer, item_id, spans, comment=comment)

    def take(self, project: str, reviewer: str, item_id: int, rater: str, *, comment: str | None = None
             ) -> list[Span]:
        """Settle the item with one rater's spans as they are."""
        from annotator.service.span_review import take

        return take(self, project, reviewer, item_id, rater, comment=comment)

    # ---- the queue ranked by span uncertainty --------------------------------------------------
    def rank(self, project: str) -> dict[str, Any]:
        """Rank the open items by span uncertainty and hand the scores to the queue.

        With people's spans (at least one span and one token outside spans), a ``TokenTagger``
        is fitted on them and items rank by ``item_uncertainty`` (one minus the smallest token
        margin). Before that, where two suggesters answered an item, by their disagreement;
        otherwise the pool keeps its own order (cold start: diverse, then random).

        Returns:
            ``{"strategy", "scored", "fitted_on"}`` (items scored; items the tagger learnt from).
        """
        proj, labels, _ = self._rules(project)
        pool = self._svc.queue.pool(project)
        open_ids = [int(i) for i in pool.item_ids[~pool.labelled]]
        with store.transaction(self.engine) as s:
            answers = span_q.span_answers(s, proj.id)
            newest: dict[int, Any] = {}
            for a in answers:
                if a.item_id not in newest or a.response_id > newest[a.item_id].response_id:
                    newest[a.item_id] = a
            texts = span_q.texts_of(s, [*newest, *open_ids])
            sugg = span_q.span_suggestions(s, proj.id, open_ids) if open_ids else []
        self._ranked.add(proj.id)
        strategy, scores, fitted_on = POOL_STRATEGY, None, 0
        if newest and open_ids:
            tagger = TokenTagger(labels)
            try:
                tagger.fit([texts[i] for i in newest], [_as_spans(a.spans) for a in newest.values()])
                scores = item_uncertainty(tagger.token_proba([texts[i] for i in open_ids]))
                strategy, fitted_on = TAGGER_STRATEGY, len(newest)
            except ValueError:
                scores = None  # no span yet, or nothing outside spans: the tagger cannot learn
        if scores is None and open_ids:
            by_item: dict[int, list[list[Span]]] = {}
            for x in sugg:
                by_item.setdefault(x.item_id, []).append(_as_spans(x.spans))
            pairs = {i: v[:2] for i, v in by_item.items() if len(v) >= 2}
            if pairs:
                ids = list(pairs)
                d = disagreement([pairs[i][0] for i in ids], [pairs[i][1] for i in ids])
                # items only one suggester answered count as unscored (ranked as most uncertain)
                pool.set_item_scores(np.asarray(ids), d, DISAGREEMENT_STRATEGY)
                return {"strategy": DISAGREEMENT_STRATEGY, "scored": len(ids), "fitted_on": 0}
        if scores is None:
            pool.set_item_scores(np.zeros(0, dtype=np.int64), np.zeros(0), POOL_STRATEGY)
            return {"strategy": POOL_STRATEGY, "scored": 0, "fitted_on": 0}
        pool.set_item_scores(np.asarray(open_ids), scores, strategy)
        return {"strategy": strategy, "scored": len(open_ids), "fitted_on": fitted_on}

    def rank_in_background(self, project: str) -> None:
        """``rank`` in a daemon thread (the tagger fits in well under a second on a few hundred
        texts, but not on the answer's hot path); skipped while one is running."""
        if not self._rank_lock.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self.rank(project)
            except Exception:  # noqa: BLE001 - a failed re-rank leaves the old order; the answer is saved
                log.exception("span re-rank of %s failed", project)
            finally:
                self._rank_lock.release()

        threading.Thread(target=run, name="annotator-span-rank", daemon=True).start()

    # ---- agreement --------------------------------------------------------------------------------
    def spans_by_rater(self, project: str, *, include_ai: bool = False) -> dict[str, dict[int, list[Span]]]:
        """``{rater: {item_id: [Span]}}``: each person's newest answer per item (the import user
        left out); with ``include_ai`` each agent's newest suggestion as rater ``ai:<agent>``."""
        proj, _, _ = self._rules(project)
        with store.transaction(self.engine) as s:
            answers = span_q.span_answers(s, proj.id)
            sugg = span_q.span_suggestions(s, proj.id) if include_ai else []
        out: dict[str, dict[int, list[Span]]] = {}
        for a in answers:
            if not a.is_system and a.route != Route.review.value:
                out.setdefault(a.user, {})[a.item_id] = _as_spans(a.spans)
        for x in sugg:
            out.setdefault(f"ai:{x.agent}", {})[x.item_id] = _as_spans(x.spans)
        return out

    def agreement(self, project: str, *, include_ai: bool = False) -> dict[str, Any]:
        """Pairwise span F1 between raters on the items both answered, exact (same start, end and
        label) and overlap (same label, a shared character), per label and per rater.

        Returns:
            ``{"project", "task_type": "spans", "raters", "overlap_items", "exact_f1", "overlap_f1"
            (micro over every pair), "pairs": [{"rater_a", "rater_b", "items", "exact_f1",
            "overlap_f1", "per_label": {label: {"exact": …, "overlap": …}}}], "per_label": [{"label",
            "exact_f1", "overlap_f1", "spans"}], "per_rater": [{"rater", "items", "overlap_items",
            "exact_f1", "overlap_f1"}]}``; each count dict is ``{"f1", "matched", "spans_a", "spans_b"}``.

        Raises:
            NotEnoughRatersError: fewer than two raters answered. NoOverlapError: no item has two answers.
        """
        by_rater = self.spans_by_rater(project, include_ai=include_ai)
        if len(by_rater) < 2:
            raise NotEnoughRatersError(f"Span agreement needs two raters; {project!r} has {len(by_rater)}.",
                                       got=", ".join(by_rater) or "(no answers)",
                                       fix="let a second person answer some of the same items (team overlap), "
                                       "or pass --include-ai to compare people with the suggester")
        pairs = pairwise_span_agreement(by_rater)
        if not pairs:
            raise NoOverlapError("No item was answered by two raters.", got=f"{len(by_rater)} raters, no shared item",
                                 fix=f"set an overlap (python -m annotator overlap --project {project} --fraction "
                                 "0.2) so some items get two answers")
        labels = self._rules(project)[1]
        shared = set().union(*({i for i in by_rater[p.a]} & {i for i in by_rater[p.b]} for p in pairs))
        exact_all = _sum([p.exact.get("*", Counts()) for p in pairs])
        overlap_all = _sum([p.overlap.get("*", Counts()) for p in pairs])
        per_label = []
        for lab in labels:
            ex = _sum([p.exact.get(lab, Counts()) for p in pairs])
            ov = _sum([p.overlap.get(lab, Counts()) for p in pairs])
            per_label.append({"label": lab, "exact_f1": _counts_dict(ex)["f1"], "overlap_f1": _counts_dict(ov)["f1"],
                              "spans": ex.n_a + ex.n_b})
        per_rater = []
        for rater in sorted(by_rater):
            mine = [p for p in pairs if rater in (p.a, p.b)]
            ex = _sum([p.exact.get("*", Counts()) for p in mine])
            ov = _sum([p.overlap.get("*", Counts()) for p in mine])
            items = set(by_rater[rater])
            others = set().union(*(set(v) for k, v in by_rater.items() if k != rater))
            per_rater.append({"rater": rater, "items": len(items), "overlap_items": len(items & others),
                              "exact_f1": _counts_dict(ex)["f1"], "overlap_f1": _counts_dict(ov)["f1"]})
        return {
            "project": project, "task_type": TaskType.spans.value, "include_ai": include_ai,
            "raters": sorted(by_rater), "overlap_items": len(shared),
            "exact_f1": _counts_dict(exact_all)["f1"], "overlap_f1": _counts_dict(overlap_all)["f1"],
            "pairs": [{"rater_a": p.a, "rater_b": p.b, "items": p.items,
                       "exact_f1": _counts_dict(p.exact.get("*", Counts()))["f1"],
                       "overlap_f1": _counts_dict(p.overlap.get("*", Counts()))["f1"],
                       "per_label": {lab: {"exact": _counts_dict(p.exact[lab]), "overlap": _counts_dict(p.overlap[lab])}
                                     for lab in p.exact if lab != "*"}} for p in pairs],
            "per_label": per_label, "per_rater": per_rater,
        }

    def suggester_precision(self, project: str) -> dict[str, dict[str, Any]]:
        """Each suggester's exact-match span precision and recall against people's spans, on the
        items people answered (the newest answer per item, imported ones included, is the reference):
        ``{agent: {"items", "precision", "recall", "matched", "suggested", "people"}}``."""
        proj, _, _ = self._rules(project)
        with store.transaction(self.engine) as s:
            answers = span_q.span_answers(s, proj.id)
            sugg = span_q.span_suggestions(s, proj.id)
        people: dict[int, Any] = {}
        for a in answers:
            if a.item_id not in people or a.response_id > people[a.item_id].response_id:
                people[a.item_id] = a
        reference = {i: _as_spans(a.spans) for i, a in people.items()}
        by_agent: dict[str, dict[int, list[Span]]] = {}
        for x in sugg:
            by_agent.setdefault(x.agent, {})[x.item_id] = _as_spans(x.spans)
        out: dict[str, dict[str, Any]] = {}
        for agent, items in sorted(by_agent.items()):
            shared = len(set(items) & set(reference))
            if not shared:
                continue
            c = span_f1(items, reference, match="exact").get("*", Counts())
            out[agent] = {"items": shared, "matched": c.matched, "suggested": c.n_a, "people": c.n_b,
                          "precision": round(c.matched / c.n_a, 4) if c.n_a else None,
                          "recall": round(c.matched / c.n_b, 4) if c.n_b else None}
        return out
