"""The Export tab: write the project in a chosen format, offer it for download, show its card.

Events: ``export``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from annotator.ui import render
from annotator.ui.components import Page, Updates, display_html
from annotator.ui.guards import Tab, guard, need_project

#: sft | dpo | ratings: post-training projects; a span project takes jsonl | hf | spacy (a DocBin).
FORMATS = ["csv", "jsonl", "parquet", "hf", "sft", "dpo", "ratings", "spacy"]


class ExportTab(Tab):
    """Export the current project under the data directory and hand the browser a copy."""

    def render(self) -> None:
        with gr.Row(equal_height=True):
            self.format_dd = gr.Dropdown(FORMATS, value="csv", label="Format", elem_id="export-format", scale=1)
            self.human_only = gr.Checkbox(False, label="Human-verified labels only", elem_id="export-human", scale=1)
            self.export_btn = gr.Button("Export", variant="primary", elem_id="export-btn", scale=0, min_width=140)
        self.export_file = gr.File(label="Download", interactive=False, elem_id="export-file")
        self.status_html = display_html(elem_id="export-status")
        with gr.Accordion("Dataset card", open=True):
            self.card_md = gr.Markdown(elem_id="export-card")

    def wire(self, page: Page) -> None:
        self.export_btn.click(self.on_export, [page.project_dd, self.format_dd, self.human_only],
                              [self.export_file, self.card_md, self.status_html], api_name="export")

    @guard
    def on_export(self, project: str | None, fmt: str, human_only: bool,
                  progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        project = need_project(project, "No project to export.")
        fmt = fmt or "csv"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", project).strip("-") or "project"
        out_dir = self.service.settings.data_dir / "exports" / f"{slug}-{fmt}-{stamp}"
        progress(0.1, desc="Exporting")
        # The folder is the tab's own (under the data folder, named by the second): a second click in
        # the same second replaces that export, and only an export (the service checks its marker).
        result = self.service.exports.export(project, fmt=fmt, out=out_dir, only="human" if human_only else None,
                                             overwrite=True)
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
            self.card_md: strip_front_matter(card),
            self.status_html: render.note_box(f"Exported {result.n_rows:,} rows to {result.out_dir}"),
        }


def strip_front_matter(card: str) -> str:
    """Drop a dataset card's YAML header (``---`` … ``---``) for display."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        if end != -1:
            return card[end + 4:].lstrip()
    return card
