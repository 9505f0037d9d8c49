"""The Gradio app as a builder class, in the style of Gradio's own ``chat_interface.py``.

``AnnotatorUI(service).build()`` returns a ``gr.Blocks`` with five tabs: Label (default), Browse,
AI, New project and Export. ``_render_*`` methods lay the page out, ``_wire_events`` connects every
event in one place, and the handlers are thin typed methods that call the service facade and
return ``{component: update}`` dicts.

Speed: the label-submit events run with ``queue=False`` and ``show_progress="hidden"`` and do
one short transaction plus one in-memory queue step; the classifier refit runs in the service's
background thread and a ``gr.Timer`` polls progress and the model version every few seconds.
``gr.State`` holds only small values: the current item id, the label names, the selection.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from annotator.annotators.registry import ANNOTATORS, parse_annotator_names
from annotator.core.errors import AnnotatorError, EmptyPoolError, ValidationError
from annotator.service import AnnotatorService
from annotator.ui import auth, render
from annotator.reporting.figures import reliability_plot
from annotator.ui.admin_tab import AdminTab
from annotator.ui.jobs_tab import JobsTab
from annotator.ui.dashboard_tab import DashboardTab
from annotator.ui.review_tab import ReviewTab
from annotator.ui.team_tab import TeamTab
from annotator.tasks import is_posttraining
from annotator.ui.tasks_tab import TasksTab
from annotator.ui.keyboard import HEAD

STYLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "style.css"
NONE = "(none)"
ANY = ""
ANY_CHOICE = ("any", ANY)
FORMATS = ["csv", "jsonl", "parquet", "hf", "sft", "dpo", "ratings"]  # the last three: post-training projects
BROWSE_COLUMNS = ["✓", "id", "text", "label", "status", "by", "suggestion", "score", "metadata"]
Updates = dict[Any, Any]


def no_change() -> Updates:
    """The update that leaves every output of an event as it is. (Gradio reads an empty dict as a
    single value for a multi-output event and fails: "didn't return enough output values".)"""
    return gr.skip()

#: The AI tab's annotator choices: registry name → what it is (shown beside its checkbox).
AI_CHOICES: dict[str, str] = {
    "classifier": "classifier · the project's own model, refit on the human labels",
    "knn": "knn · votes of the nearest human-labelled items",
    "zero-shot": "zero-shot · similarity to the label names and descriptions",
    "llm-local": "llm-local · few-shot local LLM: slow on CPU (~0.5 s per item)",
    "llm-endpoint": "llm-endpoint · an OpenAI-compatible server (ANNOTATOR_LLM_ENDPOINT_URL)",
}
AI_DEFAULT = ["knn", "zero-shot", "classifier"]
CALIB_COLUMNS = ["annotator", "temperature", "OOF accuracy", "ECE raw → calibrated"]
LLM_SECONDS_PER_ITEM = 0.5  # SmolLM2, 4 demos, 2 CPU cores (annotator.llm.local)


def _html(value: str = "", **kwargs: Any) -> gr.HTML:
    """A display-only HTML block (no click hook: these blocks are not clickable)."""
    return gr.HTML(value, js_on_load=None, **kwargs)


def _guard(status_attr: str) -> Callable:
    """Turn an ``AnnotatorError`` raised by a handler into an error box in the page (never a trace)."""

    def decorate(fn: Callable[..., Updates]) -> Callable[..., Updates]:
        @functools.wraps(fn)
        def wrapper(self: AnnotatorUI, *args: Any, **kwargs: Any) -> Updates:
            try:
                return fn(self, *args, **kwargs)
            except AnnotatorError as e:
                return {getattr(self, status_attr): render.error_box(e.message)}

        return wrapper

    return decorate


class AnnotatorUI:
    """Builds the annotator's Gradio Blocks.

    Args:
        service: the facade every handler calls.
        project: the project opened first (default: the first one listed).
        user: the annotator name pre-filled in the header (default: the settings' default user).
        refresh_every: seconds between progress / model-version polls.
    """

    MAX_LABEL_BUTTONS = 20
    PAGE_SIZE = 50

    def __init__(self, service: AnnotatorService, project: str | None = None, *, user: str | None = None,
                 refresh_every: float = 3.0, auth_mode: bool | None = None):
        self.service = service
        # Teams: a login and a role check on every event when any account has a password.
        self.auth_mode = service.accounts.auth_required() if auth_mode is None else auth_mode
        self.project = project
        self.user = user or service.settings.default_user
        self.refresh_every = refresh_every
        self.blocks: gr.Blocks | None = None
        self._task_projects: dict[str, bool] = {}  # project → post-training task type (issue 9)

    # ------------------------------------------------------------------ build
    def build(self) -> gr.Blocks:
        # Gradio 6 reads css/head/theme in launch(); handing them to the constructor (its deprecated
        # path, still honoured by launch) keeps them working however the caller launches the app.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*moved from the Blocks constructor.*")
            blocks = gr.Blocks(title="annotator", analytics_enabled=False, css=self.css(), head=HEAD,
                               theme=self.theme())
        with blocks:
            self._render_header()
            with gr.Tabs(selected="label", elem_id="main-tabs") as self.tabs:
                with gr.Tab("Label", id="label", elem_id="tab-label"):
                    self._render_label_tab()
                with gr.Tab("Browse", id="browse", elem_id="tab-browse"):
                    self._render_browse_tab()
                with gr.Tab("AI", id="ai", elem_id="tab-ai") as self.ai_tab:
                    self._render_ai_tab()
                with gr.Tab("New project", id="new", elem_id="tab-new") as self.new_tab:
                    self._render_new_project_tab()
                with gr.Tab("Export", id="export", elem_id="tab-export") as self.export_tab:
                    self._render_export_tab()
                with gr.Tab("Review", id="review", elem_id="tab-review") as self.review_tab:  # teams (review)
                    self.review = ReviewTab(self.service)
                    self.review.render()
                with gr.Tab("Team", id="team", elem_id="tab-team") as self.team_tab:  # teams: agreement, people
                    self.team = TeamTab(self.service)
                    self.team.render()
                with gr.Tab("Admin", id="admin", elem_id="tab-admin") as self.admin_tab:  # teams (auth)
                    self.admin = AdminTab(self.service, auth_mode=self.auth_mode)
                    self.admin.render()
                with gr.Tab("Post-training", id="tasks", elem_id="tab-tasks") as self.tasks_tab:  # issue 9 (tasks)
                    self.tasks = TasksTab(self.service)
                    self.tasks.render()
                with gr.Tab("Dashboard", id="dashboard", elem_id="tab-dashboard") as self.dashboard_tab:  # issue 7
                    self.dashboard = DashboardTab(self.service)
                    self.dashboard.render()
                with gr.Tab("Jobs", id="jobs", elem_id="tab-jobs") as self.jobs_tab:  # issue 7 (jobs)
                    self.jobs_panel = JobsTab(self.service)
                    self.jobs_panel.render()
            self._wire_events(blocks)
            self.admin.wire(blocks, self)
            self.review.wire(blocks, self)
            self.team.wire(blocks, self)
            self.tasks.wire(blocks, self)
            self.jobs_panel.wire(blocks, self)
            self.dashboard.wire(blocks, self)
        if self.auth_mode:  # every event checks the login's role (annotator.ui.auth.POLICY)
            auth.protect(blocks, self.service, {self.user_box: auth.login_name,
                                                self.filter_annotator: auth.own_answers_for_annotators})
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

    # ------------------------------------------------------------------ layout
    def _render_header(self) -> None:
        names = [p.name for p in self.service.projects.list_projects()]
        initial = self.project if self.project in names else (names[0] if names else None)
        with gr.Row(elem_id="ann-header", equal_height=True):
            _html('<div class="ann-brand">annotator <span>people and AI label text together</span></div>')
            self.project_dd = gr.Dropdown(names, value=initial, label="Project", elem_id="project-dd", scale=0,
                                          min_width=220, interactive=True)
            self.user_box = gr.Textbox(self.user, label="Annotator", elem_id="user-box", scale=0, min_width=160,
                                       max_lines=1)

    def _render_label_tab(self) -> None:
        self.item_state = gr.State(None)  # current item id
        self.labels_state = gr.State([])  # label names in button order
        self.multi_state = gr.State(False)
        self.preselect_state = gr.State(False)  # project setting: pre-select AI suggestions
        self.selected_state = gr.State([])  # pre-selected label names (undo / suggestion)
        self.flagged_state = gr.State(False)
        self.user_state = gr.State(None)  # whom the shown item was served to
        with gr.Row(elem_id="label-page"):
            with gr.Column(scale=3, elem_id="label-main"):
                self.why_html = _html(elem_id="why-line")
                self.item_html = _html(render.item_card(None, None, empty_message="Loading…"), elem_id="item-card")
                self.details_html = _html(elem_id="item-details")  # metadata chips + AI suggestion
                with gr.Row(elem_id="label-bar", elem_classes=["ann-label-bar"]):
                    self.label_buttons = [
                        gr.Button(f"label {i}", visible=False, elem_id=f"label-btn-{i}", elem_classes=["ann-label"],
                                  size="lg", min_width=120)
                        for i in range(self.MAX_LABEL_BUTTONS)
                    ]
                self.multi_checks = gr.CheckboxGroup(choices=[], label="Labels (toggle, then Enter)", visible=False,
                                                     elem_id="multi-labels", elem_classes=["ann-multi"])
                with gr.Row(elem_id="action-bar", elem_classes=["ann-actions"]):
                    self.submit_btn = gr.Button("Submit ⏎", elem_id="submit-btn", variant="primary", size="md",
                                                min_width=100)
                    self.skip_btn = gr.Button("Skip · S", elem_id="skip-btn", size="md", min_width=90)
                    self.undo_btn = gr.Button("Undo · U", elem_id="undo-btn", size="md", min_width=90)
                    self.flag_btn = gr.Button("Flag · F", elem_id="flag-btn", size="md", min_width=90)
                self.keys_line = _html(elem_id="keys-line")
                self.comment_box = gr.Textbox(label="Comment (optional)", lines=1,
                                              max_lines=4, elem_id="comment-box", placeholder="Why is this one hard?")
                self.label_status = _html(elem_id="label-status")
            with gr.Column(scale=1, min_width=260, elem_id="label-side"):
                self.progress_html = _html(elem_id="progress-panel")
                with gr.Accordion("Guidelines", open=True, elem_id="guidelines"):
                    self.guidelines_md = gr.Markdown(elem_id="guidelines-md")
                with gr.Accordion("Keyboard", open=True, elem_id="hotkeys"):
                    self.hotkeys_html = _html(elem_id="hotkeys-html")
        self.timer = gr.Timer(self.refresh_every)

    def _render_browse_tab(self) -> None:
        self.page_state = gr.State(0)
        with gr.Row(elem_classes=["ann-filters"]):
            self.search_box = gr.Textbox(label="Search text", placeholder="words in the text, or an external id",
                                         scale=3, max_lines=1, elem_id="browse-search")
            self.filter_label = gr.Dropdown([ANY_CHOICE], value=ANY, label="Label", scale=1, min_width=120)
            self.filter_status = gr.Dropdown([ANY_CHOICE], value=ANY, label="Status", scale=1, min_width=120)
            self.filter_route = gr.Dropdown([ANY_CHOICE], value=ANY, label="Route", scale=1, min_width=110)
            self.filter_annotator = gr.Dropdown([ANY_CHOICE], value=ANY, label="Annotator", scale=1, min_width=120)
            self.filter_meta = gr.Textbox(label="Metadata", placeholder="key=value", scale=1, min_width=140,
                                          max_lines=1)
            self.order_dd = gr.Dropdown(["id", "newest", "suggestion score", "uncertainty"], value="id",
                                        label="Sort", scale=1, min_width=140)
        with gr.Row(elem_classes=["ann-pager"], equal_height=True):
            self.search_btn = gr.Button("Search", variant="primary", scale=0, min_width=110, elem_id="browse-btn")
            self.prev_btn = gr.Button("← Prev", scale=0, min_width=120, elem_id="prev-btn")
            self.next_btn = gr.Button("Next →", scale=0, min_width=120, elem_id="next-btn")
            self.page_html = _html(elem_id="browse-page-info")
        self.browse_table = gr.Dataframe(
            headers=BROWSE_COLUMNS, datatype=["bool", "number", "str", "str", "str", "str", "str", "number", "str"],
            interactive=True, static_columns=list(range(1, len(BROWSE_COLUMNS))), wrap=True, max_height=620,
            column_widths=["56px", "64px", "380px", "100px", "112px", "130px", "136px", "88px", "140px"],
            elem_id="browse-table", label="Items (tick rows to select them; click a row to use it for 'similar')",
        )
        with gr.Row(equal_height=True, elem_classes=["ann-bulk"]):
            self.similar_box = gr.Textbox(label="Similar to item #", placeholder="item id", scale=1, min_width=120,
                                          max_lines=1, elem_id="similar-box")
            self.similar_btn = gr.Button("Find 20 similar", scale=0, min_width=180, elem_id="similar-btn")
            self.bulk_ids = gr.Textbox(label="Item ids to label (plus ticked rows)", placeholder="12, 15, 40",
                                       scale=2, max_lines=1, elem_id="bulk-ids")
            self.bulk_label_dd = gr.Dropdown([], label="Bulk label", scale=1, min_width=140, elem_id="bulk-label",
                                             multiselect=None)
            self.bulk_btn = gr.Button("Label selection", variant="primary", scale=0, min_width=180, elem_id="bulk-btn")
        self.browse_status = _html(elem_id="browse-status")

    def _render_ai_tab(self) -> None:
        with gr.Row(elem_id="ai-controls", equal_height=False):
            with gr.Column(scale=3, min_width=360):
                self.ai_annotators = gr.CheckboxGroup(
                    [(text, name) for name, text in AI_CHOICES.items() if name in ANNOTATORS], value=AI_DEFAULT,
                    label="AI annotators (calibrated on the human labels, then fused)", elem_id="ai-annotators")
            with gr.Column(scale=2, min_width=300, elem_id="ai-policy"):
                self.ai_target = gr.Slider(0.5, 0.999, value=0.95, step=0.001, elem_id="ai-target",
                                           label="Target precision of auto-accepted labels")
                self.ai_audit_fraction = gr.Slider(0.0, 0.5, value=0.05, step=0.01, elem_id="ai-audit-fraction",
                                                   label="Audit fraction (auto labels people re-label blind)")
        self.ai_estimate = _html(elem_id="ai-estimate")
        with gr.Row(elem_classes=["ann-ai-run"], equal_height=True):
            self.ai_run_btn = gr.Button("Run AI annotators", variant="primary", elem_id="ai-run-btn", scale=0,
                                        min_width=220)
            self.ai_save_btn = gr.Button("Save settings", elem_id="ai-save-btn", scale=0, min_width=150)
            self.ai_status = _html(elem_id="ai-status")
        self.ai_routes = _html(elem_id="ai-routes")
        self.ai_audit = _html(elem_id="ai-audit")
        with gr.Row(elem_id="ai-results"):
            with gr.Column(scale=5, min_width=380):
                self.ai_calibration = gr.Dataframe(
                    headers=CALIB_COLUMNS, datatype=["str", "str", "str", "str"], interactive=False, wrap=True,
                    label="Calibration: out of fold on the human labels (ECE: lower is better)",
                    elem_id="ai-calibration", column_widths=["34%", "18%", "20%", "28%"])
                self.ai_thresholds = _html(elem_id="ai-thresholds")
            with gr.Column(scale=6, min_width=420):
                self.ai_plot = gr.Plot(label="Reliability diagram (calibrated)", elem_id="ai-plot")

    def _render_new_project_tab(self) -> None:
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                self.upload = gr.File(label="Data file (CSV, TSV, JSONL, JSON, Parquet, Excel)", type="filepath",
                                      file_types=[".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet", ".xlsx"],
                                      elem_id="upload-file")
                self.text_col = gr.Dropdown([], label="Text column", elem_id="text-col", interactive=True)
                self.label_col = gr.Dropdown([NONE], value=NONE, label="Label column (optional)", elem_id="label-col",
                                             interactive=True)
                self.id_col = gr.Dropdown([NONE], value=NONE, label="Id column (optional)", elem_id="id-col",
                                          interactive=True)
            with gr.Column(scale=2):
                self.preview_table = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=340,
                                                  max_chars=120,
                                                  elem_id="preview-table")
        with gr.Row():
            self.new_name = gr.Textbox(label="Project name", max_lines=1, elem_id="new-name", scale=2)
            self.task_radio = gr.Radio(["single-label", "multi-label"], value="single-label", label="Task",
                                       elem_id="task-type", scale=1)
        with gr.Row():
            self.labels_box = gr.Textbox(label="Labels, comma-separated", placeholder="billing, bug, account",
                                         max_lines=1, elem_id="new-labels", scale=2)
            self.hotkeys_box = gr.Textbox(label="Hotkeys in label order (default 1, 2, 3 …)", placeholder="1, 2, 3",
                                          max_lines=1, elem_id="new-hotkeys", scale=1)
        with gr.Row():
            self.descriptions_box = gr.Textbox(label="Label descriptions (optional), one per line: name: description",
                                               lines=4, elem_id="new-descriptions")
            self.guidelines_box = gr.Textbox(label="Guidelines (markdown)", lines=4, elem_id="new-guidelines")
        self.add_labels_cb = gr.Checkbox(False, label="Add label values found in the label column to the project")
        self.create_btn = gr.Button("Create & import", variant="primary", elem_id="create-btn")
        self.create_status = _html(elem_id="create-status")

    def _render_export_tab(self) -> None:
        with gr.Row(equal_height=True):
            self.format_dd = gr.Dropdown(FORMATS, value="csv", label="Format", elem_id="export-format", scale=1)
            self.human_only = gr.Checkbox(False, label="Human-verified labels only", elem_id="export-human", scale=1)
            self.export_btn = gr.Button("Export", variant="primary", elem_id="export-btn", scale=0, min_width=140)
        self.export_file = gr.File(label="Download", interactive=False, elem_id="export-file")
        self.export_status = _html(elem_id="export-status")
        with gr.Accordion("Dataset card", open=True):
            self.card_md = gr.Markdown(elem_id="export-card")

    # ------------------------------------------------------------------ events
    def _wire_events(self, blocks: gr.Blocks) -> None:
        item_outputs = self._item_outputs()
        project_outputs = self._project_outputs()
        fast = {"queue": False, "show_progress": "hidden"}
        answer_inputs = [self.project_dd, self.user_box, self.item_state, self.labels_state, self.multi_state,
                         self.preselect_state, self.comment_box, self.flagged_state]

        # Opening a project may embed its items first: one progress bar on the item card, not one
        # on each of the ~50 outputs.
        on_card = {"show_progress_on": [self.item_html]}
        blocks.load(self._on_page_load, [self.project_dd, self.user_box], [self.project_dd, *project_outputs],
                    api_name="load", **on_card)
        self.project_dd.input(self._on_project, [self.project_dd, self.user_box], project_outputs,
                              api_name="select_project", **on_card)
        for event in (self.user_box.submit, self.user_box.blur):
            event(self._on_user, [self.project_dd, self.user_box, self.user_state], project_outputs, api_name=False,
                  **on_card)

        # The hot path: one click / key → save the answer and show the next item.
        for i, button in enumerate(self.label_buttons):
            button.click(self._label_handler(i), answer_inputs, item_outputs, api_name=f"label_{i}", **fast)
        self.submit_btn.click(self._on_submit, [*answer_inputs, self.selected_state, self.multi_checks],
                              item_outputs, api_name="submit_label", **fast)
        self.skip_btn.click(self._on_skip, answer_inputs, item_outputs, api_name="skip", **fast)
        self.undo_btn.click(self._on_undo, answer_inputs, item_outputs, api_name="undo", **fast)
        self.flag_btn.click(self._on_flag, [self.flagged_state], [self.flagged_state, self.flag_btn],
                            api_name="flag", **fast)
        self.timer.tick(self._on_tick, [self.project_dd], [self.progress_html], api_name=False, **fast)

        browse_inputs = [self.project_dd, self.search_box, self.filter_label, self.filter_status, self.filter_route,
                         self.filter_annotator, self.filter_meta, self.order_dd]
        browse_outputs = [self.browse_table, self.page_html, self.page_state, self.browse_status]
        self.search_btn.click(self._on_browse_first, browse_inputs, browse_outputs, api_name="browse")
        self.search_box.submit(self._on_browse_first, browse_inputs, browse_outputs, api_name=False)
        self.prev_btn.click(self._on_browse_prev, [*browse_inputs, self.page_state], browse_outputs,
                            api_name="browse_prev")
        self.next_btn.click(self._on_browse_next, [*browse_inputs, self.page_state], browse_outputs,
                            api_name="browse_next")
        self.similar_btn.click(self._on_similar, [self.project_dd, self.similar_box], browse_outputs,
                               api_name="similar")
        self.browse_table.select(self._on_row_select, None, [self.similar_box], api_name=False, **fast)
        self.bulk_btn.click(self._on_bulk, [self.project_dd, self.user_box, self.browse_table, self.bulk_ids,
                                            self.bulk_label_dd, *browse_inputs[1:], self.page_state],
                            browse_outputs, api_name="bulk_label")

        # The AI tab: a fresh look at the routes when the tab opens; the run itself is slow work with a
        # progress bar, after which the label page serves the newly routed queue (audits first).
        ai_view = [self.ai_estimate, self.ai_routes, self.ai_audit]
        self.ai_tab.select(self._on_ai_tab, [self.project_dd], ai_view, api_name=False, show_progress="hidden")
        self.ai_save_btn.click(self._on_ai_save, [self.project_dd, self.ai_target, self.ai_audit_fraction],
                               [self.ai_status, self.ai_target, self.ai_audit_fraction, *ai_view],
                               api_name="save_ai_settings")
        self.ai_run_btn.click(
            self._on_ai_run, [self.project_dd, self.ai_annotators, self.ai_target, self.ai_audit_fraction],
            [self.ai_status, self.ai_target, self.ai_audit_fraction, *ai_view, self.ai_calibration,
             self.ai_thresholds, self.ai_plot], api_name="run_ai",
        ).then(self._on_label_refresh, [self.project_dd, self.user_box, self.labels_state, self.multi_state,
                                        self.preselect_state], [*item_outputs, self.progress_html], api_name=False)

        self.upload.upload(self._on_upload, [self.upload], [self.preview_table, self.text_col, self.label_col,
                                                            self.id_col, self.new_name, self.create_status],
                           api_name="preview_file")
        self.create_btn.click(
            self._on_create,
            [self.upload, self.new_name, self.labels_box, self.descriptions_box, self.hotkeys_box, self.task_radio,
             self.guidelines_box, self.text_col, self.label_col, self.id_col, self.add_labels_cb, self.user_box],
            [self.create_status, self.project_dd, self.tabs, *project_outputs], api_name="create_project",
        )
        self.export_btn.click(self._on_export, [self.project_dd, self.format_dd, self.human_only],
                              [self.export_file, self.card_md, self.export_status], api_name="export")

    def _item_outputs(self) -> list[Any]:
        return [self.item_state, self.selected_state, self.flagged_state, self.item_html, self.details_html,
                self.why_html, *self.label_buttons, self.multi_checks, self.comment_box,
                self.flag_btn, self.label_status]

    def _project_outputs(self) -> list[Any]:
        extra = [self.user_state, self.labels_state, self.multi_state, self.preselect_state, self.guidelines_md,
                 self.hotkeys_html, self.keys_line,
                 self.progress_html, self.filter_label, self.filter_status, self.filter_route, self.filter_annotator,
                 self.bulk_label_dd, *self._ai_outputs()]
        outputs = self._item_outputs()
        return outputs + [c for c in extra if c not in outputs]

    def _ai_outputs(self) -> list[Any]:
        return [self.ai_target, self.ai_audit_fraction, self.ai_estimate, self.ai_routes, self.ai_audit,
                self.ai_status, self.ai_calibration, self.ai_thresholds, self.ai_plot]

    # ------------------------------------------------------------------ views (service values → updates)
    def _item_view(self, item: Any, labels: Sequence[str], multi: bool, preselect: bool, *,
                   empty_message: str = "", status: str = "") -> Updates:
        """Updates that show ``item`` (a QueuedItem, or None when the queue is empty)."""
        out: Updates = {self.comment_box: "", self.flagged_state: False,
                        self.flag_btn: gr.update(variant="secondary", value="Flag · F"),
                        self.label_status: status}
        if item is None:
            out.update({
                self.item_state: None, self.selected_state: [],
                self.item_html: render.item_card(None, None, empty_message=empty_message or "Nothing to label."),
                self.details_html: "", self.why_html: "",
            })
            selected: list[str] = []
        else:
            suggestion = item.suggestion
            # A verify item pre-selects the AI's label so Enter accepts it; blind and audit items
            # carry no suggestion at all (the service hides it until the answer is in).
            verify = item.route == "verify" and suggestion is not None
            if item.previous_value is not None:
                selected = list(item.previous_value)
            elif (preselect or verify) and suggestion is not None:
                selected = [v for v in suggestion.value if v in labels]
            else:
                selected = []
            if verify:
                shown = render.verify_banner(suggestion.agent, suggestion.value, suggestion.score)
            else:
                shown = render.suggestion_box(suggestion.agent if suggestion else None,
                                              suggestion.value if suggestion else None,
                                              suggestion.score if suggestion else None,
                                              preselected=bool(preselect and suggestion))
            out.update({
                self.item_state: item.item_id, self.selected_state: selected,
                self.item_html: render.item_card(item.item_id, item.text),
                self.details_html: render.metadata_chips(item.item_id, item.external_id, item.metadata) + shown,
                self.why_html: render.why_line(item.strategy, item.score, item.model_version,
                                               route=item.route,
                                               undo=item.previous_value is not None),
            })
        for i, name in enumerate(labels[: self.MAX_LABEL_BUTTONS]):
            out[self.label_buttons[i]] = gr.update(variant="primary" if name in selected else "secondary")
        out[self.multi_checks] = gr.update(value=selected if multi else [])
        return out

    def _project_view(self, project: str | None, user: str, progress: Callable | None = None) -> Updates:
        """Updates for a newly opened project: buttons, guidelines, keys, progress, filters, first item.

        ``progress`` (a ``gr.Progress``) shows the one slow step: embedding a project opened for the
        first time since the server started (cached embeddings load in a moment)."""
        out: Updates = {self.user_state: user}
        if not project:
            for button in self.label_buttons:
                out[button] = gr.update(visible=False)
            out.update({
                self.labels_state: [], self.multi_state: False, self.preselect_state: False,
                self.multi_checks: gr.update(choices=[], value=[], visible=False),
                self.guidelines_md: "", self.hotkeys_html: "", self.keys_line: "",
                self.progress_html: render.note_box("No project yet."),
                **self._ai_cleared(),
                self.ai_estimate: "", self.ai_audit: "",
                self.ai_routes: render.note_box("No project yet: create one in the “New project” tab."),
            })
            return _merge(out, self._item_view(None, [], False, False,
                                               empty_message="No project yet: create one in the “New project” tab."))
        summary, guidelines, settings = self.service.projects.project_details(project)
        specs = summary.labels
        names = [spec.name for spec in specs]
        multi = summary.task_type == "multi-label"
        for i, button in enumerate(self.label_buttons):
            if i < len(specs):
                out[button] = gr.update(value=render.caption(specs[i].name, specs[i].hotkey), visible=not multi,
                                        variant="secondary")
            else:
                out[button] = gr.update(visible=False)
        options = self.service.browse.browse_options(project, own_answers_of=self._own_answers_of())
        out.update({
            self.labels_state: names, self.multi_state: multi, self.preselect_state: settings.preselect_suggestion,
            self.multi_checks: gr.update(choices=[(render.caption(s.name, s.hotkey), s.name) for s in specs],
                                         value=[], visible=multi),
            self.guidelines_md: guidelines or "_No guidelines for this project yet._",
            self.hotkeys_html: render.hotkey_help([(s.name, s.hotkey) for s in specs], multi_label=multi),
            self.keys_line: render.hotkey_line([(s.name, s.hotkey) for s in specs], multi_label=multi),
            self.progress_html: self._progress_html(project),
            self.filter_label: gr.update(choices=_any_of(names), value=ANY),
            self.filter_status: gr.update(choices=_any_of(options["statuses"]), value=ANY),
            self.filter_route: gr.update(choices=_any_of(options["routes"]), value=ANY),
            self.filter_annotator: gr.update(choices=_any_of(options["annotators"]), value=ANY),
            self.bulk_label_dd: gr.update(choices=names, value=names[0] if names else None),
        })
        self.service.queue.release(project, user)  # a reload shows the person a fresh item
        try:
            if progress is not None:
                self.service.queue.pool(project, progress=lambda done, total: progress(
                    (done, total) if total else None, desc="Embedding the items"))
            # rating / preference / correction items need their responses shown: the Post-training tab
            task_project = is_posttraining(str(summary.task_type))
            item = None if task_project else self.service.queue.next_item(project, user)
        except EmptyPoolError as e:
            view = self._item_view(None, names, multi, settings.preselect_suggestion, empty_message=e.what)
        else:
            view = self._item_view(item, names, multi, settings.preselect_suggestion,
                                   empty_message=f"{project} is a {summary.task_type} project: label it in the "
                                                 "Post-training tab." if task_project else
                                   "Every item is labelled. Export it from the Export tab.")
        out.update({self.ai_target: settings.target_precision, self.ai_audit_fraction: settings.audit_fraction,
                    **self._ai_cleared(), **self._ai_view(project, settings.target_precision)})
        return _merge(out, view)

    def _ai_cleared(self) -> Updates:
        """The AI tab's run results, emptied (they belong to the project and run that made them)."""
        return {self.ai_status: "", self.ai_thresholds: "", self.ai_plot: None,
                self.ai_calibration: pd.DataFrame(columns=CALIB_COLUMNS)}

    def _ai_view(self, project: str, target: float | None = None) -> Updates:
        """The AI tab's live part: the run estimate, the items per route and the audit estimate."""
        if target is None:
            target = self.service.projects.project_details(project)[2].target_precision
        try:
            pool = self.service.queue.pool(project)
        except EmptyPoolError:
            counts, n_open, n_labelled = {}, 0, 0
        else:
            counts = pool.route_counts()
            n_labelled = int(pool.n_labelled)
            n_open = len(pool.item_ids) - n_labelled
        audit = self.service.ai.audit_estimate(project)
        return {
            self.ai_estimate: render.ai_estimate(n_open, n_labelled, cheap_seconds=estimate_cheap_seconds(
                n_open + n_labelled), llm_seconds=LLM_SECONDS_PER_ITEM * (n_open + n_labelled)),
            self.ai_routes: render.route_cards(counts, labelled=n_labelled,
                                               unrouted=max(0, n_open - sum(counts.values()))),
            self.ai_audit: render.audit_line(audit.value, audit.ci_low, audit.ci_high, audit.audits, target=target,
                                             pending=counts.get("audit", 0)),
        }

    def _progress_html(self, project: str | None) -> str:
        if not project:
            return render.note_box("No project yet.")
        own = self._own_answers_of()
        p = self.service.queue.progress(project, own_answers_of=own)
        return render.progress_panel(p.total, p.labelled, p.by_label, p.by_user, model_version=p.model_version,
                                     refitting=p.refitting, labels_since_refit=p.labels_since_refit,
                                     own=own is not None)

    def _own_answers_of(self) -> str | None:
        """Whose answers alone this page may show: in auth mode, an annotator's own login (they never
        see other people's answers or names: progress by label and person, the browse table and its
        annotator filter); None for reviewers and admins, and in single-user mode.

        Raises:
            PermissionDeniedError: auth mode, and the event carries no valid login.
        """
        if not self.auth_mode:
            return None
        who = auth.request_who(self.service)
        return who.name if who.role == auth.ANNOTATOR else None

    def _next_view(self, project: str, user: str, labels: Sequence[str], multi: bool, preselect: bool,
                   status: str = "") -> Updates:
        if self._is_task_project(project):  # rating / preference / correction: the Post-training tab
            return self._item_view(None, labels, multi, preselect, status=status,
                                   empty_message=f"{project} is a post-training project: label it in the "
                                                 "Post-training tab.")
        item = self.service.queue.next_item(project, user)
        return self._item_view(item, labels, multi, preselect, status=status,
                               empty_message="Every item is labelled. Export it from the Export tab.")

    def _is_task_project(self, project: str) -> bool:
        """Rating / preference / correction (cached: a project's task type never changes)."""
        if project not in self._task_projects:
            self._task_projects[project] = is_posttraining(str(self.service.projects.project(project).task_type))
        return self._task_projects[project]

    # ------------------------------------------------------------------ label-page handlers
    @_guard("label_status")
    def _on_page_load(self, project: str | None, user: str,
                      progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        names = [p.name for p in self.service.projects.list_projects()]
        if project not in names:
            project = self.project if self.project in names else (names[0] if names else None)
        out = self._project_view(project, user or self.user, progress)
        out[self.project_dd] = gr.update(choices=names, value=project)
        return out

    @_guard("label_status")
    def _on_project(self, project: str | None, user: str,
                    progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        return self._project_view(project, user or self.user, progress)

    @_guard("label_status")
    def _on_user(self, project: str | None, user: str, served_to: str | None) -> Updates:
        if (user or self.user) == served_to:
            return no_change()
        return self._project_view(project, user or self.user)

    def _label_handler(self, index: int) -> Callable[..., Updates]:
        """The click handler of label button ``index`` (single-label: answer and move on;
        multi-label: the buttons are hidden and the checkboxes are used instead)."""

        def on_label(project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                     preselect: bool, comment: str, flagged: bool) -> Updates:
            if index >= len(labels):
                return no_change()
            return self._answer(project, user, item_id, [labels[index]], labels, multi, preselect, comment, flagged)

        on_label.__name__ = f"on_label_{index}"
        return on_label

    @_guard("label_status")
    def _answer(self, project: str | None, user: str, item_id: int | None, value: list[str], labels: list[str],
                multi: bool, preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project or item_id is None:
            return {self.label_status: render.note_box("Nothing to answer: no item is shown.")}
        user = user or self.user
        revealed = self.service.queue.submit(project, user, int(item_id), value, comment=(comment or "").strip() or None,
                                       flagged=bool(flagged))
        # A blind or audit item's AI label is revealed only now, with the next item, for the record.
        status = render.reveal_line(int(item_id), revealed.value, revealed.score, value) if revealed else ""
        return self._next_view(project, user, labels, multi, preselect, status=status)

    @_guard("label_status")
    def _on_submit(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                   preselect: bool, comment: str, flagged: bool, selected: list[str],
                   checked: list[str] | None) -> Updates:
        value = list(checked or []) if multi else list(selected or [])
        if not value:
            hint = "Tick one or more labels first." if multi else "Pick a label with its key or button first."
            return {self.label_status: render.note_box(hint)}
        return self._answer(project, user, item_id, value, labels, multi, preselect, comment, flagged)

    @_guard("label_status")
    def _on_skip(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                 preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project or item_id is None:
            return no_change()
        user = user or self.user
        self.service.queue.skip(project, user, int(item_id))
        return self._next_view(project, user, labels, multi, preselect)

    @_guard("label_status")
    def _on_undo(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                 preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project:
            return no_change()
        user = user or self.user
        self.service.queue.release(project, user)  # the item on screen goes back to the queue
        item = self.service.queue.undo(project, user)
        if item is None:
            return {self.label_status: render.note_box("Nothing to undo yet.")}
        return self._item_view(item, labels, multi, preselect)

    def _on_flag(self, flagged: bool) -> Updates:
        flagged = not flagged
        return {self.flagged_state: flagged,
                self.flag_btn: gr.update(variant="stop" if flagged else "secondary",
                                         value="Flagged · F" if flagged else "Flag · F")}

    def _on_tick(self, project: str | None) -> Updates:
        try:
            return {self.progress_html: self._progress_html(project)}
        except AnnotatorError:
            return no_change()  # a poll never shows an error; the next action will

    # ------------------------------------------------------------------ AI tab handlers
    @_guard("ai_status")
    def _on_ai_tab(self, project: str | None) -> Updates:
        return self._ai_view(project) if project else {}

    def _save_policy(self, project: str, target: float | None, audit_fraction: float | None) -> tuple[Any, bool]:
        """Store the sliders' values in the project's settings when they changed: (settings, changed)."""
        settings = self.service.projects.project_details(project)[2]
        changes = {key: round(float(value), 4) for key, value in
                   (("target_precision", target), ("audit_fraction", audit_fraction)) if value is not None}
        changes = {k: v for k, v in changes.items() if abs(getattr(settings, k) - v) > 1e-9}
        if not changes:
            return settings, False
        try:
            return self.service.projects.update_project_settings(project, **changes), True
        except ValueError as e:  # pydantic's ValidationError is a ValueError: a value out of range
            raise ValidationError("Cannot save these routing settings.", got=", ".join(
                f"{k}={v}" for k, v in changes.items()), expected="target precision in (0, 1], audit fraction "
                "in [0, 1]") from e

    @_guard("ai_status")
    def _on_ai_save(self, project: str | None, target: float | None, audit_fraction: float | None) -> Updates:
        if not project:
            raise ValidationError("No project to configure.", fix="create or pick a project first")
        settings, changed = self._save_policy(project, target, audit_fraction)
        note = (f"Saved: target precision {settings.target_precision:.1%}, audit fraction "
                f"{settings.audit_fraction:.0%}. They apply from the next run." if changed else "Nothing changed.")
        return {self.ai_status: render.note_box(note), self.ai_target: settings.target_precision,
                self.ai_audit_fraction: settings.audit_fraction, **self._ai_view(project, settings.target_precision)}

    def _make_annotators(self, names: Sequence[str], progress: Callable[..., Any]) -> list[Any]:
        """The chosen annotators; the LLM ones get their Settings, an on-disk score cache (a re-run
        costs nothing) and the page's progress bar."""
        from annotator.annotators.registry import make_annotators

        def progress_for(name: str) -> Callable[[int, int], None]:
            return lambda done, total: progress((done, total) if total else None, desc=f"{name}: scoring items")

        return make_annotators(",".join(names), **self.service.ai.llm_options(names, progress_for))

    @_guard("ai_status")
    def _on_ai_run(self, project: str | None, names: list[str] | None, target: float | None,
                   audit_fraction: float | None, progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        if not project:
            raise ValidationError("No project to run the AI on.", fix="create or pick a project first")
        chosen = parse_annotator_names(",".join(names or []) or "none")
        if not chosen:
            raise ValidationError("No AI annotator selected.", fix="tick at least one, e.g. knn and zero-shot")
        started = time.perf_counter()
        settings, _ = self._save_policy(project, target, audit_fraction)
        progress(0.0, desc="Embedding the items")
        self.service.queue.pool(project, progress=lambda done, total: progress((done, total) if total else None,
                                                                         desc="Embedding the items"))
        progress(0.1, desc="Calibrating on the human labels, scoring and routing")
        result = self.service.ai.run_ai(project, self._make_annotators(chosen, progress),
                                     progress=lambda done, total: progress((done, total) if total else None,
                                                                          desc="Scoring"))
        progress(1.0, desc="Done")
        seconds = time.perf_counter() - started
        out = self._ai_view(project, settings.target_precision)
        out.update({
            self.ai_target: settings.target_precision, self.ai_audit_fraction: settings.audit_fraction,
            self.ai_status: render.note_box(
                f"Routed {result['items']:,} items with {', '.join(chosen)}, calibrated on "
                f"{result['human_labels']:,} human labels, in {seconds:.1f} s."),
            self.ai_calibration: calibration_frame(result["calibration"]),
            self.ai_thresholds: render.thresholds_table(result["thresholds"]),
            self.ai_plot: reliability_figure(result["calibration"]),
        })
        return out

    @_guard("label_status")
    def _on_label_refresh(self, project: str | None, user: str, labels: list[str], multi: bool,
                          preselect: bool) -> Updates:
        """After a run: serve the person an item from the newly routed queue (audits first)."""
        if not project or not labels:
            return no_change()
        user = user or self.user
        self.service.queue.release(project, user)
        out = self._next_view(project, user, labels, multi, preselect)
        out[self.progress_html] = self._progress_html(project)
        return out

    # ------------------------------------------------------------------ browse handlers
    def _browse(self, project: str | None, query: str, label: str, status: str, route: str, annotator: str,
                metadata: str, order: str, page: int) -> Updates:
        if not project:
            return {self.browse_status: render.note_box("No project yet.")}
        result = self.service.browse.browse(project, query=query or "", label=label or None, status=status or None,
                                     route=route or None, annotator=annotator or None, metadata=metadata or None,
                                     order=order or "id", page=max(0, page), page_size=self.PAGE_SIZE,
                                     own_answers_of=self._own_answers_of())
        if result.rows == [] and page > 0 and result.total:
            return self._browse(project, query, label, status, route, annotator, metadata, order, result.pages - 1)
        return self._page_updates(result, note=result.note)

    def _page_updates(self, result: Any, *, note: str = "", status: str = "") -> Updates:
        first = result.page * result.page_size + 1 if result.rows else 0
        last = result.page * result.page_size + len(result.rows)
        total = f"{result.total:,}" + ("" if result.exact else "+")
        info = f"Items {first:,}–{last:,} of {total} · page {result.page + 1} of {result.pages:,}"
        if not result.exact:
            info = f"Items {first:,}–{last:,} of {total}"
        return {
            self.browse_table: self._rows_frame(result.rows), self.page_state: result.page,
            self.page_html: f'<div class="ann-page-info">{render.esc(info)}</div>',
            self.browse_status: status or render.note_box(note),
        }

    @staticmethod
    def _rows_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
        def text_of(value: Any) -> str:
            return ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))

        records = []
        for r in rows:
            text = r["text"] if len(r["text"]) <= 300 else r["text"][:299] + "…"
            suggestion = ""
            if r.get("suggestion"):
                score = r.get("suggestion_score")
                suggestion = text_of(r["suggestion"]) + (f" ({score:.2f})" if score is not None else "")
            score = r.get("similarity", r.get("uncertainty"))
            meta = ", ".join(f"{k}={v}" for k, v in (r.get("metadata") or {}).items())
            by = " · ".join(text_of(r.get(k)) for k in ("annotator", "source", "route") if r.get(k))
            records.append([False, r["item_id"], text, text_of(r.get("label")),
                            r["status"] + (" ⚑" if r.get("flagged") else ""), by, suggestion, score, meta])
        return pd.DataFrame(records, columns=BROWSE_COLUMNS)

    @_guard("browse_status")
    def _on_browse_first(self, project: str | None, query: str, label: str, status: str, route: str,
                         annotator: str, metadata: str, order: str) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, 0)

    @_guard("browse_status")
    def _on_browse_prev(self, project: str | None, query: str, label: str, status: str, route: str,
                        annotator: str, metadata: str, order: str, page: int) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, (page or 0) - 1)

    @_guard("browse_status")
    def _on_browse_next(self, project: str | None, query: str, label: str, status: str, route: str,
                        annotator: str, metadata: str, order: str, page: int) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, (page or 0) + 1)

    @_guard("browse_status")
    def _on_similar(self, project: str | None, item: str) -> Updates:
        if not project:
            return {self.browse_status: render.note_box("No project yet.")}
        match = re.fullmatch(r"\s*#?\s*(\d+)\s*", item or "")
        if not match:
            raise ValidationError("Which item? Type its id.", got=repr(item or ""), expected="an item id, e.g. 12")
        result = self.service.browse.similar_items(project, int(match.group(1)), k=20)
        return self._page_updates(result, note=result.note)

    def _on_row_select(self, evt: gr.SelectData) -> Updates:
        row = evt.row_value or []
        if isinstance(evt.index, (list, tuple)) and len(evt.index) > 1 and evt.index[1] == 0:
            return no_change()  # a tick in the select column, not a request for similar items
        return {self.similar_box: str(row[1])} if len(row) > 1 and row[1] not in (None, "") else {}

    @staticmethod
    def _selected_ids(table: Any, typed: str) -> list[int]:
        ids: list[int] = []
        tick, id_column = BROWSE_COLUMNS[0], BROWSE_COLUMNS[1]
        if isinstance(table, pd.DataFrame) and not table.empty and tick in table.columns:
            picked = table[table[tick].astype(str).str.lower().isin(["true", "1"])]
            ids += [int(v) for v in picked[id_column].tolist() if str(v).strip() not in ("", "nan")]
        for token in re.split(r"[\s,;]+", typed or ""):
            token = token.strip().lstrip("#")
            if not token:
                continue
            if not token.isdigit():
                raise ValidationError(f"{token!r} is not an item id.", expected="ids like 12, 15, 40")
            ids.append(int(token))
        return list(dict.fromkeys(ids))

    @_guard("browse_status")
    def _on_bulk(self, project: str | None, user: str, table: Any, typed: str, label: str | None, query: str,
                 f_label: str, status: str, route: str, annotator: str, metadata: str, order: str,
                 page: int) -> Updates:
        if not project:
            return {self.browse_status: render.note_box("No project yet.")}
        if not label:
            raise ValidationError("Pick the label to give the selection.", fix="choose it in 'Bulk label'")
        ids = self._selected_ids(table, typed)
        n = self.service.browse.bulk_label(project, user or self.user, ids, [label])
        out = self._browse(project, query, f_label, status, route, annotator, metadata, order, page or 0)
        out[self.browse_status] = render.note_box(f"Labelled {n} item{'s' if n != 1 else ''} as “{label}” (bulk).")
        return out

    # ------------------------------------------------------------------ new-project handlers
    @_guard("create_status")
    def _on_upload(self, path: str | None) -> Updates:
        if not path:
            return {self.create_status: ""}
        columns, frame = self.service.imports.preview_file(path)
        columns = [str(c) for c in columns]
        lower = {c.lower(): c for c in columns}
        text_guess = next((lower[c] for c in ("text", "content", "body", "sentence", "review", "message")
                           if c in lower), columns[0] if columns else None)
        label_guess = next((lower[c] for c in ("label", "labels", "category", "class", "target") if c in lower), NONE)
        id_guess = next((lower[c] for c in ("id", "item_id", "uid", "external_id") if c in lower), NONE)
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(path).stem).strip("-")[:60] or "project"
        return {
            self.preview_table: frame.astype(str) if isinstance(frame, pd.DataFrame) else frame,
            self.text_col: gr.update(choices=columns, value=text_guess),
            self.label_col: gr.update(choices=[NONE, *columns], value=label_guess),
            self.id_col: gr.update(choices=[NONE, *columns], value=id_guess),
            self.new_name: stem,
            self.create_status: render.note_box(f"{len(columns)} columns found. Check the picks, name the labels, "
                                                "then Create & import."),
        }

    @staticmethod
    def parse_label_specs(labels: str, descriptions: str, hotkeys: str) -> list[dict[str, Any]]:
        """The New-project form's text boxes → label dicts (name, description, hotkey)."""
        names = [n.strip() for n in re.split(r"[,\n]", labels or "") if n.strip()]
        found: dict[str, str] = {}
        for line in (descriptions or "").splitlines():
            if not line.strip():
                continue
            name, sep, text = line.partition(":")
            if not sep:
                raise ValidationError(f"Cannot read the description line {line.strip()!r}.",
                                      expected="name: description", fix="write one 'label: what it means' per line")
            found[name.strip()] = text.strip()
        unknown = [n for n in found if n not in names]
        if unknown:
            raise ValidationError(f"A description names a label that is not in the list: {unknown[0]!r}.",
                                  expected=", ".join(names) or "(no labels)", fix="fix the spelling or add the label")
        keys = [k.strip() for k in (hotkeys or "").split(",") if k.strip()]
        if keys and len(keys) != len(names):
            raise ValidationError(f"{len(keys)} hotkeys for {len(names)} labels.",
                                  fix="give one hotkey per label, or leave the box empty for 1, 2, 3 …")
        if keys and (len(set(keys)) != len(keys) or any(len(k) != 1 for k in keys)):
            raise ValidationError("Hotkeys must be single, distinct characters.", got=", ".join(keys))
        reserved = {"s", "u", "f", "c"} & {k.lower() for k in keys}
        if reserved:
            raise ValidationError(f"Hotkey {sorted(reserved)[0]!r} is taken by a page command.",
                                  expected="keys other than S (skip), U (undo), F (flag), C (comment)")
        specs: list[dict[str, Any]] = []
        for i, name in enumerate(names):
            spec: dict[str, Any] = {"name": name, "description": found.get(name, "")}
            if keys:
                spec["hotkey"] = keys[i]
            specs.append(spec)
        return specs

    @_guard("create_status")
    def _on_create(self, path: str | None, name: str, labels: str, descriptions: str, hotkeys: str, task: str,
                   guidelines: str, text_col: str | None, label_col: str | None, id_col: str | None,
                   add_labels: bool, user: str, progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        from annotator.core.errors import ConflictError
        from annotator.importers import ImportSpec

        if not path:
            raise ValidationError("Upload a data file first.", fix="drop a CSV, JSONL or Parquet file on the box")
        if not text_col:
            raise ValidationError("Pick the text column.", fix="choose it in 'Text column'")
        name = (name or "").strip()
        specs = self.parse_label_specs(labels, descriptions, hotkeys)
        try:
            self.service.projects.create_project(name, specs, task_type=task or "single-label", guidelines=guidelines or "")
        except ConflictError:
            if self.service.projects.project(name).items:  # an empty project left by a failed import is reused
                raise
        progress(0.1, desc="Importing")
        spec = ImportSpec(text_column=text_col, label_column=None if label_col in (None, NONE) else label_col,
                          id_column=None if id_col in (None, NONE) else id_col)
        try:
            report = self.service.imports.import_file(name, path, spec, add_labels=bool(add_labels))
        except AnnotatorError as e:
            raise type(e)(e.what + f" (Project {name!r} was created empty: fix the file and press Create & "
                          "import again.)", expected=e.expected, got=e.got, fix=e.fix) from e
        progress(0.5, desc="Embedding the items")
        self.service.queue.pool(name, progress=lambda done, total: progress((done, total) if total else None,
                                                                      desc="Embedding the items"))
        names = [p.name for p in self.service.projects.list_projects()]
        out = self._project_view(name, user or self.user)
        bits = [f"{report.items_added:,} items imported"]
        if report.duplicates_skipped:
            bits.append(f"{report.duplicates_skipped:,} duplicates skipped")
        if report.near_duplicates_dropped:
            shown = ", ".join(f"row {d.row} ≈ item {d.duplicate_of_item_id} ({d.similarity:.2f})"
                              for d in report.near_duplicates[:5])
            more = " …" if report.near_duplicates_dropped > 5 else ""
            bits.append(f"{report.near_duplicates_dropped:,} near-duplicates dropped (similarity ≥ "
                        f"{report.near_duplicate_threshold}: {shown}{more})")
        if report.labels_imported:
            bits.append(f"{report.labels_imported:,} labels imported")
        if report.labels_added:
            bits.append("new labels: " + ", ".join(report.labels_added))
        out.update({
            self.create_status: render.note_box(f"Created “{name}”: " + "; ".join(bits) + "."),
            self.project_dd: gr.update(choices=names, value=name),
            self.tabs: gr.Tabs(selected="label"),
        })
        return out

    # ------------------------------------------------------------------ export handler
    @_guard("export_status")
    def _on_export(self, project: str | None, fmt: str, human_only: bool,
                   progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        if not project:
            raise ValidationError("No project to export.", fix="create or pick a project first")
        fmt = fmt or "csv"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", project).strip("-") or "project"
        out_dir = self.service.settings.data_dir / "exports" / f"{slug}-{fmt}-{stamp}"
        progress(0.1, desc="Exporting")
        result = self.service.exports.export(project, fmt=fmt, out=out_dir, only="human" if human_only else None)
        # Serve a copy from a temp folder: Gradio only serves files under its allowed paths.
        serve_dir = Path(tempfile.mkdtemp(prefix="annotator-export-"))
        if fmt in ("csv", "jsonl") and Path(result.data_path).is_file():
            download = serve_dir / f"{slug}-{stamp}.{fmt}"
            shutil.copyfile(result.data_path, download)
        else:
            download = Path(shutil.make_archive(str(serve_dir / f"{slug}-{fmt}-{stamp}"), "zip", result.out_dir))
        card = Path(result.card_path).read_text(encoding="utf-8") if Path(result.card_path).is_file() else ""
        return {
            self.export_file: str(download),
            self.card_md: _strip_front_matter(card),
            self.export_status: render.note_box(f"Exported {result.n_rows:,} rows to {result.out_dir}"),
        }


def estimate_cheap_seconds(n_items: int) -> float:
    """Rough wall time of a run of the cheap annotators (classifier, knn, zero-shot) over a pool of
    ``n_items``: measured ~1.4 s for 20,000 items on 2 CPU cores, mostly writing the suggestions."""
    return 0.3 + 7e-5 * max(0, int(n_items))


def calibration_frame(calibration: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``run_ai``'s per-annotator calibration → rows of temperature, OOF accuracy and ECE raw → calibrated."""

    def num(value: Any, fmt: str) -> str:
        return "—" if value is None else format(value, fmt)

    rows = []
    for name, c in calibration.items():
        label = "ensemble (fused)" if name == "ensemble" else name
        ece = f"{num(c.get('ece_raw'), '.3f')} → {num(c.get('ece_calibrated'), '.3f')}"
        rows.append([label, num(c.get("temperature"), ".2f"), num(c.get("oof_accuracy"), ".1%"), ece])
    return pd.DataFrame(rows, columns=CALIB_COLUMNS)


def reliability_figure(calibration: dict[str, dict[str, Any]]) -> Any:
    """The AI tab's reliability diagram: the dashboard's plot (``reporting.reliability_plot``) in
    the tab's compact layout, with a 0.1 grid."""
    fig = reliability_plot(calibration)
    fig.update_layout(
        template="plotly_white", height=400, margin={"l": 56, "r": 16, "t": 16, "b": 48},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 12}},
        xaxis={"title": "confidence (calibrated)", "range": [0, 1.02], "dtick": 0.1},
        yaxis={"title": "accuracy", "range": [0, 1.02], "dtick": 0.1},
        font={"family": "Inter, ui-sans-serif, system-ui, sans-serif", "size": 13},
    )
    return fig


def _strip_front_matter(card: str) -> str:
    """Drop a dataset card's YAML header (``---`` … ``---``) for display."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        if end != -1:
            return card[end + 4:].lstrip()
    return card


def _merge(first: Updates, second: Updates) -> Updates:
    """Combine two update dicts; where both update one component, their property updates merge."""
    out = dict(first)
    for key, value in second.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        else:
            out[key] = value
    return out


def _any_of(values: Sequence[str]) -> list[tuple[str, str]]:
    """Filter choices: "any" (the empty value) first, then each value."""
    return [ANY_CHOICE, *((v, v) for v in values)]
