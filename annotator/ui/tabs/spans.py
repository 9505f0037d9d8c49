"""The span page: label spans of text (entities, PII, evidence), keyboard first, as Prodigy's
``ner.manual`` / ``ner.correct`` do.

A span project opened in the app shows this page in the Label tab instead of the classification
page (``project_view`` hides one and shows the other). The item's text is shown as tokens
(``annotator.ui.span_render``); the person's previous spans (after undo) or the AI's suggested
spans (not on the blind and audit routes, where the service gives none) are pre-filled. The page's
script (``annotator.ui.span_keys``) keeps the current spans as JSON in the hidden textbox
``#span-json`` and clicks the buttons here, so keys and mouse run the same events.

Events, each with an ``api_name`` (listed in ``annotator.ui.auth.POLICY``), on the hot path
(``queue=False``, ``show_progress="hidden"``): ``spans_accept`` (save the spans shown, next item),
``spans_skip``, ``spans_undo``. The service validates the spans again (inside the text, known
labels, no overlap unless the project allows it); a refused answer writes nothing and shows why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import EmptyPoolError, ValidationError
from annotator.core.schema import TaskType
from annotator.ui import auth, render, span_render
from annotator.ui.components import Page, Updates, display_html, no_change
from annotator.ui.guards import Tab, guard

if TYPE_CHECKING:
    from annotator.core.schema import ProjectSettings, ProjectSummary
    from annotator.service import AnnotatorService
    from annotator.service.spans import SpanItemView

ALL_DONE = "Every item has its spans. Export them from the CLI: python -m annotator export --format hf."


def is_span_project(summary: ProjectSummary) -> bool:
    """Whether ``summary`` (a project summary) is a span project."""
    return str(summary.task_type) == TaskType.spans.value


def parse_spans_json(raw: str | None) -> list[dict[str, Any]]:
    """The page's spans box (JSON ``[{start, end, label}]``; empty means none) as a list of dicts.

    Raises:
        ValidationError: the box does not hold a JSON list (the service checks each span).
    """
    if raw is None or not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValidationError("The page sent spans that are not JSON.", expected='[{"start", "end", "label"}]',
                              got=raw[:80], fix="reload the page") from e
    if not isinstance(value, list):
        raise ValidationError("The page sent spans that are not a list.", expected='[{"start", "end", "label"}]',
                              got=type(value).__name__, fix="reload the page")
    return value


class SpansTab(Tab):
    """The span page for the project and person in the header. ``render()`` inside the Label tab
    (after the classification page), ``wire(page)``; ``project_view`` shows it for span projects.

    Args:
        service: the facade every handler calls.
        default_user: the name used when the header's box is empty.
        auth_mode: whether every event carries a login (an annotator then sees only their answers).
    """

    def __init__(self, service: AnnotatorService, *, default_user: str, auth_mode: bool):
        super().__init__(service)
        self.default_user = default_user
        self.auth_mode = auth_mode
        self.classification_page: Any = None

    # ------------------------------------------------------------------ layout
    def render(self, classification_page: Any = None) -> None:
        """Lay the page out (hidden until a span project opens); ``classification_page`` is the Label
        tab's classification row, hidden while this page shows."""
        self.classification_page = classification_page
        self.item_state = gr.State(None)  # the shown item's id
        self.labels_state = gr.State([])  # label names in key order
        self.overlap_state = gr.State(False)  # project setting: overlapping spans allowed
        with gr.Row(visible=False, elem_id="span-page") as self.page_row:
            with gr.Column(scale=3, elem_id="span-main"):
                self.why_html = display_html(elem_id="span-why")
                self.card_html = display_html(span_render.span_card(None, None, [], [], empty_message="Loading…"),
                                              elem_id="span-card")
                # what the page's script keeps: the spans shown, as JSON; sent with Accept
                self.spans_box = gr.Textbox("[]", visible="hidden", elem_id="span-json", label="spans (JSON)",
                                            max_lines=1)
                with gr.Row(elem_id="span-actions", elem_classes=["ann-actions"]):
                    self.accept_btn = gr.Button("Accept ⏎", elem_id="span-accept", variant="primary", size="md",
                                                min_width=110)
                    self.skip_btn = gr.Button("Skip · S", elem_id="span-skip", size="md", min_width=90)
                    self.undo_btn = gr.Button("Undo · U", elem_id="span-undo", size="md", min_width=90)
                self.status_html = display_html(elem_id="span-status")
            with gr.Column(scale=1, min_width=260, elem_id="span-side"):
                self.legend_html = display_html(elem_id="span-legend")
                self.progress_html = display_html(elem_id="span-progress")
                with gr.Accordion("Guidelines", open=False, elem_id="span-guidelines"):
                    self.guidelines_md = gr.Markdown(elem_id="span-guidelines-md")

    def item_outputs(self) -> list[Any]:
        """Every component an answer event updates."""
        return [self.item_state, self.card_html, self.spans_box, self.why_html, self.status_html, self.progress_html]

    def project_outputs(self) -> list[Any]:
        """Every component opening a project updates (the classification row included)."""
        extra = [self.page_row, self.labels_state, self.overlap_state, self.legend_html, self.guidelines_md]
        if self.classification_page is not None:
            extra.append(self.classification_page)
        return self.item_outputs() + extra

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        """The hot path: Accept / Skip / Undo save or take back one answer and show the next item."""
        fast = {"queue": False, "show_progress": "hidden"}
        head = [page.project_dd, page.user_box, self.item_state, self.labels_state, self.overlap_state]
        outputs = self.item_outputs()
        self.accept_btn.click(self.on_accept, [*head, self.spans_box], outputs, api_name="spans_accept", **fast)
        self.skip_btn.click(self.on_skip, head, outputs, api_name="spans_skip", **fast)
        self.undo_btn.click(self.on_undo, head, outputs, api_name="spans_undo", **fast)

    # ------------------------------------------------------------------ views
    def hidden(self) -> Updates:
        """A project that is not a span project: this page hidden, the classification page shown."""
        out: Updates = {self.page_row: gr.update(visible=False), self.item_state: None}
        if self.classification_page is not None:
            out[self.classification_page] = gr.update(visible=True)
        return out

    def project_view(self, project: str, user: str, summary: ProjectSummary, guidelines: str,
                     settings: ProjectSettings) -> Updates:
        """This page shown (the classification page hidden) with the project's legend and its first item."""
        labels = [s.name for s in summary.labels]
        overlap = bool(settings.allow_overlapping_spans)
        out: Updates = {
            self.page_row: gr.update(visible=True), self.labels_state: labels, self.overlap_state: overlap,
            self.legend_html: span_render.legend([(s.name, s.hotkey) for s in summary.labels]),
            self.guidelines_md: guidelines or "_No guidelines for this project yet._",
        }
        if self.classification_page is not None:
            out[self.classification_page] = gr.update(visible=False)
        self.service.queue.release(project, user)  # a reload shows the person a fresh item
        out.update(self.next_view(project, user, labels, overlap))
        return out

    def item_view(self, view: SpanItemView | None, labels: Sequence[str], overlap: bool, *, status: str = "",
                  empty_message: str = ALL_DONE) -> Updates:
        """Updates that show ``view`` (the service's span item, or None when nothing is left)."""
        if view is None:
            return {self.item_state: None, self.spans_box: "[]", self.why_html: "", self.status_html: status,
                    self.card_html: span_render.span_card(None, None, [], labels, empty_message=empty_message)}
        return {
            self.item_state: view.item_id,
            self.card_html: span_render.span_card(view.item_id, view.text, view.spans, labels, allow_overlap=overlap),
            self.spans_box: json.dumps(view.spans, ensure_ascii=False),
            self.why_html: span_render.why_line(view.route, view.strategy, view.score, suggested=len(view.suggested),
                                                agent=view.suggestion_agent, undo=view.previous is not None),
            self.status_html: status,
        }

    def next_view(self, project: str, user: str, labels: Sequence[str], overlap: bool, status: str = "") -> Updates:
        """The person's next item, with the progress panel."""
        try:
            view = self.service.spans.next_item(project, user)
        except EmptyPoolError as e:
            return {**self.item_view(None, labels, overlap, status=status, empty_message=e.what),
                    self.progress_html: self.progress_view(project)}
        return {**self.item_view(view, labels, overlap, status=status), self.progress_html: self.progress_view(project)}

    def progress_view(self, project: str | None) -> str:
        """Items with spans / total, by label and by person (only one's own in a team's annotator view)."""
        if not project:
            return render.note_box("No project yet.")
        own = auth.own_answers_of(self.service, self.auth_mode)
        p = self.service.queue.progress(project, own_answers_of=own)
        return render.progress_panel(p.total, p.labelled, p.by_label, p.by_user, own=own is not None)

    # ------------------------------------------------------------------ handlers
    @guard
    def on_accept(self, project: str | None, user: str, item_id: int | None, labels: list[str], overlap: bool,
                  spans_json: str) -> Updates:
        """Save the spans shown (``spans_json``: JSON ``[{start, end, label}]``) and show the next item.
        A refused answer (bad offsets, unknown label, overlap) writes nothing; the error box says why."""
        if not project or item_id is None:
            return {self.status_html: render.note_box("Nothing to answer: no item is shown.")}
        user = user or self.default_user
        stored = self.service.spans.submit_spans(project, user, int(item_id), parse_spans_json(spans_json))
        return self.next_view(project, user, labels, overlap, status=span_render.saved_line(int(item_id), stored))

    @guard
    def on_skip(self, project: str | None, user: str, item_id: int | None, labels: list[str],
                overlap: bool) -> Updates:
        """Put the item aside (it comes back when the queue runs out) and show the next one."""
        if not project or item_id is None:
            return no_change()
        user = user or self.default_user
        self.service.queue.skip(project, user, int(item_id))
        return self.next_view(project, user, labels, overlap)

    @guard
    def on_undo(self, project: str | None, user: str, item_id: int | None, labels: list[str],
                overlap: bool) -> Updates:
        """Take back the person's last answer and show that item again with its spans pre-filled."""
        if not project:
            return no_change()
        user = user or self.default_user
        self.service.queue.release(project, user)  # the item on screen goes back to the queue
        view = self.service.spans.undo(project, user)
        if view is None:
            return {self.status_html: render.note_box("Nothing to undo yet.")}
        return {**self.item_view(view, labels, overlap), self.progress_html: self.progress_view(project)}
