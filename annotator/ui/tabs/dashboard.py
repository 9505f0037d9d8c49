"""The Dashboard tab: how the labelling goes, in six plotly figures and a few numbers.

Headline numbers (items, people's labels and answers, model versions, the audit estimate, suspect
labels found / changed), the stopping signal in plain words, then the figures of
``annotator.reporting`` (learning curve, reliability diagram, route mix and coverage, audit
estimate over time, prediction stability per refit, labels per hour), the suspect labels and the
job list. Everything comes from ``service.quality.dashboard``; this module only lays it out.

Events (each listed in ``annotator.ui.auth.POLICY``): ``dashboard`` (the refresh button; opening
the tab does the same), ``find_suspects`` (search the people's labels for confident
contradictions and send them to the review queue), ``dashboard_report`` (the HTML report as a
download).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import AnnotatorError
from annotator.reporting import FIGURE_TITLES, dashboard_figures
from annotator.reporting.html import jobs_html, summary_html, suspects_html
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab, need_project

if TYPE_CHECKING:
    from annotator.service import AnnotatorService



class DashboardTab(Tab):
    """The Dashboard tab. ``render()`` inside the page's ``gr.Tab``, then ``wire(page)``."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        with gr.Row(equal_height=True):
            self.refresh_btn = gr.Button("Refresh", variant="primary", scale=0, min_width=120, elem_id="dash-refresh")
            self.suspects_btn = gr.Button("Find suspect labels", scale=0, min_width=180, elem_id="dash-suspects-btn")
            self.report_btn = gr.Button("HTML report", scale=0, min_width=140, elem_id="dash-report-btn")
            self.status_html = gr.HTML("", elem_id="dash-status")
        self.summary_html = gr.HTML("<p>Open this tab or press Refresh to load the dashboard.</p>",
                                    elem_id="dash-summary")
        keys = list(FIGURE_TITLES)
        self.plots: dict[str, gr.Plot] = {}
        for left, right in zip(keys[::2], keys[1::2]):
            with gr.Row():
                for key in (left, right):
                    # The figure carries its own title (the report shows the same figures), so no label here.
                    self.plots[key] = gr.Plot(label=FIGURE_TITLES[key], show_label=False, elem_id=f"dash-plot-{key}")
        with gr.Accordion("Suspect labels", open=False):
            self.suspects_html = gr.HTML("", elem_id="dash-suspects")
        with gr.Accordion("Jobs", open=True):
            self.jobs_html = gr.HTML("", elem_id="dash-jobs")
        self.report_file = gr.File(label="Report", interactive=False, visible=False, elem_id="dash-report-file")

    def outputs(self) -> list[Any]:
        return [self.status_html, self.summary_html, *self.plots.values(), self.suspects_html, self.jobs_html]

    def wire(self, page: Page) -> None:
        """Connect the events; ``ui`` is the AnnotatorUI (project dropdown, the tab)."""
        out = self.outputs()
        self.refresh_btn.click(self.on_refresh, [page.project_dd], out, api_name="dashboard")
        page.tab["dashboard"].select(self.on_refresh, [page.project_dd], out, api_name=False, show_progress="hidden")
        self.suspects_btn.click(self.on_find_suspects, [page.project_dd], out, api_name="find_suspects")
        self.report_btn.click(self.on_report, [page.project_dd], [self.report_file, self.status_html],
                              api_name="dashboard_report")

    # ------------------------------------------------------------------ handlers
    def on_refresh(self, project: str | None) -> Updates:
        return self.guarded(lambda: self._view(project))

    def on_find_suspects(self, project: str | None) -> Updates:
        def run() -> Updates:
            found = self.service.quality.find_suspects(need_project(project, "No project to show."))
            view = self._view(project)
            view[self.status_html] = render.note_box(
                f"Found {len(found)} suspect labels; they are in the review queue with their reason.")
            return view

        return self.guarded(run)

    def on_report(self, project: str | None) -> Updates:
        try:
            name = need_project(project, "No project to show.")
            folder = Path(tempfile.mkdtemp(prefix="annotator-report-"))
            path = self.service.quality.write_report(name, folder / f"{name}-report.html")
        except AnnotatorError as e:
            return {self.report_file: gr.update(visible=False), self.status_html: render.error_box(e.message)}
        return {self.report_file: gr.update(value=str(path), visible=True),
                self.status_html: render.note_box(f"Report written: {path.name}")}

    # ------------------------------------------------------------------ helpers

    def _view(self, project: str | None) -> Updates:
        d = self.service.quality.dashboard(need_project(project, "No project to show."))
        figures = dashboard_figures(d)
        out: Updates = {self.status_html: "", self.summary_html: summary_html(d),
                        self.suspects_html: suspects_html(d.suspects), self.jobs_html: jobs_html(d.jobs)}
        out.update({self.plots[key]: fig for key, fig in figures.items()})
        return out

