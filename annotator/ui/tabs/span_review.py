"""The Review tab's section for span projects: items whose raters' spans differ, settled by a reviewer.

One disputed item at a time (``service.spans.disagreements``): its text, then every rater's spans
side by side (one column per rater; a span not every rater gave is marked), all text escaped. The
reviewer takes one rater's version (``span_review_take``) or edits the final spans as JSON
(pre-filled with the first rater's) and settles (``span_review_settle``); both go through
``service.spans.settle`` (reviewer or admin role). ``span_review_queue`` refreshes. The section
is hidden for projects that are not span projects.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import ValidationError
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab, need_item
from annotator.ui.render import esc

if TYPE_CHECKING:
    from annotator.service import AnnotatorService


def _key(span: dict[str, Any]) -> tuple[int, int, str]:
    return int(span["start"]), int(span["end"]), str(span["label"])


def raters_table(entry: dict[str, Any]) -> str:
    """Every rater's spans side by side: one column per rater, one line per span (label, quoted
    text, offsets); a span that not every rater gave carries the class ``span-differs``."""
    raters = entry["raters"]
    keys = [{_key(s) for s in r["spans"]} for r in raters]
    common = set.intersection(*keys) if keys else set()
    head = "".join(f'<th data-rater="{esc(r["rater"])}">{esc(r["rater"])}</th>' for r in raters)

    def cell(r: dict[str, Any]) -> str:
        lines = "".join(
            f'<li class="{"span-same" if _key(s) in common else "span-differs"}"><b>{esc(s["label"])}</b> '
            f'“{esc(s["text"])}” <span class="span-offsets">{int(s["start"])}–{int(s["end"])}</span></li>'
            for s in r["spans"]) or '<li class="span-none">(no spans)</li>'
        return f'<td data-rater="{esc(r["rater"])}"><ul class="span-list">{lines}</ul></td>'

    return (f'<table class="span-review"><tr>{head}</tr><tr>{"".join(cell(r) for r in raters)}</tr></table>')


class SpanReviewSection(Tab):
    """Rendered inside the Review tab (``render()`` then ``wire(page)``)."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    def render(self) -> None:
        self.item_state = gr.State(None)  # the disputed item shown (id)
        with gr.Accordion("Span disagreements", open=True, visible=False, elem_id="span-review") as self.box:
            with gr.Row(equal_height=True):
                self.summary_html = gr.HTML("", elem_id="span-review-summary")
                self.refresh_btn = gr.Button("Refresh spans", scale=0, min_width=140, elem_id="span-review-refresh")
            self.item_html = gr.HTML("", elem_id="span-review-item")
            self.table_html = gr.HTML("", elem_id="span-review-table")
            with gr.Row(equal_height=True):
                self.rater_pick = gr.Dropdown([], label="Take this rater's spans", elem_id="span-review-rater",
                                              scale=3)
                self.take_btn = gr.Button("Take", elem_id="span-review-take", scale=0, min_width=110)
            self.spans_box = gr.Textbox(label='Final spans (JSON: [{"start", "end", "label"}])', lines=3,
                                        elem_id="span-review-json")
            self.settle_btn = gr.Button("Settle with these spans", elem_id="span-review-settle")
            self.status_html = gr.HTML("", elem_id="span-review-status")

    def wire(self, page: Page) -> None:
        out = self.outputs()
        self.refresh_btn.click(self.on_refresh, [page.project_dd], out, api_name="span_review_queue")
        page.tab["review"].select(self.on_refresh, [page.project_dd], out, api_name=False, show_progress="hidden")
        fast = {"queue": False, "show_progress": "hidden"}
        self.take_btn.click(self.on_take, [page.project_dd, page.user_box, self.item_state, self.rater_pick], out,
                            api_name="span_review_take", **fast)
        self.settle_btn.click(self.on_settle, [page.project_dd, page.user_box, self.item_state, self.spans_box], out,
                              api_name="span_review_settle", **fast)

    def outputs(self) -> list[Any]:
        return [self.box, self.summary_html, self.item_html, self.table_html, self.rater_pick, self.spans_box,
                self.status_html, self.item_state]

    # ------------------------------------------------------------------ handlers
    def on_refresh(self, project: str | None) -> Updates:
        return self.guarded(lambda: self._view(project))

    def on_take(self, project: str | None, user: str, item_id: int | None, rater: str | None) -> Updates:
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            if not rater:
                raise ValidationError("Pick the rater whose spans to take.", fix="choose a name under 'Take'")
            self.service.spans.take(project_, user, item, rater)
            return self._view(project_, note=f"Item {item}: settled with {rater}'s spans.")

        return self.guarded(act)

    def on_settle(self, project: str | None, user: str, item_id: int | None, text: str | None) -> Updates:
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            try:
                spans = json.loads(text or "[]")
            except json.JSONDecodeError as e:
                raise ValidationError("The final spans are not JSON.", expected='[{"start": 0, "end": 3, '
                                      '"label": "PER"}]', got=(text or "")[:80],
                                      fix="edit the JSON list (or take a rater's spans)") from e
            done = self.service.spans.settle(project_, user, item, spans)
            return self._view(project_, note=f"Item {item}: settled with {len(done)} span(s).")

        return self.guarded(act)

    # ------------------------------------------------------------------ views
    @staticmethod
    def _need_item(project: str | None, item_id: int | None) -> tuple[str, int]:
        return need_item(project, item_id, none_shown="No disputed item is shown.", fix="press 'Refresh spans'")

    def _view(self, project: str | None, *, note: str = "") -> Updates:
        hidden = {self.box: gr.update(visible=False), self.item_state: None}
        if not project or self.service.projects.project(project).task_type != "spans":
            return hidden
        listing = self.service.spans.disagreements(project, limit=1)
        summary = (f'<div class="ann-note" data-disputed="{listing["items"]}"><b>{listing["items"]}</b> items whose '
                   f'raters\' spans differ · {listing["settled"]} settled</div>')
        if not listing["entries"]:
            return {self.box: gr.update(visible=True), self.summary_html: summary,
                    self.item_html: render.item_card(None, None, empty_message="No span disagreements."),
                    self.table_html: "", self.rater_pick: gr.update(choices=[], value=None), self.spans_box: "",
                    self.status_html: render.note_box(note), self.item_state: None}
        entry = listing["entries"][0]
        raters = [r["rater"] for r in entry["raters"]]
        first = [{k: s[k] for k in ("start", "end", "label")} for s in entry["raters"][0]["spans"]]
        return {self.box: gr.update(visible=True), self.summary_html: summary,
                self.item_html: render.item_card(entry["item_id"], entry["text"]),
                self.table_html: raters_table(entry), self.rater_pick: gr.update(choices=raters, value=raters[0]),
                self.spans_box: json.dumps(first), self.status_html: render.note_box(note),
                self.item_state: entry["item_id"]}
