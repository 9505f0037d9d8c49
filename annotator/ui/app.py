"""The Gradio app as a builder class, in the style of Gradio's own ``chat_interface.py``.

``AnnotatorUI(service).build()`` returns a ``gr.Blocks``: a header (project, annotator) over the
tabs of ``annotator.ui.tabs``, Label first. Each tab lays itself out in ``render`` and wires its
own events in ``wire``; this module builds the page, keeps the events that concern every tab
(opening the page, picking a project or a user) and composes their views.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from annotator.service import AnnotatorService
from annotator.ui import auth
from annotator.ui.components import (
    Page,
    Updates,
    display_html,
    merge_updates,
    no_change,
)
from annotator.ui.keyboard import HEAD
from annotator.ui.program_api import ProgramAPI
from annotator.ui.tabs.admin import AdminTab
from annotator.ui.tabs.ai import AITab
from annotator.ui.tabs.browse import BrowseTab
from annotator.ui.tabs.dashboard import DashboardTab
from annotator.ui.tabs.export import ExportTab
from annotator.ui.tabs.jobs import JobsTab
from annotator.ui.tabs.label import LabelTab
from annotator.ui.tabs.new_project import NewProjectTab, parse_label_specs
from annotator.ui.tabs.review import ReviewTab
from annotator.ui.tabs.spans import SpansTab, is_span_project
from annotator.ui.tabs.tasks import TasksTab
from annotator.ui.tabs.team import TeamTab

STYLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "style.css"
NO_PROJECT = "No project yet: create one in the “New project” tab."


class AnnotatorUI:
    """Builds the annotator's Gradio Blocks.

    Args:
        service: the facade every handler calls.
        project: the project opened first (default: the first one listed).
        user: the annotator name pre-filled in the header (default: the settings' default user).
        refresh_every: seconds between progress / model-version polls.
        auth_mode: ask for a login (default: when any account has a password).
    """

    parse_label_specs = staticmethod(parse_label_specs)

    def __init__(self, service: AnnotatorService, project: str | None = None, *, user: str | None = None,
                 refresh_every: float = 3.0, auth_mode: bool | None = None):
        self.service = service
        # Teams: a login and a role check on every event when any account has a password.
        self.auth_mode = service.accounts.auth_required() if auth_mode is None else auth_mode
        self.project = project
        self.user = user or service.settings.default_user
        self.blocks: gr.Blocks | None = None
        self.label = LabelTab(service, default_user=self.user, auth_mode=self.auth_mode, refresh_every=refresh_every)
        self.spans = SpansTab(service, default_user=self.user, auth_mode=self.auth_mode)
        self.browse = BrowseTab(service, default_user=self.user, auth_mode=self.auth_mode)
        self.ai = AITab(service)
        self.new_project = NewProjectTab(service, default_user=self.user, open_project=self.project_view,
                                         project_outputs=self.project_outputs)
        self.export = ExportTab(service)
        self.review = ReviewTab(service)
        self.team = TeamTab(service)
        self.admin = AdminTab(service, auth_mode=self.auth_mode)
        self.tasks = TasksTab(service)
        self.dashboard = DashboardTab(service)
        self.jobs_panel = JobsTab(service)

    # ------------------------------------------------------------------ build
    def build(self) -> gr.Blocks:
        # Gradio 6 reads css/head/theme in launch(); handing them to the constructor (its deprecated
        # path, still honoured by launch) keeps them working however the caller launches the app.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*moved from the Blocks constructor.*")
            blocks = gr.Blocks(title="annotator", analytics_enabled=False, css=self.css(), head=HEAD,
                               theme=self.theme())
        tabs: list[tuple[str, str, Any]] = [
            ("Label", "label", self.label), ("Browse", "browse", self.browse), ("AI", "ai", self.ai),
            ("New project", "new", self.new_project), ("Export", "export", self.export),
            ("Review", "review", self.review), ("Team", "team", self.team), ("Admin", "admin", self.admin),
            ("Post-training", "tasks", self.tasks), ("Dashboard", "dashboard", self.dashboard),
            ("Jobs", "jobs", self.jobs_panel),
        ]
        with blocks:
            self._render_header()
            page_tabs: dict[str, gr.Tab] = {}
            with gr.Tabs(selected="label", elem_id="main-tabs") as self.tabs:
                for title, tab_id, tab in tabs:
                    with gr.Tab(title, id=tab_id, elem_id=f"tab-{tab_id}") as page_tabs[tab_id]:
                        tab.render()
                        if tab is self.label:  # span projects get their own page in the Label tab
                            self.spans.render(self.label.page_row)
            self.page = Page(blocks=blocks, project_dd=self.project_dd, user_box=self.user_box, tabs=self.tabs,
                             tab=page_tabs)
            self._wire_events()
            ProgramAPI(self.service, auth_mode=self.auth_mode).wire()  # JSON endpoints for scripts
        if self.auth_mode:  # every event checks the login's role (annotator.ui.auth.POLICY)
            auth.protect(blocks, self.service, {self.user_box: auth.login_name,
                                                self.browse.filter_annotator: auth.own_answers_for_annotators})
        self.blocks = blocks
        return blocks

    @staticmethod
    def css() -> str:
        return STYLE_PATH.read_text(encoding="utf-8") if STYLE_PATH.is_file() else ""

    @staticmethod
    def theme() -> gr.themes.Base:
        # Local font stacks only: the page must not wait for a font CDN on an offline machine.
        return gr.themes.Soft(
            primary_hue="indigo", neutral_hue="slate",
            font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
            font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
        )

    def launch_kwargs(self) -> dict[str, Any]:
        """css / head / theme for ``blocks.launch(**ui.launch_kwargs())`` (Gradio 6's preferred place)."""
        return {"css": self.css(), "head": HEAD, "theme": self.theme()}

    def _render_header(self) -> None:
        names = [p.name for p in self.service.projects.list_projects()]
        initial = self.project if self.project in names else (names[0] if names else None)
        with gr.Row(elem_id="ann-header", equal_height=True):
            display_html('<div class="ann-brand">annotator <span>people and AI label text together</span></div>')
            self.project_dd = gr.Dropdown(names, value=initial, label="Project", elem_id="project-dd", scale=0,
                                          min_width=220, interactive=True)
            self.user_box = gr.Textbox(self.user, label="Annotator", elem_id="user-box", scale=0, min_width=160,
                                       max_lines=1)

    # ------------------------------------------------------------------ events
    def _wire_events(self) -> None:
        page = self.page
        outputs = self.project_outputs()
        # Opening a project may embed its items first: one progress bar on the item card, not one
        # on each of the ~50 outputs.
        on_card = {"show_progress_on": [self.label.item_html]}
        page.blocks.load(self._on_page_load, [self.project_dd, self.user_box], [self.project_dd, *outputs],
                         api_name="load", **on_card)
        self.project_dd.input(self._on_project, [self.project_dd, self.user_box], outputs,
                              api_name="select_project", **on_card)
        for event in (self.user_box.submit, self.user_box.blur):
            event(self._on_user, [self.project_dd, self.user_box, self.label.user_state], outputs, api_name=False,
                  **on_card)
        self.label.wire(page)
        self.spans.wire(page)
        self.browse.wire(page)
        # After an AI run the label page serves the newly routed queue (audits first).
        self.ai.wire(page, page.tab["ai"]).then(
            self.label.on_rerouted, [self.project_dd, self.user_box, self.label.labels_state,
                                     self.label.multi_state, self.label.preselect_state],
            [*self.label.item_outputs(), self.label.progress_html], api_name=False)
        for tab in (self.new_project, self.export, self.admin, self.review, self.team, self.tasks,
                    self.jobs_panel, self.dashboard):
            tab.wire(page)

    def project_outputs(self) -> list[Any]:
        """Every component opening a project updates: the label page, the browse filters, the AI tab."""
        outputs = self.label.project_outputs()
        more = [*self.spans.project_outputs(), *self.browse.filter_outputs(), *self.ai.outputs()]
        return outputs + [c for c in more if c not in outputs]

    def project_view(self, project: str | None, user: str, progress: Callable | None = None) -> Updates:
        """Updates for a newly opened project: buttons, guidelines, keys, progress, filters, first
        item, the AI tab's policy and routes."""
        out: Updates = {self.label.user_state: user}
        if not project:
            return merge_updates({**out, **self.ai.no_project(), **self.spans.hidden()},
                                 self.label.no_project(NO_PROJECT))
        summary, guidelines, settings = self.service.projects.project_details(project)
        out.update(self.label.project_layout(project, summary, guidelines, settings))
        out.update(self.browse.filters_view(project, [s.name for s in summary.labels]))
        if is_span_project(summary):  # the span page instead of the classification page
            item = merge_updates(self.label.item_view(None, [], False, False, empty_message="A span project."),
                                 self.spans.project_view(project, user, summary, guidelines, settings))
        else:
            out.update(self.spans.hidden())
            item = self.label.first_item(project, user, summary, settings, progress)  # embeds a new project
        out.update(self.ai.project_view(project, settings))
        return merge_updates(out, item)

    # The page-wide events show a refused action on the label page.
    def _on_page_load(self, project: str | None, user: str,
                      progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        def load() -> Updates:
            names = [p.name for p in self.service.projects.list_projects()]
            shown = project if project in names else (
                self.project if self.project in names else (names[0] if names else None))
            out = self.project_view(shown, user or self.user, progress)
            out[self.project_dd] = gr.update(choices=names, value=shown)
            return out

        return self.label.guarded(load)

    def _on_project(self, project: str | None, user: str,
                    progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        return self.label.guarded(lambda: self.project_view(project, user or self.user, progress))

    def _on_user(self, project: str | None, user: str, served_to: str | None) -> Updates:
        if (user or self.user) == served_to:
            return no_change()
        return self.label.guarded(lambda: self.project_view(project, user or self.user))
