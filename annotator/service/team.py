"""Team work: leases, assignments, overlap for agreement and per-person figures."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.active.pool import LabelPool
from annotator.core.errors import (
    AgreementError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from annotator.core.schema import (
    ProjectSettings,
)
from annotator.service.common import (
    _gc_paused,
    _load_assignments,
    _required_answers,
    _TeamSync,
)
from annotator.service.part import ServicePart, project_settings
from annotator.store import browse as browse_q
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import teams as team_q
from annotator.store import users as user_q
from annotator.team import stats as teams_stats

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)


class TeamService(ServicePart):
    """Team work (``svc.team``): items leased to one person at a time, explicit assignments,
    overlap (k answers on a fraction of items) and per-person statistics."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        self.team_sync: dict[int, _TeamSync] = {}  # project id → what the pool last learnt from the store

    #: Items a person's next_item may try to claim before giving up for now (each try is one short
    #: transaction; refusals mean other processes took the items, which the pool then skips).
    MAX_CLAIM_TRIES = 200

    #: Seconds between two looks at the store's leases and new answers (per project and process).
    TEAM_SYNC_S = 0.5

    #: Refusals in one next_item call after which the pool looks at the store again at once.
    RESYNC_AFTER_REFUSALS = 8

    def _sync_team(self, project: str, pool: LabelPool, user: str) -> tuple[int, int, float]:
        """(project id, the person's user id, lease seconds); every TEAM_SYNC_S also tells the pool
        what other processes did meanwhile (their live leases, their answers), so it proposes items
        the store will grant instead of trying them one transaction at a time."""
        pid = next((p for p, known in list(self._svc.queue.pools.items()) if known is pool), None)
        if pid is None:  # the pool was dropped meanwhile (an import): this call still serves from it
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
        state = self.team_sync.setdefault(pid, _TeamSync())
        person_id = state.people.get(user)
        if person_id is None:
            with store.transaction(self.engine) as s:
                person_id = state.people[user] = project_q.get_or_create_user(s, user).id
        if time.monotonic() - state.at >= self.TEAM_SYNC_S and state.lock.acquire(blocking=False):
            try:  # one thread per process looks; the others go on with what the pool knows
                with store.transaction(self.engine) as s:
                    proj = project_q.get_project(s, project)
                    state.lease_s = 60.0 * project_settings(proj).lease_minutes
                    now = store.tables.utcnow()
                    leases, answers = team_q.sync_state(s, pid, after_response_id=state.synced_to, now=now)
                for response_id, item_id, name, value in answers:
                    with contextlib.suppress(KeyError):  # an item imported after this pool was built
                        pool.add_answer(item_id, name, [v for v in value if v in pool.label_names] or None)
                    state.synced_to = max(state.synced_to, response_id)
                pool.sync_elsewhere([(i, name, (t - now).total_seconds()) for i, name, t in leases])
                state.at = time.monotonic()
            finally:
                state.lock.release()
        return pid, person_id, state.lease_s

    def claim_next(self, project: str, pool: LabelPool, user: str):  # noqa: ANN202 - pool.Served | None
        """The pool's best item for ``user`` that the database lets them have (lease written)."""
        pid, person_id, lease_s = self._sync_team(project, pool, user)
        refused: set[int] = set()
        asked_again = False
        for _ in range(self.MAX_CLAIM_TRIES):
            served = pool.next(user, exclude=refused)
            if served is None and not asked_again and pool.clear_elsewhere():
                # the queue looks empty here, but items held by other processes may be free again
                # (released, expired): ask the store once more about each
                asked_again = True
                pool.rerank()
                served = pool.next(user, exclude=refused)
            if served is None:
                return None
            required = int(pool.required[pool.row_of(served.item_id)])
            with store.transaction(self.engine, serialized=True) as s:
                outcome = team_q.claim(s, project_id=pid, item_id=served.item_id, user_id=person_id,
                                       required=required, lease_seconds=lease_s)
            if outcome == team_q.OK:
                return served
            refused.add(served.item_id)
            with pool._lock:
                pool.reserved.drop(pool.row_of(served.item_id), user)
            if len(refused) % self.RESYNC_AFTER_REFUSALS == 0:
                # other processes are ahead of this pool: learn all their leases at once instead of
                # being refused item by item
                self.team_sync[pid].at = float("-inf")
                self._sync_team(project, pool, user)
            if outcome == team_q.FULL:
                pool.mark_done(served.item_id)
            elif outcome == team_q.ANSWERED:
                pool.add_answer(served.item_id, user, None)
            elif outcome == team_q.HELD:
                pool.hold_elsewhere(served.item_id, lease_s)
            elif outcome == team_q.ASSIGNED:
                self._reload_assignments(pid, pool)
        return None

    def consume_lease(self, s, proj, item_id: int, user_id: int) -> None:  # noqa: ANN001
        """Inside submit's serialized transaction: refuse an answer that would give the item more
        answers than it needs (the person's lease ran out and others filled it meanwhile)."""
        pool = self._svc.queue.pools.get(proj.id)
        settings = project_settings(proj)
        if pool is not None:
            required = int(pool.required[pool.row_of(item_id)])
        else:
            required = int(_required_answers(np.asarray([item_id]), settings)[0])
        if not team_q.consume(s, item_id=item_id, user_id=user_id, required=required):

            raise ConflictError(
                f"Item {item_id} already has the {required} answer(s) it needs: your reservation ran out "
                f"({settings.lease_minutes:g} minutes) and other people answered it meanwhile.",
                expected="an answer within lease_minutes of the item being shown",
                fix="take the next item; an admin can raise lease_minutes in the project settings",
            )

    def _reload_assignments(self, project_id: int, pool: LabelPool) -> None:
        with store.transaction(self.engine) as s:
            assigned = team_q.assignments(s, project_id)
        pool.clear_assignees()
        _load_assignments(pool, assigned)
        pool.rerank()

    def required_answers(self, project: str) -> dict[int, int]:
        """item_id → answers the item needs (only items needing more than one: the overlap slice)."""
        pool = self._svc.queue.pool(project)
        rows = np.flatnonzero(pool.required > 1)
        return {int(pool.item_ids[r]): int(pool.required[r]) for r in rows}

    def active_leases(self, project: str) -> list[dict[str, Any]]:
        """Live leases in the store: [{item_id, user, expires_at}], by item id."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            rows = team_q.active_leases(s, pid)
        return [{"item_id": i, "user": name, "expires_at": t} for i, name, t in rows]

    def assign(
        self, project: str, users: str | Sequence[str], *, metadata: str | dict[str, str] | None = None,
        query: str = "", item_ids: Sequence[int] | None = None, label: str | None = None, status: str | None = None,
        unassign: bool = False,
    ) -> dict[str, Any]:
        """Give the items matching a filter to named people, or with ``unassign`` take them back.

        The filter is the browse page's (``store.browse``): ``metadata`` (``"channel=email"`` or a
        dict), ``query`` (text substring or exact external id), ``label``, ``status``, and/or
        explicit ``item_ids``; with no filter at all, every item of the project. An assigned item
        is served only to its assignees, ahead of their ranked queue; others never get it.
        ``unassign`` with no users lifts the matching items' assignments for everyone.

        Returns:
            ``{"project", "users", "items" (matched), "changed" (pairs written or removed), "assigned_items"
            (items assigned in the project now)}``.

        Raises:
            NotFoundError: an unknown user name. ValidationError: ids of another project, or nothing matched.
        """

        names = [u.strip() for u in (users.split(",") if isinstance(users, str) else users) if u and u.strip()]
        if not names and not unassign:
            raise ValidationError("No one to assign the items to.", expected="one or more user names",
                                  fix="pass --user NAME (repeat it, or NAME1,NAME2)")
        filters = browse_q.BrowseFilters(query=(query or "").strip(), label=label or None, status=status or None,
                                         metadata=self._svc.browse.parse_metadata_filter(metadata))
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            known = {u.name: u for u in user_q.list_users(s)}
            missing = [n for n in names if n not in known]
            if missing:
                raise NotFoundError(f"No user named {missing[0]!r}.",
                                    expected="one of: " + (", ".join(sorted(known)) or "(no users yet)"),
                                    fix=f"create the account first: python -m annotator user add {missing[0]}")
            ids: list[int] | None = None
            if item_ids is not None:
                ids = list(dict.fromkeys(int(i) for i in item_ids))
                owners = browse_q.item_projects(s, ids)
                wrong = [i for i in ids if owners.get(i) != proj.id]
                if wrong:
                    raise ValidationError(f"{len(wrong)} ids are not items of project {project!r}.",
                                          got=", ".join(map(str, wrong[:10])), fix="use ids from the browse table")
            if not filters.empty:
                matched = browse_q.matching_ids(s, proj.id, filters)
                ids = matched if ids is None else [i for i in ids if i in set(matched)]
            if ids is None:
                ids = item_q.pool_ids_and_hashes(s, proj.id)[0]
            user_ids = [known[n].id for n in names]
            if unassign:
                changed = team_q.unassign(s, project_id=proj.id, item_ids=ids, user_ids=user_ids or None)
            else:
                if not ids:
                    raise ValidationError("No item matches this filter; nothing was assigned.",
                                          got=f"metadata={filters.metadata or {}} query={filters.query!r}",
                                          fix="check the filter on the browse page first")
                changed = team_q.assign(s, project_id=proj.id, item_ids=ids, user_ids=user_ids)
            pid = proj.id
            total = len(team_q.assignments(s, pid))
        if (pool := self._svc.queue.pools.get(pid)) is not None:
            self._reload_assignments(pid, pool)
        return {"project": project, "users": names, "items": len(ids), "changed": changed, "assigned_items": total}

    def assignments(self, project: str) -> dict[int, list[str]]:
        """item_id → the people it is assigned to."""
        with store.transaction(self.engine) as s:
            return team_q.assignments(s, project_q.get_project(s, project).id)

    def person_stats(self, project: str) -> list[dict[str, Any]]:
        """Per person (people only, not the ``import`` user; reviewers included), sorted by name:

        - ``person``, ``role``; ``labels``: items they answered (submitted, newest answer per item);
        - ``labels_per_hour``: labels / hours spent, hours from ``seconds_spent`` of the timed answers
          (the time from showing an item to the answer; labels_per_hour = timed answers / their hours);
          without timings, labels / the span from their first to their last answer; None when
          neither is measurable;
        - ``median_seconds``: median ``seconds_spent`` per answered item (None without timings);
        - ``skips``: items they skipped; ``undone``: answers they took back;
        - ``agreement``: share of their overlap answers that agree with the other raters (the
          agreement report's per-rater figure) and ``mean_kappa``, None while nobody overlaps them;
        - ``accuracy`` and ``settled_items``: their accuracy on items with a settled label (a
          reviewer's answer, else a strict majority of at least three), None without any;
        - ``first_at``, ``last_at``: their first and last answer (UTC).
        """
        try:
            report = self._svc.quality.agreement(project)
        except AgreementError:
            report = None
        return self._person_stats(project, report)

    def _person_stats(self, project: str, report: dict[str, Any] | None) -> list[dict[str, Any]]:

        with _gc_paused(), store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            records = team_q.answer_records(s, pid, times=False)
            spans = team_q.answer_spans(s, pid, teams_stats.SKIP_SOURCE)
            return teams_stats.person_stats(records, report, spans=spans)

    def team_overview(self, project: str, include_ai: bool = False) -> dict[str, Any]:
        """What the app's Team tab shows (admins and reviewers): agreement, per-person figures and
        the overlap settings, from one agreement computation.

        Args:
            include_ai: count the AI annotators as raters next to people (their newest suggestion per
                item; raters ``ai:<agent>``), in the agreement figures and in each person's agreement.

        Returns:
            ``agreement``: ``agreement()``'s dict, or None while it cannot be measured, with
            ``agreement_note`` saying why (fewer than two raters, no item with two answers) and how
            to change that; ``people``: ``person_stats`` rows (each person's agreement and accuracy
            from that same report); ``overlap``: ``{"fraction", "k", "lease_minutes"}``, the project's
            settings; ``assigned_items``: items assigned to named people; ``people_names``: every
            account's name (to assign to).
        """
        _summary, _guidelines, settings = self._svc.projects.project_details(project)
        try:
            report: dict[str, Any] | None = self._svc.quality.agreement(project, include_ai=include_ai)
            note = None
        except AgreementError as e:
            report, note = None, e.message
        return {
            "project": project, "include_ai": include_ai, "agreement": report, "agreement_note": note,
            "people": self._person_stats(project, report),
            "overlap": {"fraction": settings.overlap_fraction, "k": settings.overlap_k,
                        "lease_minutes": settings.lease_minutes},
            "assigned_items": len(self.assignments(project)),
            "people_names": [u.name for u in self._svc.accounts.list_users()],
        }

    def set_overlap(self, project: str, fraction: float | None = None, k: int | None = None) -> ProjectSettings:
        """Change the overlap (``k`` answers from different people for a ``fraction`` of the items; 0 turns
        it off); None keeps a value. Items already answered that now need more answers return to
        the queue.

        Raises:
            ValidationError: fraction outside [0, 1] or k outside 2..20 (or not whole).
        """
        changes: dict[str, Any] = {}
        if fraction is not None:
            changes["overlap_fraction"] = float(fraction)
        if k is not None:
            if float(k) != int(float(k)):
                raise ValidationError(f"overlap k must be a whole number, got {k!r}.", expected="an integer 2..20",
                                      fix="type e.g. 3")
            changes["overlap_k"] = int(float(k))
        try:
            return self._svc.projects.update_project_settings(project, **changes)
        except ValueError as e:  # pydantic's ValidationError: a value out of range
            raise ValidationError(
                "Cannot save these overlap settings.", got=", ".join(f"{key}={v}" for key, v in changes.items()),
                expected="overlap fraction in [0, 1] and k (answers per overlap item) in 2..20",
                fix="e.g. fraction 0.1 and k 3: one item in ten gets three answers") from e
