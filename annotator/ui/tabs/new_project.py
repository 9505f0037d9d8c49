"""The New project tab: upload a file, pick its columns, name the labels, create and import.

Events: ``preview_file`` (the upload), ``create_project``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from annotator.core.errors import AnnotatorError, ConflictError, ValidationError
from annotator.importers import ImportSpec
from annotator.ui import render
from annotator.ui.components import Page, Updates, display_html
from annotator.ui.guards import Tab, guard

if TYPE_CHECKING:
    from annotator.core.schema import ImportReport
    from annotator.service import AnnotatorService

NONE = "(none)"
#: Keys the label page keeps for its own commands (skip, undo, flag, comment).
RESERVED_KEYS = {"s", "u", "f", "c"}


class NewProjectTab(Tab):
    """Create a project from an uploaded file and open it on the label page.

    Args:
        service: the facade every handler calls.
        default_user: who the new project is opened for when the header's box is empty.
        open_project: ``(project, user) → updates`` of the page's project outputs (the page's own view).
        project_outputs: ``() → the components open_project updates`` (known once the page is built).
    """

    def __init__(self, service: AnnotatorService, *, default_user: str,
                 open_project: Callable[[str, str], Updates], project_outputs: Callable[[], list[Any]]):
        super().__init__(service)
        self.default_user = default_user
        self.open_project = open_project
        self.project_outputs = project_outputs

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
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
                                                  max_chars=120, elem_id="preview-table")
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
        self.status_html = display_html(elem_id="create-status")

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        self.page = page
        self.upload.upload(self.on_upload, [self.upload], [self.preview_table, self.text_col, self.label_col,
                                                           self.id_col, self.new_name, self.status_html],
                           api_name="preview_file")
        self.create_btn.click(
            self.on_create,
            [self.upload, self.new_name, self.labels_box, self.descriptions_box, self.hotkeys_box, self.task_radio,
             self.guidelines_box, self.text_col, self.label_col, self.id_col, self.add_labels_cb, page.user_box],
            [self.status_html, page.project_dd, page.tabs, *self.project_outputs()], api_name="create_project",
        )
        self.page = page

    # ------------------------------------------------------------------ handlers
    @guard
    def on_upload(self, path: str | None) -> Updates:
        if not path:
            return {self.status_html: ""}
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
            self.status_html: render.note_box(f"{len(columns)} columns found. Check the picks, name the labels, "
                                              "then Create & import."),
        }

    @guard
    def on_create(self, path: str | None, name: str, labels: str, descriptions: str, hotkeys: str, task: str,
                  guidelines: str, text_col: str | None, label_col: str | None, id_col: str | None,
                  add_labels: bool, user: str, progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        if not path:
            raise ValidationError("Upload a data file first.", fix="drop a CSV, JSONL or Parquet file on the box")
        if not text_col:
            raise ValidationError("Pick the text column.", fix="choose it in 'Text column'")
        name = (name or "").strip()
        specs = parse_label_specs(labels, descriptions, hotkeys)
        try:
            self.service.projects.create_project(name, specs, task_type=task or "single-label",
                                                 guidelines=guidelines or "")
        except ConflictError:
            if self.service.projects.project(name).items:  # an empty project left by a failed import is reused
                raise
        progress(0.1, desc="Importing")
        settings = self.service.settings  # the same limits as the CLI's import (ANNOTATOR_IMPORT_MAX_*)
        spec = ImportSpec(text_column=text_col, label_column=None if label_col in (None, NONE) else label_col,
                          id_column=None if id_col in (None, NONE) else id_col, chunk_rows=settings.import_chunk_rows,
                          max_text_chars=settings.max_text_chars, **ImportSpec.limits_from(settings))
        try:
            report = self.service.imports.import_file(name, path, spec, add_labels=bool(add_labels))
        except AnnotatorError as e:
            raise type(e)(e.what + f" (Project {name!r} was created empty: fix the file and press Create & "
                          "import again.)", expected=e.expected, got=e.got, fix=e.fix) from e
        progress(0.5, desc="Embedding the items")
        self.service.queue.pool(name, progress=lambda done, total: progress((done, total) if total else None,
                                                                             desc="Embedding the items"))
        names = [p.name for p in self.service.projects.list_projects()]
        out = self.open_project(name, user or self.default_user)
        out.update({
            self.status_html: render.note_box(f"Created “{name}”: " + "; ".join(import_summary(report)) + "."),
            self.page.project_dd: gr.update(choices=names, value=name),
            self.page.tabs: gr.Tabs(selected="label"),
        })
        return out


def import_summary(report: ImportReport) -> list[str]:
    """What an import did, as short phrases: items, duplicates, near-duplicates, labels."""
    bits = [f"{report.items_added:,} items imported"]
    if report.duplicates_skipped:
        bits.append(f"{report.duplicates_skipped:,} duplicates skipped")
    if report.rows_cleaned:
        bits.append(f"{report.rows_cleaned:,} rows cleaned of characters no export can hold "
                    f"({'; '.join(report.cleaned[:3])})")
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
    return bits


def parse_label_specs(labels: str, descriptions: str, hotkeys: str) -> list[dict[str, Any]]:
    """The form's text boxes → label dicts (name, description, hotkey).

    Raises:
        ValidationError: a description line without ``name:``, a description of an unknown label,
            a hotkey count that does not match, repeated or long hotkeys, or a reserved key.
    """
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
    reserved = RESERVED_KEYS & {k.lower() for k in keys}
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
