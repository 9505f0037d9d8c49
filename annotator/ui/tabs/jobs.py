"""The Jobs tab: start and cancel background jobs, watch their progress, see the model
versions with their held-out accuracy and which one is promoted.

Everything comes from the service (``submit_job``, ``cancel_job``, ``list_jobs``,
``model_versions``); the jobs run in the app's job consumer or a worker, never in the handler.
A ``gr.Timer`` polls the list every 2 s, but only while a job of the project is queued or running:
it switches itself off when they are all finished.

Events (listed in ``annotator.ui.auth.POLICY``): ``jobs`` (refresh; opening the tab does the
same), ``submit_job``, ``cancel_job``; the timer's tick (``JobsTab.on_tick``).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import ValidationError
from annotator.core.schema import JobStatus
from annotator.jobs.kinds import JOB_KINDS
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab, need_project

if TYPE_CHECKING:
    from annotator.service import AnnotatorService


#: Kinds a person may start from the app (export has its own tab).
#: The kinds one starts from the tab (an export has its own tab), the usual one first.
KINDS = ("finetune", *(k for k in JOB_KINDS if k not in ("finetune", "export")))
ACTIVE = (JobStatus.queued, JobStatus.running)


def jobs_table(jobs: list[Any]) -> str:
    """The job list (schema.JobInfo) as an HTML table with a progress bar per job."""
    if not jobs:
        return '<p class="jobs-empty">No jobs yet.</p>'
    rows = []
    for j in jobs:
        pct = round(100 * float(j.progress))
        when = j.created_at.strftime("%Y-%m-%d %H:%M:%S") if j.created_at else ""
        bar = (f'<div style="background:#e2e8f0;border-radius:4px;width:120px;height:10px">'
               f'<div style="background:#2563eb;border-radius:4px;height:10px;width:{pct}%"></div></div>')
        rows.append(f'<tr data-job="{j.id}" data-status="{escape(str(j.status))}"><td>{j.id}</td><td>{escape(j.kind)}</td>'
                    f'<td class="job-status">{escape(str(j.status))}</td><td>{bar} {pct}%</td>'
                    f"<td>{escape(j.message or '')}</td><td>{when}</td></tr>")
    head = "".join(f"<th>{c}</th>" for c in ("id", "kind", "status", "progress", "message", "created"))
    return f'<table class="dash-table" id="jobs-table"><tr>{head}</tr>{"".join(rows)}</table>'


def versions_table(versions: list[Any]) -> str:
    """Model versions (schema.ModelVersionInfo), newest first."""
    if not versions:
        return '<p class="jobs-empty">No model versions yet: start a fine-tune or a refit.</p>'
    rows = []
    for v in reversed(versions):
        m = v.metrics or {}
        acc = m.get("heldout_accuracy")
        base = m.get("baseline_accuracy")
        acc_text = "" if acc is None else f"{acc:.1%}"
        base_text = "" if base is None else escape(f"{m.get('baseline')}: {base:.1%}")
        flag = "promoted" if v.promoted else ""
        rows.append(f"<tr><td>{escape(v.kind)}</td><td>v{v.version}</td><td>{flag}</td><td>{acc_text}</td>"
                    f"<td>{m.get('heldout_n', '')}</td><td>{m.get('train_n', '')}</td><td>{base_text}</td>"
                    f"<td>{escape(str(m.get('reason', '')))}</td></tr>")
    head = "".join(f"<th>{c}</th>" for c in ("model", "version", "", "held-out acc.", "held-out n", "train n",
                                              "baseline", "decision"))
    return f'<table class="dash-table" id="versions-table"><tr>{head}</tr>{"".join(rows)}</table>'


class JobsTab(Tab):
    """The Jobs tab. ``render()`` inside the page's ``gr.Tab``, then ``wire(page)``."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    def render(self) -> None:
        with gr.Row(equal_height=True):
            self.kind_dd = gr.Dropdown(list(KINDS), value="finetune", label="Job", scale=1, elem_id="jobs-kind")
            self.submit_btn = gr.Button("Start", variant="primary", scale=0, min_width=100, elem_id="jobs-start")
            self.job_id = gr.Number(label="Job id", precision=0, scale=1, elem_id="jobs-id")
            self.cancel_btn = gr.Button("Cancel job", scale=0, min_width=120, elem_id="jobs-cancel")
            self.refresh_btn = gr.Button("Refresh", scale=0, min_width=100, elem_id="jobs-refresh")
        self.status_html = gr.HTML("", elem_id="jobs-status")
        self.jobs_html = gr.HTML('<p class="jobs-hint">Open this tab or press Refresh.</p>', elem_id="jobs-list")
        with gr.Accordion("Model versions", open=True):
            self.versions_html = gr.HTML("", elem_id="jobs-versions")
        self.timer = gr.Timer(2.0, active=False)

    def outputs(self) -> list[Any]:
        return [self.status_html, self.jobs_html, self.versions_html, self.timer]

    def wire(self, page: Page) -> None:
        out = self.outputs()
        self.refresh_btn.click(self.on_refresh, [page.project_dd], out, api_name="jobs")
        page.tab["jobs"].select(self.on_refresh, [page.project_dd], out, api_name=False, show_progress="hidden")
        self.submit_btn.click(self.on_submit, [page.project_dd, self.kind_dd], out, api_name="submit_job")
        self.cancel_btn.click(self.on_cancel, [page.project_dd, self.job_id], out, api_name="cancel_job")
        self.timer.tick(self.on_tick, [page.project_dd], out, api_name=False, show_progress="hidden")

    # ------------------------------------------------------------------ handlers
    def on_refresh(self, project: str | None) -> Updates:
        return self.guarded(lambda: self._view(project))

    def on_tick(self, project: str | None) -> Updates:
        return self.guarded(lambda: self._view(project))

    def on_submit(self, project: str | None, kind: str) -> Updates:
        def run() -> Updates:
            job = self.service.jobs.submit(kind, need_project(project))
            return self._view(project, f"Job {job.id} ({kind}) {job.status}.")

        return self.guarded(run)

    def on_cancel(self, project: str | None, job_id: float | None) -> Updates:
        def run() -> Updates:
            if job_id is None:
                raise ValidationError("No job id to cancel.", fix="type the id of a queued or running job")
            job = self.service.jobs.cancel(int(job_id))
            return self._view(project, f"Job {job.id}: {job.message}")

        return self.guarded(run)

    # ------------------------------------------------------------------ helpers
    def _view(self, project: str | None, note: str = "") -> Updates:
        jobs = self.service.jobs.list_jobs(need_project(project), limit=30)
        versions = self.service.models.model_versions(project)
        busy = any(str(j.status) in ACTIVE and j.finished_at is None for j in jobs)
        return {self.status_html: render.note_box(note), self.jobs_html: jobs_table(jobs),
                self.versions_html: versions_table(versions), self.timer: gr.Timer(active=busy)}

    def error_updates(self, message: str) -> Updates:
        """A refused action also stops the progress poll."""
        return {**super().error_updates(message), self.timer: gr.Timer(active=False)}
