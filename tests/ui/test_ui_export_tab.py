"""The Export tab writes into its own folder under the data folder through the same checked,
renamed-into-place path as the CLI: a second export in the same second replaces the tab's own
export (it is a previous export), never something else."""

from __future__ import annotations

import time

import pytest

from annotator.export.target import MARKER
from annotator.ui import AnnotatorUI


@pytest.fixture
def ui(ui_service) -> AnnotatorUI:
    ui_service.projects.create_project("tickets", ["billing", "bug"])
    ui_service.imports.import_records("tickets", [{"text": "=1+1"}, {"text": "refund please"}])
    ui = AnnotatorUI(ui_service)
    ui.build()
    return ui


def test_two_exports_in_the_same_second_both_land(ui, ui_service, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "20260101-120000")  # one second for both clicks
    for _ in range(2):
        out = ui.export.on_export("tickets", "csv", False)
        assert "Exported 2 rows" in out[ui.export.status_html], out[ui.export.status_html]
    folder = ui_service.settings.data_dir / "exports" / "tickets-csv-20260101-120000"
    assert (folder / MARKER).is_file() and "'=1+1" in (folder / "data.csv").read_text()
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_a_span_project_exports_its_spans_from_the_tab(ui_service):
    from annotator.spans import Span

    ui_service.projects.create_project("ner", ["PER", "LOC"], task_type="spans")
    ui_service.spans.import_records("ner", [{"text": "Ada lives in Paris."}])
    view = ui_service.spans.next_item("ner", None)
    ui_service.spans.submit_spans("ner", None, view.item_id, [Span(0, 3, "PER"), Span(13, 18, "LOC")])
    ui = AnnotatorUI(ui_service)
    ui.build()
    for fmt in ("jsonl", "hf", "spacy"):
        out = ui.export.on_export("ner", fmt, False)
        assert "Exported 1 rows" in out[ui.export.status_html], (fmt, out[ui.export.status_html])
        assert "PER" in out[ui.export.card_md]
    jsonl = next((ui_service.settings.data_dir / "exports").glob("ner-jsonl-*"))
    assert '"label": "LOC"' in (jsonl / "data.jsonl").read_text()
