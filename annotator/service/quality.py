"""Quality: agreement between raters, suspect labels, the dashboard and its report."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.core.errors import (
    AgreementError,
    ValidationError,
)
from annotator.core.schema import Role, Route, TaskType
from annotator.service.common import _gc_paused
from annotator.service.part import ServicePart, project_settings
from annotator.store import projects as project_q
from annotator.store import reports as report_q
from annotator.store import responses as response_q
from annotator.store.reports import as_utc
from annotator.team import agreement as agr

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class QualityService(ServicePart):
    """Measured label quality (``svc.quality``): agreement (people and AI as raters), suspect labels
    found by cross-validation, the dashboard's figures and the HTML report."""

    def agreement(self, project: str, include_ai: bool = False) -> dict[str, Any]:
        """Agreement between the people who answered the same items (and, with ``include_ai``, the
        AI annotators: each agent's newest suggestion per item is its rating, rater ``ai:<agent>``).

        Pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha (nominal), per label
        (one-vs-rest; multi-label projects: each label as a yes/no question, headline figures the
        macro mean), per rater, and each rater's accuracy on items with a settled label: a
        reviewer's answer (people with role ``reviewer`` settle, they do not rate), otherwise the
        strict majority of at least three raters.

        Returns:
            the ``agreement.agreement_report`` dict plus ``project``, ``task_type``, ``labels``,
            ``include_ai``, ``rater_kinds`` (name → person | ai), ``settled_items``, ``settled_by``,
            ``answers_skipped``.

        Raises:
            NotEnoughRatersError: fewer than two raters answered. NoOverlapError: no item has two answers.
        """
        if self._svc.projects.project(project).task_type == TaskType.spans:  # span F1 (svc.spans)
            return self._svc.spans.agreement(project, include_ai=include_ai)
        with _gc_paused():
            return self._agreement(project, include_ai)

    def _agreement(self, project: str, include_ai: bool) -> dict[str, Any]:
        """``agreement`` without the collector pause (see there)."""

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            # review: an admin's decision settles, not rates
            answers, decided = response_q.answers_and_decisions(s, proj.id, Route.review.value)
            suggestions = response_q.suggestions_by_agent(s, proj.id) if include_ai else []
        labels = [lab["name"] for lab in proj.labels]
        multi = proj.task_type == TaskType.multi_label
        reviewer = Role.reviewer.value
        if decided:
            answers = [(i, name, reviewer if (i, name) in decided else role, v) for i, name, role, v in answers]
        rated = [(i, name, v) for i, name, role, v in answers if role != reviewer]
        kinds = {name: "person" for _, name, _ in rated}
        for item_id, agent, value in suggestions:
            rated.append((item_id, f"ai:{agent}", value))
            kinds[f"ai:{agent}"] = "ai"
        order = sorted(kinds, key=lambda name: (kinds[name] == "ai", name))  # people, then AI, by name
        ratings, item_ids, raters, skipped = agr.ratings_from_answers(rated, labels, multi_label=multi, raters=order)
        rows = set(item_ids)
        reviewed, reviewed_ids, _, _ = agr.ratings_from_answers(
            [(i, "reviewer", v) for i, _, role, v in answers if role == reviewer and i in rows], labels,
            multi_label=multi)
        settled, how = agr.settled_labels(ratings, _align(reviewed, reviewed_ids, item_ids))
        if multi:
            report = agr.multilabel_agreement_report(ratings, labels, raters, settled=settled)
        else:
            report = agr.agreement_report(ratings, labels, raters, settled=settled.tolist())
        return {
            "project": proj.name, "task_type": proj.task_type, "labels": labels, "include_ai": include_ai,
            "rater_kinds": {name: kinds[name] for name in raters}, **report,
            "settled_items": int((how > 0).sum()),
            "settled_by": {"reviewer": int((how == 1).sum()), "majority": int((how == 2).sum())},
            "answers_skipped": skipped,
        }

    def card_agreement(self, project: str) -> dict[str, Any] | None:
        """People's agreement for the dataset card; None while no item has two people's answers."""
        try:
            return self.agreement(project)
        except AgreementError:
            return None

    def find_suspects(self, project: str, *, folds: int = 5) -> list[Any]:
        """Human labels that the out-of-fold classifier confidently contradicts (cleanlab's
        ``find_label_issues`` on cross-validated probabilities of the cached embeddings), most
        suspect first. Each is recorded (a Job of kind "suspects") and sent to the review queue
        with its reason, e.g. "suspect label: model says 'billing' with p=0.97 (given 'bug', p=0.02)".

        Returns:
            ``quality.Suspect`` items: item_id, given, model_label, p, given_p, rank, reason.

        Raises:
            ValidationError: a multi-label project. EmptyPoolError: fewer than two labels of two classes.
        """
        from annotator.quality import find_suspects as find

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type == TaskType.multi_label:
                raise ValidationError("Suspect labels are found for single-label projects for now.",
                                      got="a multi-label project", fix="review multi-label answers in the browse page")
            seed = project_settings(proj).seed
            pid = proj.id
        pool = self._svc.queue.pool(project)
        rows = np.flatnonzero(pool.labelled)
        ids = pool.item_ids[rows]
        suspects = find(pool.embeddings[rows], pool.targets[rows].argmax(axis=1), ids, pool.label_names,
                        folds=folds, seed=seed)
        with store.transaction(self.engine) as s:
            answers = report_q.newest_answers(s, [sp.item_id for sp in suspects])
            report_q.record_finished_run(
                s, pid, "suspects",
                {"checked": int(len(rows)), "found": len(suspects),
                 "suspects": [{**sp.as_dict(), "response_id": answers.get(sp.item_id, (None,))[0]} for sp in suspects]},
                message=f"{len(suspects)} suspect labels among {len(rows)} labelled items")
        self._send_suspects_to_review(project, suspects)
        return suspects

    def _send_suspects_to_review(self, project: str, suspects: Sequence[Any]) -> bool:
        """Flag each suspect for review with its own reason; False when there is none (the finding
        stays in the suspects record, which the dashboard lists)."""
        if not suspects:
            return False
        flag = self._svc.review.flag
        for sp in suspects:  # one request each: every suspect has its own reason; score = P(label wrong)
            flag(project, [sp.item_id], sp.reason, score=round(1.0 - sp.given_p, 4), requested_by="suspects")
        return True

    def suspect_report(self, project: str) -> dict[str, Any]:
        """The last suspect search and what people did since: per suspect ``status`` "changed" (a
        newer answer with another label), "confirmed" (a newer answer keeping it) or "pending".

        Returns:
            {"at", "checked", "found", "changed", "confirmed", "pending", "suspects": [...]}; zeros
            and ``at`` None before the first search.
        """

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            run = report_q.latest_run(s, pid, "suspects", with_key="suspects")
            rows = list((run.result or {}).get("suspects", [])) if run else []
            now = report_q.newest_answers(s, [int(r["item_id"]) for r in rows])
        counts = {"changed": 0, "confirmed": 0, "pending": 0}
        out = []
        for r in rows:
            rid, value = now.get(int(r["item_id"]), (None, None))
            if rid is None or rid == r.get("response_id"):
                status = "pending"
            else:
                status = "confirmed" if value == [r["given"]] else "changed"
            counts[status] += 1
            out.append({**r, "status": status, "now": value})
        return {"at": report_q.as_utc(run.finished_at).isoformat(timespec="seconds") if run else None,
                "checked": int((run.result or {}).get("checked", 0)) if run else 0, "found": len(rows), **counts,
                "suspects": out}

    def dashboard(self, project: str) -> Any:
        """The dashboard's figure data (``reporting.Dashboard``), read from the store and the pool.

        Figures: learning curve (model versions; cross-validated while there is none), the last AI
        run's reliability diagram, route mix per run and coverage over time, the audit estimate after
        each audit, the stopping signal (pool predictions changed per refit, with advice), labels
        per hour, the job list and the suspect labels.
        """
        from datetime import UTC, datetime

        from annotator import reporting

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            pid = proj.id
            counts = project_q.project_counts(s, pid)
            settings = project_settings(proj)
            versions = [{"kind": v.kind, "version": v.version, "n_labels": v.n_labels, "metrics": dict(v.metrics or {}),
                         "promoted": v.promoted, "created_at": _iso(v.created_at)}
                        for v in report_q.model_versions(s, pid)]
            jobs = [{"id": j.id, "kind": j.kind, "status": j.status, "progress": j.progress, "message": j.message,
                     "created_at": _iso(j.created_at), "finished_at": _iso(j.finished_at)}
                    for j in report_q.jobs(s, pid)]
            answers = report_q.answer_times(s, pid)
            first_labels = report_q.first_label_times(s, pid)
            routed = report_q.routed_suggestions(s, pid)
            audits = report_q.timed_audit_outcomes(s, pid)
            ordered = report_q.labelled_in_order(s, pid)
            ai_job = report_q.latest_run(s, pid, "ai_summary", with_key="calibration")
            ai_run = {"calibration": ai_job.result.get("calibration"), "judge": ai_job.result.get("judge"),
                      "dataset_accuracy": ai_job.result.get("dataset_accuracy"),
                      "at": _iso(ai_job.finished_at)} if ai_job else None
        names = [lab["name"] for lab in proj.labels]
        multi = proj.task_type == TaskType.multi_label
        X = targets = embeddings = None
        if counts["items"]:
            pool = self._svc.queue.pool(project)
            rows = np.asarray([pool.row_of(i) for i, *_ in ordered if pool.labelled[pool.row_of(i)]], dtype=np.int64)
            X, targets, embeddings = pool.embeddings[rows], pool.targets[rows], pool.embeddings
        return reporting.build_dashboard(
            project=proj.name, now=datetime.now(UTC), items=counts["items"], labelled=counts["labelled"],
            versions=versions, jobs=jobs, answers=answers, first_labels=first_labels, routed=routed, audits=audits,
            label_names=names, X_labelled=X, targets=targets, pool=embeddings, multi_label=multi,
            refit_every=settings.refit_every, seed=settings.seed, ai_run=ai_run, suspects=self.suspect_report(project),
        )

    def write_report(self, project: str, out: str | Path) -> Path:
        """Write the dashboard as one self-contained HTML page (plotly.js embedded) to ``out``."""
        from annotator import reporting

        return reporting.write_report(self.dashboard(project), out)


def _align(table: np.ndarray, ids: Sequence[int], item_ids: Sequence[int]) -> np.ndarray:
    """Rows of ``table`` (one rater column, rows following ``ids``) re-ordered to ``item_ids``,
    NaN where an item has no row: shape (len(item_ids), *table.shape[2:])."""
    out = np.full((len(item_ids), *table.shape[2:]), np.nan)
    row_of = {item_id: k for k, item_id in enumerate(item_ids)}
    for k, item_id in enumerate(ids):
        out[row_of[item_id]] = table[k, 0]
    return out


def _iso(at: Any) -> str | None:
    """A stored time as ISO-8601 UTC text (SQLite drops the zone; it was written in UTC)."""

    return None if at is None else as_utc(at).isoformat(timespec="seconds")
