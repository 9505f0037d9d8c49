"""Review: the queue of disputed and flagged items and the reviewers' decisions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.active.pool import LabelPool
from annotator.core.errors import (
    PermissionDeniedError,
    ValidationError,
)
from annotator.core.schema import Role, Route
from annotator.service.common import _gc_paused
from annotator.service.part import ServicePart, project_settings
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store import review as review_q
from annotator.store import users as user_q
from annotator.team import review as rv

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)

#: A cached review queue is assessed again from scratch after this many seconds.
REVIEW_CACHE_TTL_S = 300.0

#: In-place changes (a discarded answer, a resolved request) are looked for this far before the last look.
REVIEW_CACHE_MARGIN = timedelta(minutes=10)


class ReviewService(ServicePart):
    """Review and adjudication (``svc.review``): the review queue (kept between looks so that a
    decision re-assesses only what changed), flags, and accept / correct / settle / send back."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        # project id → every queued item's assessment, kept between looks
        # so that a decision re-assesses only what changed (see _review_assessed).
        self._review_cache: dict[int, _ReviewCache] = {}
        self._review_lock = threading.Lock()

    def queue(self, project: str, *, limit: int | None = None, exclude: Iterable[int] = ()) -> list[Any]:
        """The items that need a reviewer, highest priority first (``annotator.team.review.ReviewEntry``:
        item, reasons, every answer with name, value, seconds and comment, the AI suggestions with
        score and judge score, the current label and how it was settled); the first ``limit`` of
        them, leaving out the ids in ``exclude`` (items the reviewer passed over)."""
        return self._review_overview(project, limit=limit, exclude=exclude)[0]

    def summary(self, project: str, *, top: int = 10, exclude: Iterable[int] = ()) -> dict[str, Any]:
        """Queue length, items per kind of reason, and the ``top`` first entries not in ``exclude``
        (CLI, the Review tab)."""
        entries, counts = self._review_overview(project, limit=top, exclude=exclude)
        return {"project": project, **counts, "top": [e.model_dump(mode="json") for e in entries]}

    def page(self, project: str, *, limit: int | None = None, exclude: Iterable[int] = ()
                    ) -> tuple[list[Any], dict[str, Any]]:
        """The first ``limit`` entries of the review queue not in ``exclude`` and the whole queue's
        counts (``{"items", "by_reason"}``): what the Review tab shows after each decision, without
        building an entry for every queued item."""
        return self._review_overview(project, limit=limit, exclude=exclude)

    def _review_overview(self, project: str, *, limit: int | None, exclude: Iterable[int]) -> tuple[list[Any], dict]:
        with _gc_paused():  # thousands of answers and entries built and kept: see _gc_paused
            return self._review_overview_of(project, limit=limit, exclude=exclude)

    def _review_overview_of(self, project: str, *, limit: int | None, exclude: Iterable[int]
                            ) -> tuple[list[Any], dict]:
        """Every queued item is assessed (counts need them all; kept between calls, see
        ``_review_assessed``); entries are built for the slice shown."""

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            judge_below = project_settings(proj).target_precision
            assessed = self._review_assessed(s, proj.id, judge_below)
            counts = rv.count_reasons(assessed[i][0] for i in assessed)
            skip = {int(i) for i in exclude}
            order = sorted((i for i in assessed if i not in skip), key=lambda i: (-assessed[i][1], i))
            if limit is not None:
                order = order[:limit]
            answers = review_q.answers_of(s, order)
            routed = review_q.routed_suggestion(s, order)
            suggestions = review_q.suggestions_of(s, order)
            items = review_q.items_by_ids(s, order)
        entries = []
        for item_id in order:
            item, (reasons, priority) = items[item_id], assessed[item_id]
            value, how = rv.current_label(answers.get(item_id, []), routed.get(item_id))
            entries.append(rv.ReviewEntry(
                item_id=item_id, external_id=item.external_id, text=item.text, metadata=dict(item.meta or {}),
                reasons=reasons, priority=priority, final_label=value, settled_by=how,
                answers=[rv.ReviewAnswer(user=a.user, role=a.role, value=a.value, route=a.route, seconds=a.seconds,
                                         comment=a.comment, flagged=a.flagged, submitted_at=a.submitted_at,
                                         reviewer=a.route == Route.review)
                         for a in answers.get(item_id, [])],
                suggestions=[rv.ReviewSuggestion(agent=f"{g.agent}@{g.agent_version}".rstrip("@"), value=list(g.value),
                                                 score=g.score, judge_score=g.judge_score, route=g.route)
                             for g in suggestions.get(item_id, [])],
            ))
        return entries, counts

    def _review_assessed(self, s, project_id: int, judge_below: float | None  # noqa: ANN001 - session
                         ) -> dict[int, tuple[list[str], float]]:
        """item_id → (reasons, priority) of every item in the project's review queue.

        Kept per project between calls: a look re-assesses only the items whose responses,
        suggestions or review requests changed since the last one (``store.review.changed_item_ids``),
        so a decision costs one item's assessment, not the whole queue's. The result equals
        ``_review_assess_all`` (tested); the whole queue is assessed again on the first look, when the
        judge threshold changed, and after ``REVIEW_CACHE_TTL_S`` (a safety net for a write committed
        out of id order by a concurrent transaction on PostgreSQL).
        """

        with self._review_lock:
            marks = review_q.queue_marks(s)
            cache = self._review_cache.get(project_id)
            if (cache is None or cache.judge_below != judge_below
                    or time.monotonic() - cache.built_at > REVIEW_CACHE_TTL_S):
                cache = _ReviewCache(judge_below, marks, self._review_assess_all(s, project_id, judge_below))
            else:
                changed = sorted(review_q.changed_item_ids(s, project_id, cache.marks,
                                                           cache.marks.at - REVIEW_CACHE_MARGIN))
                fresh = self._review_assess(s, changed, judge_below)
                for item_id in changed:
                    cache.assessed.pop(item_id, None)
                cache.assessed.update(fresh)
                cache.marks = marks
            self._review_cache[project_id] = cache
            return dict(cache.assessed)

    def _review_assess_all(self, s, project_id: int, judge_below: float | None  # noqa: ANN001 - session
                           ) -> dict[int, tuple[list[str], float]]:
        """Every candidate of the project assessed from scratch (the reference for the cache)."""

        return self._review_assess(s, sorted(review_q.candidate_item_ids(s, project_id, judge_below)), judge_below)

    @staticmethod
    def _review_assess(s, item_ids: Sequence[int], judge_below: float | None  # noqa: ANN001 - session
                       ) -> dict[int, tuple[list[str], float]]:
        """item_id → (reasons, priority) for those of ``item_ids`` that need a reviewer (an item that
        is no candidate assesses to None: it is left out too)."""

        answers = review_q.answers_of(s, item_ids)
        requests = review_q.open_requests(s, item_ids)
        routed = review_q.routed_suggestion(s, item_ids)
        assessed: dict[int, tuple[list[str], float]] = {}
        for item_id in item_ids:
            verdict = rv.assess(answers.get(item_id, []), requests.get(item_id, []), routed.get(item_id),
                                judge_below=judge_below)
            if verdict is not None:
                assessed[item_id] = verdict
        return assessed

    def flag(self, project: str, item_ids: Sequence[int], reason: str, *, score: float | None = None,
                        requested_by: str = "system") -> int:
        """Put items in front of a reviewer with ``reason`` (shown as is, e.g. "suspect label: model
        says 'billing' with p=0.97"); ``score`` is how likely the current label is wrong when known
        (it orders the queue; 0.5 otherwise). Asking again with the same reason while a request is
        open adds nothing. Returns how many requests were added."""

        reason = str(reason).strip()
        if not reason:
            raise ValidationError("A review request needs a reason.", expected="a short text shown to the reviewer",
                                  got="''", fix='e.g. "suspect label: model says \'billing\' with p=0.97"')
        if score is not None and not 0.0 <= float(score) <= 1.0:
            raise ValidationError("A review request's score is a probability.", expected="0 <= score <= 1",
                                  got=str(score), fix="pass how likely the label is wrong, or no score")
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids = [int(i) for i in item_ids]
            self._check_items_in_project(s, pid, project, ids)
            return review_q.add_requests(s, ids, kind=review_q.FLAG, reason=reason, requested_by=requested_by,
                                         score=None if score is None else float(score))

    def accept(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                      comment: str | None = None) -> None:
        """Settle the item with one of the values already given (a person's answer or an AI
        suggestion). Raises ValidationError when nobody gave ``value``; use review_correct for a new one."""
        entry = self.values(project, item_id)
        wanted = sorted(dict.fromkeys(value))
        if wanted not in entry:
            raise ValidationError(
                f"Nobody answered item {item_id} with {', '.join(wanted) or '(nothing)'}.",
                expected=" | ".join(", ".join(v) for v in entry) or "an existing answer",
                got=", ".join(wanted) or "(nothing)", fix="accept one of the answers shown, or correct the label")
        self._review_decide(project, reviewer, item_id, wanted, comment)

    def settle(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                      comment: str | None = None) -> str:
        """Accept ``value`` when someone already gave it, else correct to it (the Review tab's
        numbered keys). Returns "accepted" or "corrected"."""
        if sorted(dict.fromkeys(value)) in self.values(project, item_id):
            self.accept(project, reviewer, item_id, value, comment=comment)
            return "accepted"
        self.correct(project, reviewer, item_id, value, comment=comment)
        return "corrected"

    def correct(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                       comment: str | None = None) -> None:
        """Settle the item with the reviewer's own value (any valid label)."""
        self._review_decide(project, reviewer, item_id, list(value), comment)

    def send_back(self, project: str, reviewer: str, item_id: int, *, comment: str | None = None) -> None:
        """Ask for one more answer: the item leaves the review queue and is served again to people
        who have not answered it; every answer stays. It returns to the queue once answered."""

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            self._require_reviewer(s, reviewer)
            self._check_items_in_project(s, proj.id, project, [item_id])
            review_q.resolve_requests(s, item_id)
            review_q.add_requests(s, [item_id], kind=review_q.SEND_BACK, reason=(comment or "").strip(),
                                  requested_by=reviewer, after_response_id=review_q.newest_response_id(s, item_id))
            pid = proj.id
        if (pool := self._svc.queue.pools.get(pid)) is not None:
            pool.need_another_answer(item_id)

    def _review_decide(self, project: str, reviewer: str, item_id: int, value: list[str],
                       comment: str | None) -> None:

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            person = self._require_reviewer(s, reviewer)
            value = self._svc.queue.validate_value(proj, value)
            self._check_items_in_project(s, proj.id, project, [item_id])
            response_q.discard_responses(s, item_id, person.id)  # a reviewer's new decision replaces theirs
            response_q.add_response(s, item_id=item_id, user_id=person.id, value=value, source="human",
                                    route=Route.review.value, comment=(comment or "").strip() or None,
                                    query_strategy="review")
            review_q.resolve_requests(s, item_id)
            pid, refit_every = proj.id, project_settings(proj).refit_every
        if (pool := self._svc.queue.pools.get(pid)) is not None:
            pool.set_label(item_id, value)  # the decision is the item's label for training too
            if pool.labels_since_refit >= refit_every:
                self._svc.queue.schedule_refit(project)

    def values(self, project: str, item_id: int) -> list[list[str]]:
        """The distinct values given for the item so far (people's answers and AI suggestions), sorted."""

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            self._check_items_in_project(s, pid, project, [item_id])
            values = [a.value for a in review_q.answers_of(s, [item_id]).get(item_id, [])]
            values += [list(g.value) for g in review_q.suggestions_of(s, [item_id]).get(item_id, [])]
        out: list[list[str]] = []
        for v in values:
            if sorted(v) not in out and v:
                out.append(sorted(v))
        return out

    def _require_reviewer(self, s, name: str):  # noqa: ANN001, ANN205 - session, store.User
        """The account of ``name`` when it may review (reviewer or admin), else PermissionDeniedError."""
        if self._svc.accounts.local_admin(s, name):
            return project_q.get_or_create_user(s, name)
        user = user_q.get_user(s, name)
        if user.role not in (Role.reviewer.value, Role.admin.value):
            raise PermissionDeniedError(
                f"User {name!r} ({user.role}) may not review.", expected="role reviewer or admin", got=user.role,
                fix=f"ask an admin: python -m annotator user set-role {name} reviewer")
        return user

    @staticmethod
    def _check_items_in_project(s, pid: int, project: str, item_ids: Sequence[int]) -> None:  # noqa: ANN001

        owners = review_q.project_of_items(s, item_ids)
        wrong = [int(i) for i in item_ids if owners.get(int(i)) != pid]
        if wrong:
            raise ValidationError(
                f"Item {wrong[0]} is not an item of project {project!r}"
                + (f" (and {len(wrong) - 1} more)." if len(wrong) > 1 else "."),
                expected=f"ids of items in project {project!r}", got=", ".join(map(str, wrong[:5])),
                fix="pick item ids from this project (the review queue, browse, or the export's item_id)")

    def review_reopen(self, pool: LabelPool, project_id: int) -> None:
        """On building a pool: items sent back and not answered since are served again."""

        with store.transaction(self.engine) as s:
            sent_back = review_q.sent_back_item_ids(s, project_id)
        for item_id in sent_back:
            pool.need_another_answer(item_id)


class _ReviewCache:
    """One project's review queue between looks: every queued item's (reasons, priority), the
    ``store.review.QueueMarks`` of the last look, the judge threshold it was assessed with, and when
    it was assessed from scratch (``time.monotonic()``)."""

    def __init__(self, judge_below: float | None, marks: Any, assessed: dict[int, tuple[list[str], float]]):
        self.judge_below = judge_below
        self.marks = marks
        self.assessed = assessed
        self.built_at = time.monotonic()
