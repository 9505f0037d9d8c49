"""The labelling queue: the in-memory label pools, what to show next, answers, skips and undo."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from annotator import store
from annotator.active.pool import LabelPool
from annotator.core.errors import (
    EmptyPoolError,
    ValidationError,
)
from annotator.core.schema import (
    LabelSpec,
    Progress,
    QueuedItem,
    ResponseSource,
    Route,
    SuggestionView,
    TaskType,
)
from annotator.service.common import (
    ProgressFn,
    _load_assignments,
    _required_answers,
    _TeamSync,
)
from annotator.service.part import ServicePart, project_settings
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store import teams as team_q

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)

#: Served-but-unanswered items remembered for their provenance (strategy, route, shown suggestion).
MAX_OPEN_SERVED = 100_000


@dataclass(frozen=True)
class Served:
    """How the item a person answers was served to them (all None / manual when it was not)."""

    strategy: str | None = None
    score: float | None = None
    seconds: float | None = None  #: from serving to the answer
    route: str = Route.manual.value
    suggestion_id: int | None = None  #: the suggestion shown (or hidden, on blind and audit routes)


class QueueService(ServicePart):
    """The labelling loop (``svc.queue``): one label pool per project, the next item for a person,
    submit / skip / undo, and the classifier refit scheduled after every few labels."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        self.pools: dict[int, LabelPool] = {}
        self.pool_lock = threading.Lock()
        self._refits: dict[int, Future] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotator-refit")
        # (project id, user, item id) → what that person was shown: item, when, why, route, suggestion id.
        # Keyed by item, not just by person: the page pre-fetches the next item, and simulate serves a
        # batch before answering it, so several served items can be open at once per person.
        self.served_at: dict[tuple[int, str, int], tuple[int, float, str, float | None, str, int | None]] = {}

    def shutdown(self) -> None:
        """Stop the refit thread; a refit in progress finishes, queued ones are dropped."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def pool(self, project: str, *, progress: ProgressFn | None = None) -> LabelPool:
        """The project's in-memory pool, built on first use (embeds what is not cached yet)."""
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
        with self.pool_lock:
            pool = self.pools.get(proj.id)
            if pool is None:
                pool = self._build_pool(proj, progress=progress)
                self.pools[proj.id] = pool
        self._svc.ai.sync_promoted(proj.id, pool)  # a promoted fine-tuned model ranks the queue
        return pool

    def _build_pool(self, proj, *, progress: ProgressFn | None) -> LabelPool:  # noqa: ANN001
        with store.transaction(self.engine) as s:
            ids, hashes = item_q.pool_ids_and_hashes(s, proj.id)
            labelled = response_q.labelled_values(s, proj.id)
            synced_to = team_q.newest_response_id(s)  # teams: later answers reach the pool by _sync_team
            answerers = team_q.answerers_by_item(s, proj.id)  # teams: who answered what
            assigned = team_q.assignments(s, proj.id)
        if not ids:
            raise EmptyPoolError(
                f"Project {proj.name!r} has no items to label.",
                fix=f"import a file first: python -m annotator import FILE --project {proj.name} --text-column COL",
            )
        vectors = self._svc.embeddings.embed_ids(ids, hashes, progress=progress)
        specs = [LabelSpec(**lab) for lab in proj.labels]
        label_vectors = self._svc.embeddings.embed_texts([f"{sp.name}: {sp.description}" if sp.description else sp.name
                                          for sp in specs])
        settings = project_settings(proj)
        pool = LabelPool(
            np.asarray(ids), vectors, [sp.name for sp in specs], multi_label=proj.task_type in (TaskType.multi_label, TaskType.spans),
            strategy=settings.strategy, label_embeddings=label_vectors, seed=settings.seed,
            batch_size=settings.batch_size, explore_fraction=settings.random_share,
            lease_seconds=60.0 * settings.lease_minutes, required=_required_answers(np.asarray(ids), settings),
        )
        pool.load_answers(labelled, answerers)  # teams: answers per item (overlap), never twice to one person
        _load_assignments(pool, assigned)
        self._svc.team.team_sync[proj.id] = _TeamSync(synced_to=synced_to)
        self._svc.review.review_reopen(pool, proj.id)  # review: items sent back get one more answer
        pool.refit()
        if proj.task_type == TaskType.preference:  # a judge run before a restart still ranks the queue
            self.rank_by_judges(pool)
        return pool

    def rank_by_judges(self, pool: LabelPool) -> int:
        """Preference projects: rank the queue by the judges' uncertainty (and diversity) as read
        from each open item's newest stored suggestion (its ``scores``: label → probability); the
        pool's own order stays while no judge has answered. Returns how many items have a verdict."""
        open_ids = pool.item_ids[~pool.labelled].tolist()
        with store.transaction(self.engine) as s:
            suggestions = response_q.latest_suggestions(s, open_ids) if open_ids else {}
        names = pool.label_names
        ids, rows = [], []
        for item_id, sug in suggestions.items():
            scores = sug.scores or {}
            if not any(n in scores for n in names):
                continue
            ids.append(item_id)
            rows.append([float(scores.get(n, 0.0)) for n in names])
        if not ids and pool.judge_proba is None:
            return 0  # no judge yet: the pool's own order, not ranked twice
        proba = np.asarray(rows, dtype=np.float64).reshape(len(ids), len(names))
        return pool.set_judge_proba(np.asarray(ids, dtype=np.int64), proba)

    def drop_pool(self, project_id: int) -> None:
        with self.pool_lock:
            self.pools.pop(project_id, None)

    def next_item(self, project: str, user: str | None = None) -> QueuedItem | None:
        """The item the person should label next, or None when every item is labelled."""
        user = user or self.settings.default_user
        pool = self.pool(project)
        served = self._svc.team.claim_next(project, pool, user)
        if served is None:
            return None
        return self._queued_item(project, user, served.item_id, served.strategy, served.score, served.model_version,
                                 route=served.route)

    def _queued_item(
        self, project: str, user: str, item_id: int, strategy: str, score: float | None, model_version: int,
        previous: list[str] | None = None, route: str = Route.manual.value,
    ) -> QueuedItem:
        """Blind and audit items never show the AI label (it is revealed after the answer)."""
        with store.transaction(self.engine) as s:
            item = item_q.get_item(s, item_id)
            suggestion = response_q.latest_suggestions(s, [item_id]).get(item_id)
        pid = item.project_id
        if len(self.served_at) > MAX_OPEN_SERVED:  # forget the oldest half: abandoned tabs, people gone
            for key in sorted(self.served_at, key=lambda k: self.served_at[k][1])[: MAX_OPEN_SERVED // 2]:
                del self.served_at[key]
        self.served_at[(pid, user, item_id)] = (item_id, time.monotonic(), strategy, score, route,
                                                 suggestion.id if suggestion else None)
        hidden = route in (Route.blind.value, Route.audit.value)
        view = SuggestionView(agent=f"{suggestion.agent}@{suggestion.agent_version}".rstrip("@"),
                              value=suggestion.value, score=suggestion.score, scores=suggestion.scores) \
            if suggestion and not hidden else None
        return QueuedItem(item_id=item_id, external_id=item.external_id, text=item.text, metadata=item.meta,
                          strategy=strategy, score=score, model_version=model_version, suggestion=view,
                          previous_value=previous, route=route)

    def take_served(self, project_id: int, user: str | None, item_id: int) -> Served:
        """Forget that ``item_id`` was served to ``user`` and say how it was (``Served()`` if it was not)."""
        served = self.served_at.pop((project_id, user, item_id), None)
        if not served or served[0] != item_id:
            return Served()
        _, at, strategy, score, route, suggestion_id = served
        return Served(strategy, score, round(time.monotonic() - at, 3), route, suggestion_id)

    def submit(
        self, project: str, user: str | None, item_id: int, value: Sequence[str], *, comment: str | None = None,
        flagged: bool = False, source: str = "human", route: str | None = None,
    ) -> SuggestionView | None:
        """Save a person's answer (one transaction), update the pool, and refit in the background
        every ``refit_every`` labels. Never waits for the refit.

        ``route`` defaults to the route the item was served with (manual, verify, blind, audit).

        Returns:
            for an item served ``blind`` or ``audit`` with an AI suggestion hidden from the person,
            that suggestion, revealed now that the answer is stored (for the record); else None.
        """
        user = user or self.settings.default_user
        with store.transaction(self.engine, serialized=True) as s:  # teams: one writer decides who may answer
            proj = project_q.get_project(s, project)
            value = self.validate_value(proj, value)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            person = project_q.get_or_create_user(s, user)
            self._svc.team.consume_lease(s, proj, item_id, person.id)
            served = self.take_served(proj.id, user, item_id)
            strategy, score, seconds, served_route, suggestion_id = (
                served.strategy, served.score, served.seconds, served.route, served.suggestion_id)
            response_q.discard_responses(s, item_id, person.id)  # a re-answer replaces the old one
            response_q.add_response(
                s, item_id=item_id, user_id=person.id, value=value, source=source, route=route or served_route,
                comment=comment, flagged=flagged, query_strategy=strategy, query_score=score,
                seconds_spent=seconds, shown_suggestion_id=suggestion_id,
            )
            settings = project_settings(proj)
            refit_every, finetune_every = settings.refit_every, settings.finetune_every
            pid = proj.id
            revealed = None
            if suggestion_id is not None and served_route in (Route.blind.value, Route.audit.value):
                hidden = response_q.latest_suggestions(s, [item_id]).get(item_id)
                if hidden is not None:
                    revealed = SuggestionView(agent=f"{hidden.agent}@{hidden.agent_version}".rstrip("@"),
                                              value=list(hidden.value), score=hidden.score,
                                              scores=dict(hidden.scores or {}))
        pool = self.pools.get(pid)
        if pool is not None:
            pool.add_answer(item_id, user, value)
            if pool.labels_since_refit >= refit_every:
                self.schedule_refit(project)
            if finetune_every and pool.n_labelled % finetune_every == 0:  # the full check reads the jobs table
                self._svc.models.maybe_start_finetune(project, int(pool.n_labelled))
        return revealed

    def validate_value(self, proj, value: Sequence[str]) -> list[str]:  # noqa: ANN001
        if proj.task_type == TaskType.spans:  # an answer there is spans, not label names
            raise ValidationError(f"Project {proj.name!r} is a span project: its answers are spans.",
                                  expected='[{"start": int, "end": int, "label": str}, …]',
                                  got=f"labels {list(value)!r}", fix="submit with svc.spans.submit_spans")
        allowed = [lab["name"] for lab in proj.labels]
        value = list(dict.fromkeys(value))
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValidationError(
                f"Unknown label {unknown[0]!r} for project {proj.name!r}.", expected=" | ".join(allowed),
                fix="pick one of the project's labels",
            )
        if not value:
            raise ValidationError("An answer needs at least one label.", fix="pick a label, or skip the item")
        if proj.task_type == TaskType.single_label and len(value) > 1:
            raise ValidationError("This is a single-label project: pick exactly one label.", got=", ".join(value))
        return value

    def skip(self, project: str, user: str | None, item_id: int) -> None:
        """Put the item aside for this session; it comes back when the queue runs out. The skip is
        kept (a discarded response with source ``skip``) for the per-person figures, and the
        person's lease on the item returns it to the queue for others."""

        user = user or self.settings.default_user
        pool = self.pool(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            person = project_q.get_or_create_user(s, user)
            team_q.release(s, project_id=proj.id, user_id=person.id, item_id=item_id)
            response_q.add_response(s, item_id=item_id, user_id=person.id, value=[], status="discarded",
                                    source=ResponseSource.skip.value, route=Route.manual.value)
            self.served_at.pop((proj.id, user, item_id), None)
        pool.skip(item_id, user)

    def undo(self, project: str, user: str | None = None) -> QueuedItem | None:
        """Take back the person's last answer: it is discarded (kept for the record) and the item is
        served again with the old value pre-selected, editable. Triggers a refit."""
        user = user or self.settings.default_user
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            person = project_q.get_or_create_user(s, user)
            last = response_q.last_submitted_response(s, proj.id, person.id)
            if last is None:
                return None
            previous = list(last.value)
            response_q.discard_responses(s, last.item_id, person.id)
            item_id, strategy, score = last.item_id, last.query_strategy or "undo", last.query_score
            still = response_q.latest_responses(s, [item_id]).get(item_id)
        pool = self.pool(project)
        pool.remove_answer(item_id, user, still.value if still else None)
        with pool._lock:  # keep the item for this person
            pool.reserved[pool.row_of(item_id)] = user
        self.schedule_refit(project)
        return self._queued_item(project, user, item_id, strategy, score, pool.model_version, previous=previous)

    def schedule_refit(self, project: str) -> Future:
        """Refit the project's classifier in the background (at most one pending per project)."""
        pool = self.pool(project)
        pid = self._svc.projects.project(project).id
        pending = self._refits.get(pid)
        if pending is not None and not pending.done():
            return pending
        future = self._executor.submit(pool.refit)
        self._refits[pid] = future
        return future

    def refit_now(self, project: str) -> bool:
        """Refit in the calling thread (simulation, CLI); False while the project is still cold."""
        self.wait_for_refit(project)
        return self.pool(project).refit()

    def wait_for_refit(self, project: str, timeout: float | None = 60) -> None:
        pid = self._svc.projects.project(project).id
        if (future := self._refits.get(pid)) is not None:
            future.result(timeout=timeout)

    def progress(self, project: str, *, own_answers_of: str | None = None) -> Progress:
        """Labelled / total, counts by label and by person, the model's state.

        ``own_answers_of``: a person's name (an annotator's page in a team): ``by_label`` counts only
        their own answers and ``by_user`` names only them, so the page shows nobody else's answers
        or name; ``total`` and ``labelled`` stay the project's.
        """
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            counts = project_q.project_counts(s, proj.id)
            if own_answers_of:
                uid = project_q.user_id(s, own_answers_of)
                by_label = response_q.label_counts_of_user(s, proj.id, uid) if uid is not None else {}
                by_user_id = {uid: response_q.counts_by_user(s, proj.id).get(uid, 0)} if uid is not None else {}
            else:
                by_label = response_q.label_counts(s, proj.id)
                by_user_id = response_q.counts_by_user(s, proj.id)
            names = project_q.user_names(s, set(by_user_id))
        pool = self.pools.get(proj.id)
        pending = self._refits.get(proj.id)
        return Progress(
            total=counts["items"], labelled=counts["labelled"],
            by_label={lab["name"]: by_label.get(lab["name"], 0) for lab in proj.labels},
            by_user={names.get(uid, str(uid)): n for uid, n in by_user_id.items()},
            model_version=pool.model_version if pool else 0,
            labels_since_refit=pool.labels_since_refit if pool else 0,
            refitting=bool(pending and not pending.done()),
        )

    def release(self, project: str, user: str | None = None) -> None:
        """Forget which items ``user`` was shown (page reload), so they can be served again."""
        user = user or self.settings.default_user
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            person = project_q.get_or_create_user(s, user)
            team_q.release(s, project_id=pid, user_id=person.id)  # teams: the leases return the items
        if (pool := self.pools.get(pid)) is not None:
            pool.release(user)
