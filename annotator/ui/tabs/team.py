"""The Team tab: agreement between raters, each person's figures, and the overlap settings.

For admins and reviewers (an annotator's page hides the tab and ``annotator.ui.auth.POLICY``
refuses its events): everything comes from ``service.team.team_overview`` in one call.

- Headline: Krippendorff's alpha (nominal), Fleiss' kappa and the mean pairwise Cohen's kappa over
  the items two or more raters answered, how many such items, how many are settled (by a reviewer,
  by a majority).
- People (and, with "Include AI annotators as raters", the AI annotators): labels, labels per hour,
  median seconds per item, skips, agreement with the others, mean kappa, accuracy on settled items.
- Pairwise Cohen's kappa per pair of raters, and the measures per label (one-vs-rest).
- Overlap: the share of items that get k answers from different people (admins save it).
- Assignment: admins give a slice of items (by metadata, text or label; none: every item) to named
  people, who alone are served them, ahead of their queue; or take it back.

Events (each listed in ``annotator.ui.auth.POLICY``): ``team_stats`` (the refresh button; opening
the tab and the "include AI" box do the same), ``save_overlap`` and ``assign_slice`` (admins only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from annotator.core.errors import ValidationError
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab, need_project
from annotator.ui.render import esc

if TYPE_CHECKING:
    from annotator.service import AnnotatorService


PEOPLE_COLUMNS = ["rater", "role", "labels", "labels / hour", "median s / item", "skips", "overlap items",
                  "agreement", "mean kappa", "settled items", "accuracy"]
PAIR_COLUMNS = ["rater A", "rater B", "items", "Cohen's kappa", "agreement"]
LABEL_COLUMNS = ["label", "ratings", "Fleiss' kappa", "Krippendorff's alpha", "mean pairwise kappa"]


def _num(value: Any, fmt: str = ".3f") -> str:
    """A figure for a table cell: '–' where undefined (None / NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return format(value, fmt)


def people_frame(people: Sequence[dict[str, Any]], agreement: dict[str, Any] | None) -> pd.DataFrame:
    """One row per person (``person_stats`` rows), then one per AI rater of ``agreement`` (when AI
    annotators were counted as raters): the per-person table of the tab, as display strings."""
    rows = [[p["person"], p["role"], p["labels"], _num(p["labels_per_hour"], ".1f"), _num(p["median_seconds"], ".1f"),
             p["skips"], p["overlap_items"], _num(p["agreement"], ".1%"), _num(p["mean_kappa"]), p["settled_items"],
             _num(p["accuracy"], ".1%")] for p in people]
    if agreement:
        kinds = agreement.get("rater_kinds", {})
        accuracy = {row["rater"]: row for row in agreement.get("accuracy", [])}
        for row in agreement.get("per_rater", []):
            if kinds.get(row["rater"]) != "ai":
                continue
            acc = accuracy.get(row["rater"], {})
            rows.append([row["rater"], "AI", row["items"], "–", "–", "–", row["overlap_items"],
                         _num(row["agreement"], ".1%"), _num(row["mean_kappa"]), acc.get("settled_items", 0),
                         _num(acc.get("accuracy"), ".1%")])
    return pd.DataFrame(rows, columns=PEOPLE_COLUMNS)


def pairs_frame(agreement: dict[str, Any] | None) -> pd.DataFrame:
    """Pairwise Cohen's kappa rows of ``agreement`` (empty without one)."""
    rows = [[p["rater_a"], p["rater_b"], p["items"], _num(p["kappa"]), _num(p["agreement"], ".1%")]
            for p in (agreement or {}).get("pairwise", [])]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def labels_frame(agreement: dict[str, Any] | None) -> pd.DataFrame:
    """Per-label (one-vs-rest) measures of ``agreement`` (empty without one)."""
    rows = [[r["label"], r["ratings"], _num(r["fleiss_kappa"]), _num(r["krippendorff_alpha"]),
             _num(r["mean_pairwise_kappa"])] for r in (agreement or {}).get("per_label", [])]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def headline_html(overview: dict[str, Any]) -> str:
    """The headline figures (or why there are none yet) as HTML; ``data-*`` attributes carry the values."""
    agreement = overview["agreement"]
    overlap = overview["overlap"]
    setting = (f"Overlap: {overlap['fraction']:.0%} of items get {overlap['k']} answers from different people"
               if overlap["fraction"] > 0 else "Overlap is off: every item gets one answer")
    if not agreement:
        return (f'<div id="team-headline" data-overlap-items="0">{render.note_box(overview["agreement_note"] or "")}'
                f'<div class="ann-muted">{esc(setting)}.</div></div>')
    macro = " (macro mean over labels)" if agreement.get("macro_over_labels") else ""
    by = agreement.get("settled_by") or {}
    ai = [name for name, kind in agreement.get("rater_kinds", {}).items() if kind == "ai"]
    cells = [("Krippendorff's alpha" + macro, "krippendorff_alpha"), ("Fleiss' kappa" + macro, "fleiss_kappa"),
             ("Mean pairwise Cohen's kappa" + macro, "mean_pairwise_kappa")]
    figures = "".join(f'<tr><td>{esc(name)}</td><td data-measure="{key}">{_num(agreement[key])}</td></tr>'
                      for name, key in cells)
    raters = f"{len(agreement['raters'])} raters" + (f" ({len(ai)} AI: {', '.join(ai)})" if ai else "")
    return (
        f'<div id="team-headline" data-overlap-items="{int(agreement["overlap_items"])}">'
        f'<p><b>{int(agreement["overlap_items"])}</b> items answered by two or more of {esc(raters)}; '
        f'{int(agreement.get("settled_items", 0))} settled (by a reviewer {int(by.get("reviewer", 0))}, '
        f'by a majority {int(by.get("majority", 0))}).</p>'
        f'<table class="ann-thresholds"><tr><th>measure</th><th>value</th></tr>{figures}</table>'
        f'<div class="ann-muted">{esc(setting)}.</div></div>'
    )


class TeamTab(Tab):
    """The Team tab. ``render()`` inside the page's ``gr.Tab``, then ``wire(page)``."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        with gr.Row(equal_height=True):
            self.refresh_btn = gr.Button("Refresh", variant="primary", scale=0, min_width=120, elem_id="team-refresh")
            self.include_ai = gr.Checkbox(False, label="Include AI annotators as raters", elem_id="team-include-ai",
                                          scale=0, min_width=260)
            self.status_html = gr.HTML("", js_on_load=None, elem_id="team-status")
        self.headline = gr.HTML("<p>Open this tab or press Refresh to measure the agreement.</p>", js_on_load=None,
                                elem_id="team-headline-box")
        self.people_table = gr.Dataframe(
            headers=PEOPLE_COLUMNS, interactive=False, wrap=True, elem_id="team-people",
            label="People (and AI raters): speed, skips, agreement, accuracy on settled items")
        with gr.Row():
            self.pairs_table = gr.Dataframe(headers=PAIR_COLUMNS, interactive=False, elem_id="team-pairs",
                                            label="Pairwise Cohen's kappa (items both answered)")
            self.labels_table = gr.Dataframe(headers=LABEL_COLUMNS, interactive=False, elem_id="team-labels",
                                             label="Per label (this label or not)")
        with gr.Accordion("Overlap (admins change it)", open=True):
            with gr.Row(equal_height=True):
                self.fraction = gr.Number(label="Share of items with several answers (0–1; 0 = off)", minimum=0,
                                          maximum=1, step=0.05, elem_id="team-overlap-fraction", scale=1)
                self.k = gr.Number(label="Answers per such item, from different people (2–20)", minimum=2, maximum=20,
                                   step=1, precision=0, elem_id="team-overlap-k", scale=1)
                self.save_btn = gr.Button("Save overlap", scale=0, min_width=140, elem_id="team-overlap-save")
        with gr.Accordion("Assign a slice to people (admins)", open=False):
            with gr.Row(equal_height=True):
                self.assign_people = gr.Dropdown([], multiselect=True, label="People", elem_id="team-assign-people",
                                                 scale=2)
                self.assign_meta = gr.Textbox(label="Metadata", placeholder="key=value, e.g. channel=email",
                                              max_lines=1, elem_id="team-assign-meta", scale=2)
                self.assign_query = gr.Textbox(label="Text contains (or an external id)", max_lines=1,
                                               elem_id="team-assign-query", scale=2)
                self.assign_undo = gr.Checkbox(False, label="Take back instead", elem_id="team-assign-undo", scale=0,
                                               min_width=160)
                self.assign_btn = gr.Button("Assign", scale=0, min_width=120, elem_id="team-assign")
            self.assign_html = gr.HTML("", js_on_load=None, elem_id="team-assigned")

    def outputs(self) -> list[Any]:
        return [self.status_html, self.headline, self.people_table, self.pairs_table, self.labels_table,
                self.fraction, self.k, self.assign_people, self.assign_html]

    def wire(self, page: Page) -> None:
        """Connect the events; ``ui`` is the AnnotatorUI (project dropdown, the tab)."""
        inputs = [page.project_dd, self.include_ai]
        out = self.outputs()
        self.refresh_btn.click(self.on_refresh, inputs, out, api_name="team_stats")
        page.tab["team"].select(self.on_refresh, inputs, out, api_name=False, show_progress="hidden")
        self.include_ai.input(self.on_refresh, inputs, out, api_name=False)
        self.save_btn.click(self.on_save_overlap, [*inputs, self.fraction, self.k], out, api_name="save_overlap")
        self.assign_btn.click(self.on_assign, [*inputs, self.assign_people, self.assign_meta, self.assign_query,
                                               self.assign_undo], out, api_name="assign_slice")

    # ------------------------------------------------------------------ handlers
    def on_refresh(self, project: str | None, include_ai: bool) -> Updates:
        return self.guarded(lambda: self._view(project, include_ai))

    def on_save_overlap(self, project: str | None, include_ai: bool, fraction: float | None, k: float | None
                        ) -> Updates:
        def save() -> Updates:
            if fraction is None and k is None:
                raise ValidationError("Nothing to save.", fix="type the share of items and k, e.g. 0.1 and 3")
            settings = self.service.team.set_overlap(need_project(project, "No project to show."), fraction=fraction, k=k)
            view = self._view(project, include_ai)
            view[self.status_html] = render.note_box(
                f"Saved: {settings.overlap_fraction:.0%} of items get {settings.overlap_k} answers." if
                settings.overlap_fraction > 0 else "Saved: overlap off, every item gets one answer.")
            return view

        return self.guarded(save)

    def on_assign(self, project: str | None, include_ai: bool, people: Sequence[str] | None, metadata: str | None,
                  query: str | None, take_back: bool) -> Updates:
        def assign() -> Updates:
            name = need_project(project, "No project to show.")
            if not (people or take_back):
                raise ValidationError("Whom should these items go to?", fix="pick one or more people")
            if take_back and not (people or metadata or query):
                raise ValidationError("Take back which items?", expected="a filter or people",
                                      fix="type a metadata filter or text, or pick people")
            done = self.service.team.assign(name, list(people or []), metadata=metadata or None, query=query or "",
                                       unassign=bool(take_back))
            view = self._view(project, include_ai)
            whom = ", ".join(done["users"]) or "everyone"
            view[self.status_html] = render.note_box(
                f"{done['items']} matching items {'taken back from' if take_back else 'assigned to'} {whom} "
                f"({done['changed']} changes).")
            return view

        return self.guarded(assign)

    # ------------------------------------------------------------------ helpers

    def _view(self, project: str | None, include_ai: bool) -> Updates:
        overview = self.service.team.team_overview(need_project(project, "No project to show."), include_ai=bool(include_ai))
        agreement = overview["agreement"]
        return {
            self.status_html: "", self.headline: headline_html(overview),
            self.people_table: people_frame(overview["people"], agreement),
            self.pairs_table: pairs_frame(agreement), self.labels_table: labels_frame(agreement),
            self.fraction: overview["overlap"]["fraction"], self.k: overview["overlap"]["k"],
            self.assign_people: gr.update(choices=overview["people_names"]),
            self.assign_html: render.note_box(
                f"{overview['assigned_items']} items are assigned to named people; they are served to them only."
                if overview["assigned_items"] else "No item is assigned: everyone labels from the shared queue."),
        }

