"""The Browse tab: search and filter the items, page through them, find similar ones, bulk-label.

Events: ``browse``, ``browse_prev``, ``browse_next``, ``similar``, ``bulk_label``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from annotator.core.errors import ValidationError
from annotator.ui import auth, render
from annotator.ui.components import (
    ANY,
    ANY_CHOICE,
    Page,
    Updates,
    any_of,
    display_html,
    no_change,
)
from annotator.ui.guards import Tab, guard

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

BROWSE_COLUMNS = ["✓", "id", "text", "label", "status", "by", "suggestion", "score", "metadata"]


class BrowseTab(Tab):
    """A page of items under the current filters, with similar-item search and bulk labelling.

    Args:
        service: the facade every handler calls.
        default_user: who bulk labels when the header's box is empty.
        auth_mode: whether every event carries a login (an annotator then sees only their answers).
    """

    PAGE_SIZE = 50

    def __init__(self, service: AnnotatorService, *, default_user: str, auth_mode: bool):
        super().__init__(service)
        self.default_user = default_user
        self.auth_mode = auth_mode

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
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
            self.page_html = display_html(elem_id="browse-page-info")
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
        self.status_html = display_html(elem_id="browse-status")

    def filter_outputs(self) -> list[Any]:
        """The filter choices opening a project updates."""
        return [self.filter_label, self.filter_status, self.filter_route, self.filter_annotator, self.bulk_label_dd]

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        inputs = [page.project_dd, self.search_box, self.filter_label, self.filter_status, self.filter_route,
                  self.filter_annotator, self.filter_meta, self.order_dd]
        outputs = [self.browse_table, self.page_html, self.page_state, self.status_html]
        self.search_btn.click(self.on_first, inputs, outputs, api_name="browse")
        self.search_box.submit(self.on_first, inputs, outputs, api_name=False)
        self.prev_btn.click(self.on_prev, [*inputs, self.page_state], outputs, api_name="browse_prev")
        self.next_btn.click(self.on_next, [*inputs, self.page_state], outputs, api_name="browse_next")
        self.similar_btn.click(self.on_similar, [page.project_dd, self.similar_box], outputs, api_name="similar")
        self.browse_table.select(self.on_row_select, None, [self.similar_box], api_name=False, queue=False,
                                 show_progress="hidden")
        self.bulk_btn.click(self.on_bulk, [page.project_dd, page.user_box, self.browse_table, self.bulk_ids,
                                           self.bulk_label_dd, *inputs[1:], self.page_state],
                            outputs, api_name="bulk_label")

    # ------------------------------------------------------------------ views
    def filters_view(self, project: str, labels: Sequence[str]) -> Updates:
        """The filter choices of a newly opened project, reset to "any"."""
        options = self.service.browse.browse_options(project, own_answers_of=self._own())
        return {
            self.filter_label: gr.update(choices=any_of(labels), value=ANY),
            self.filter_status: gr.update(choices=any_of(options["statuses"]), value=ANY),
            self.filter_route: gr.update(choices=any_of(options["routes"]), value=ANY),
            self.filter_annotator: gr.update(choices=any_of(options["annotators"]), value=ANY),
            self.bulk_label_dd: gr.update(choices=list(labels), value=labels[0] if labels else None),
        }

    def _own(self) -> str | None:
        return auth.own_answers_of(self.service, self.auth_mode)

    def _browse(self, project: str | None, query: str, label: str, status: str, route: str, annotator: str,
                metadata: str, order: str, page: int) -> Updates:
        if not project:
            return {self.status_html: render.note_box("No project yet.")}
        result = self.service.browse.browse(project, query=query or "", label=label or None, status=status or None,
                                            route=route or None, annotator=annotator or None,
                                            metadata=metadata or None, order=order or "id", page=max(0, page),
                                            page_size=self.PAGE_SIZE, own_answers_of=self._own())
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
            self.browse_table: rows_frame(result.rows), self.page_state: result.page,
            self.page_html: f'<div class="ann-page-info">{render.esc(info)}</div>',
            self.status_html: status or render.note_box(note),
        }

    # ------------------------------------------------------------------ handlers
    @guard
    def on_first(self, project: str | None, query: str, label: str, status: str, route: str,
                 annotator: str, metadata: str, order: str) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, 0)

    @guard
    def on_prev(self, project: str | None, query: str, label: str, status: str, route: str,
                annotator: str, metadata: str, order: str, page: int) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, (page or 0) - 1)

    @guard
    def on_next(self, project: str | None, query: str, label: str, status: str, route: str,
                annotator: str, metadata: str, order: str, page: int) -> Updates:
        return self._browse(project, query, label, status, route, annotator, metadata, order, (page or 0) + 1)

    @guard
    def on_similar(self, project: str | None, item: str) -> Updates:
        if not project:
            return {self.status_html: render.note_box("No project yet.")}
        match = re.fullmatch(r"\s*#?\s*(\d+)\s*", item or "")
        if not match:
            raise ValidationError("Which item? Type its id.", got=repr(item or ""), expected="an item id, e.g. 12")
        result = self.service.browse.similar_items(project, int(match.group(1)), k=20)
        return self._page_updates(result, note=result.note)

    def on_row_select(self, evt: gr.SelectData) -> Updates:
        row = evt.row_value or []
        if isinstance(evt.index, (list, tuple)) and len(evt.index) > 1 and evt.index[1] == 0:
            return no_change()  # a tick in the select column, not a request for similar items
        return {self.similar_box: str(row[1])} if len(row) > 1 and row[1] not in (None, "") else {}

    @guard
    def on_bulk(self, project: str | None, user: str, table: Any, typed: str, label: str | None, query: str,
                f_label: str, status: str, route: str, annotator: str, metadata: str, order: str,
                page: int) -> Updates:
        if not project:
            return {self.status_html: render.note_box("No project yet.")}
        if not label:
            raise ValidationError("Pick the label to give the selection.", fix="choose it in 'Bulk label'")
        ids = selected_ids(table, typed)
        n = self.service.browse.bulk_label(project, user or self.default_user, ids, [label])
        out = self._browse(project, query, f_label, status, route, annotator, metadata, order, page or 0)
        out[self.status_html] = render.note_box(f"Labelled {n} item{'s' if n != 1 else ''} as “{label}” (bulk).")
        return out


def rows_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The service's browse rows → the table's frame (``BROWSE_COLUMNS``; long texts cut at 300)."""

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


def selected_ids(table: Any, typed: str) -> list[int]:
    """Item ids of the ticked rows of ``table`` plus those typed ("12, 15 #40"), each once, in order."""
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
