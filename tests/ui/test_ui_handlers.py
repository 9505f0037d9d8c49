"""The UI builder and its handlers without a browser: the Blocks builds, events carry api names
and the hot-path settings, and each handler returns the right updates for the service's state."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from annotator.importers import ImportSpec
from annotator.ui import AnnotatorUI
from annotator.ui.components import no_change
from annotator.ui.render import HOTKEY_SEP

LABELS = ["billing", "bug", "account"]
XSS = "<img src=x onerror=alert(1)>"


def _rows(n: int = 30) -> list[dict]:
    topics = ["refund for my invoice", "the app crashes on start", "reset my password please"]
    rows = [{"id": f"r{i}", "text": f"ticket {i}: {topics[i % 3]}", "channel": ["email", "chat"][i % 2]}
            for i in range(n)]
    rows.append({"id": "xss", "text": XSS, "channel": "email"})
    return rows


@pytest.fixture
def project(ui_service, tmp_path) -> str:
    path = tmp_path / "tickets.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    ui_service.projects.create_project("tickets", LABELS, guidelines="# Rules\n\nMoney goes to **billing**.")
    ui_service.imports.import_file("tickets", path, ImportSpec(text_column="text", id_column="id"))
    return "tickets"


@pytest.fixture
def ui(ui_service) -> AnnotatorUI:
    ui = AnnotatorUI(ui_service)
    ui.build()
    return ui


def _answer_inputs(ui: AnnotatorUI, out: dict, project: str = "tickets", user: str = "ana") -> list:
    """The inputs a label / skip / undo event receives, taken from the last updates."""
    return [project, user, out[ui.label.item_state], out.get(ui.label.labels_state, LABELS), False, False, "", False]


# ------------------------------------------------------------------ builder
def test_blocks_build_with_api_names_and_a_fast_hot_path(ui_service, project):
    ui = AnnotatorUI(ui_service)
    blocks = ui.build()
    fns = {fn.api_name: fn for fn in blocks.fns.values() if fn.api_name}
    for name in ("load", "select_project", "submit_label", "label_0", "skip", "undo", "flag", "browse",
                 "browse_next", "similar", "bulk_label", "preview_file", "create_project", "export"):
        assert name in fns, name
    for name in ("submit_label", "label_0", "label_2", "skip", "undo"):
        assert fns[name].queue is False and fns[name].show_progress == "hidden", name
    assert any(getattr(block, "elem_id", None) == "item-card" for block in blocks.blocks.values())
    assert "__annotatorKeys" in (blocks._deprecated_head or "")  # the keyboard script travels with the Blocks


def test_builds_with_no_project_and_says_what_to_do(ui):
    out = ui._on_page_load(None, "ana")
    assert out[ui.label.item_state] is None
    assert "New project" in out[ui.label.item_html]
    assert all(out[b]["visible"] is False for b in ui.label.label_buttons)


# ------------------------------------------------------------------ label page
def test_page_load_shows_buttons_hotkeys_guidelines_item_and_progress(ui, project):
    out = ui._on_page_load(None, "ana")
    assert out[ui.project_dd]["value"] == "tickets"
    captions = [out[b]["value"] for b in ui.label.label_buttons[:3]]
    assert captions == [f"1{HOTKEY_SEP}billing", f"2{HOTKEY_SEP}bug", f"3{HOTKEY_SEP}account"]
    assert all(out[b]["visible"] for b in ui.label.label_buttons[:3])
    assert not any(out[b]["visible"] for b in ui.label.label_buttons[3:])
    assert out[ui.label.labels_state] == LABELS and out[ui.label.multi_state] is False
    assert "Money goes to" in out[ui.label.guidelines_md]
    assert "<kbd>1</kbd>" in out[ui.label.hotkeys_html] and "Backspace" in out[ui.label.hotkeys_html]
    assert 'data-labelled="0"' in out[ui.label.progress_html] and "/ 31 labelled" in out[ui.label.progress_html]
    assert isinstance(out[ui.label.item_state], int)
    assert f'data-item-id="{out[ui.label.item_state]}"' in out[ui.label.item_html]
    assert "Why this item" in out[ui.label.why_html]
    assert "channel" in out[ui.label.details_html]


def test_label_click_saves_and_serves_the_next_item(ui, ui_service, project):
    first = ui._on_page_load(None, "ana")
    out = ui.label.label_handler(1)(*_answer_inputs(ui, first))
    assert out[ui.label.item_state] not in (None, first[ui.label.item_state])
    assert out[ui.label.status_html] == ""
    progress = ui_service.queue.progress(project)
    assert progress.labelled == 1 and progress.by_label["bug"] == 1 and progress.by_user == {"ana": 1}
    assert 'data-labelled="1"' in ui.label.on_tick(project)[ui.label.progress_html]


def test_undo_brings_the_item_back_preselected_and_editable(ui, ui_service, project):
    first = ui._on_page_load(None, "ana")
    second = ui.label.label_handler(0)(*_answer_inputs(ui, first))
    back = ui.label.on_undo(*_answer_inputs(ui, second))
    assert back[ui.label.item_state] == first[ui.label.item_state]
    assert back[ui.label.selected_state] == ["billing"]
    assert back[ui.label.label_buttons[0]]["variant"] == "primary"
    assert back[ui.label.label_buttons[1]]["variant"] == "secondary"
    assert "undone" in back[ui.label.why_html]
    assert ui_service.queue.progress(project).labelled == 0
    # Enter keeps the old answer; here the person changes it with another key instead.
    ui.label.label_handler(2)(*_answer_inputs(ui, back))
    rows = {r["item_id"]: r for r in ui_service.exports.final_labels(project)}
    assert rows[first[ui.label.item_state]]["label"] == ["account"]


def test_enter_submits_the_preselection_and_needs_one(ui, ui_service, project):
    first = ui._on_page_load(None, "ana")
    nothing = ui.label.on_submit(*_answer_inputs(ui, first), [], [])
    assert "Pick a label" in nothing[ui.label.status_html] and ui.label.item_state not in nothing
    second = ui.label.label_handler(0)(*_answer_inputs(ui, first))
    back = ui.label.on_undo(*_answer_inputs(ui, second))
    ui.label.on_submit(*_answer_inputs(ui, back), back[ui.label.selected_state], [])
    rows = {r["item_id"]: r for r in ui_service.exports.final_labels(project)}
    assert rows[first[ui.label.item_state]]["label"] == ["billing"]


def test_skip_flag_and_comment_are_recorded(ui, ui_service, project):
    first = ui._on_page_load(None, "ana")
    skipped = ui.label.on_skip(*_answer_inputs(ui, first))
    assert skipped[ui.label.item_state] != first[ui.label.item_state]
    flag = ui.label.on_flag(False)
    assert flag[ui.label.flagged_state] is True and flag[ui.label.flag_btn]["variant"] == "stop"
    inputs = _answer_inputs(ui, skipped)
    inputs[6], inputs[7] = "  unsure: could be a bug  ", True
    after = ui.label.label_handler(0)(*inputs)
    assert after[ui.label.flagged_state] is False and after[ui.label.comment_box] == ""
    row = next(r for r in ui_service.exports.final_labels(project) if r["item_id"] == skipped[ui.label.item_state])
    assert row["flagged"] is True and row["comment"] == "unsure: could be a bug"


def test_item_text_is_escaped_never_markup(ui, ui_service, project):
    from annotator.core.schema import QueuedItem

    item_id = ui_service.browse.browse(project, query="onerror").rows[0]["item_id"]
    shown = ui.label.item_view(QueuedItem(item_id=item_id, text=XSS, metadata={"<b>k</b>": "<script>x</script>"},
                                     strategy="<i>margin</i>", external_id='"><svg onload=alert(1)>'),
                          LABELS, False, False)
    assert "<img" not in shown[ui.label.item_html] and "&lt;img src=x onerror=alert(1)&gt;" in shown[ui.label.item_html]
    for html in (shown[ui.label.details_html], shown[ui.label.why_html]):
        assert "<script>" not in html and "<b>k</b>" not in html and "<svg" not in html and "<i>" not in html


def test_undo_with_nothing_to_undo_says_so(ui, project):
    first = ui._on_page_load(None, "ana")
    out = ui.label.on_undo(*_answer_inputs(ui, first))
    assert "Nothing to undo" in out[ui.label.status_html] and ui.label.item_state not in out


def test_service_errors_show_in_the_page_not_as_a_trace(ui, project):
    first = ui._on_page_load(None, "ana")
    inputs = _answer_inputs(ui, first)
    inputs[3] = ["no-such-label", *LABELS[1:]]
    out = ui.label.label_handler(0)(*inputs)
    assert 'class="ann-error"' in out[ui.label.status_html] and "Unknown label" in out[ui.label.status_html]
    assert "Traceback" not in out[ui.label.status_html]


def test_preselects_a_suggestion_only_when_the_project_says_so(ui, ui_service, project):
    from annotator.core.schema import QueuedItem, SuggestionView

    item = QueuedItem(item_id=1, text="x", strategy="margin",
                      suggestion=SuggestionView(agent="zero-shot@1", value=["bug"], score=0.91))
    off = ui.label.item_view(item, LABELS, False, False)
    on = ui.label.item_view(item, LABELS, False, True)
    assert off[ui.label.selected_state] == [] and on[ui.label.selected_state] == ["bug"]
    assert on[ui.label.label_buttons[1]]["variant"] == "primary"
    assert "zero-shot@1" in off[ui.label.details_html] and "0.91" in off[ui.label.details_html]
    assert "not pre-selected" in off[ui.label.details_html]


def test_multi_label_project_uses_toggles_and_enter(ui, ui_service, tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame(_rows(6)).to_csv(path, index=False)
    ui_service.projects.create_project("multi", LABELS, task_type="multi-label")
    ui_service.imports.import_file("multi", path, ImportSpec(text_column="text"))
    out = ui._on_project("multi", "ana")
    assert out[ui.label.multi_state] is True
    assert out[ui.label.multi_checks]["visible"] is True and len(out[ui.label.multi_checks]["choices"]) == 3
    assert not any(out[b]["visible"] for b in ui.label.label_buttons)
    inputs = ["multi", "ana", out[ui.label.item_state], LABELS, True, False, "", False]
    ui.label.on_submit(*inputs, [], ["billing", "bug"])
    rows = {r["item_id"]: r for r in ui_service.exports.final_labels("multi")}
    assert rows[out[ui.label.item_state]]["label"] == ["billing", "bug"]


def test_switching_annotator_serves_that_person(ui, ui_service, project):
    first = ui._on_page_load(None, "ana")
    assert ui._on_user(project, "ana", first[ui.label.user_state]) == no_change()
    other = ui._on_user(project, "ben", first[ui.label.user_state])
    assert other[ui.label.user_state] == "ben" and other[ui.label.item_state] != first[ui.label.item_state]


# ------------------------------------------------------------------ new project
def test_upload_previews_and_guesses_columns(ui, tmp_path):
    path = tmp_path / "support.csv"
    pd.DataFrame(_rows(8)).assign(label="bug").to_csv(path, index=False)
    out = ui.new_project.on_upload(str(path))
    assert list(out[ui.new_project.preview_table].columns) == ["id", "text", "channel", "label"]
    assert out[ui.new_project.text_col]["value"] == "text" and out[ui.new_project.label_col]["value"] == "label"
    assert out[ui.new_project.id_col]["value"] == "id" and out[ui.new_project.new_name] == "support"


def test_create_and_import_opens_the_label_page(ui, ui_service, tmp_path):
    path = tmp_path / "support.csv"
    pd.DataFrame(_rows(12)).to_csv(path, index=False)
    out = ui.new_project.on_create(str(path), "support", "billing, bug, account", "billing: money\nbug: broken things",
                        "", "single-label", "# Be kind", "text", "(none)", "id", False, "ana")
    assert "13 items imported" in out[ui.new_project.status_html]
    assert out[ui.project_dd]["value"] == "support"
    assert out[ui.label.labels_state] == LABELS and out[ui.label.item_state] is not None
    summary, guidelines, _ = ui_service.projects.project_details("support")
    assert [s.description for s in summary.labels] == ["money", "broken things", ""]
    assert [s.hotkey for s in summary.labels] == ["1", "2", "3"] and guidelines == "# Be kind"


def test_importer_errors_show_in_the_page_and_a_retry_works(ui, ui_service, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame(_rows(5)).assign(label="refund").to_csv(path, index=False)
    bad = ui.new_project.on_create(str(path), "bad", "billing, bug", "", "", "single-label", "", "text", "label", "(none)",
                        False, "ana")
    assert 'class="ann-error"' in bad[ui.new_project.status_html] and "refund" in bad[ui.new_project.status_html]
    assert "created empty" in bad[ui.new_project.status_html]
    fixed = ui.new_project.on_create(str(path), "bad", "billing, bug", "", "", "single-label", "", "text", "label", "(none)",
                          True, "ana")
    assert "6 items imported" in fixed[ui.new_project.status_html] and "new labels: refund" in fixed[ui.new_project.status_html]


def test_the_new_project_tab_applies_the_import_limits_of_the_settings(ui, ui_service, tmp_path):
    path = tmp_path / "many.csv"
    pd.DataFrame(_rows(12)).to_csv(path, index=False)
    ui_service.settings.import_max_rows = 5  # as ANNOTATOR_IMPORT_MAX_ROWS=5 would
    out = ui.new_project.on_create(str(path), "many", "billing, bug", "", "", "single-label", "", "text", "(none)", "id",
                                   False, "ana")
    assert 'class="ann-error"' in out[ui.new_project.status_html] and "IMPORT_MAX_ROWS" in out[ui.new_project.status_html]
    assert ui_service.projects.project("many").items == 0


def test_missing_file_and_bad_label_text_are_explained(ui):
    assert "Upload a data file" in ui.new_project.on_create(None, "x", "a", "", "", "single-label", "", "text", None, None,
                                                 False, "ana")[ui.new_project.status_html]
    with pytest.raises(Exception, match="not in the list"):
        AnnotatorUI.parse_label_specs("a, b", "c: nope", "")
    with pytest.raises(Exception, match="hotkeys for"):
        AnnotatorUI.parse_label_specs("a, b", "", "1")
    with pytest.raises(Exception, match="taken by a page command"):
        AnnotatorUI.parse_label_specs("a, b", "", "1, s")
    assert AnnotatorUI.parse_label_specs("a, b", "a: first", "q, w") == [
        {"name": "a", "description": "first", "hotkey": "q"}, {"name": "b", "description": "", "hotkey": "w"}]


# ------------------------------------------------------------------ browse
def _browse(ui, project, **kw):
    args = {"query": "", "label": "", "status": "", "route": "", "annotator": "", "metadata": "", "order": "id"}
    args.update(kw)
    return ui.browse.on_first(project, *args.values())


def test_browse_pages_filters_and_bulk_labels(ui, ui_service, project):
    out = _browse(ui, project)
    table = out[ui.browse.browse_table]
    assert len(table) == 31 and list(table.columns)[:3] == ["✓", "id", "text"]
    assert "of 31" in out[ui.browse.page_html]
    email = _browse(ui, project, metadata="channel=email")
    assert len(email[ui.browse.browse_table]) == 16
    # Tick two rows and type a third id: all three get the bulk label.
    table = table.copy()
    table.loc[0, "✓"] = True
    table.loc[1, "✓"] = True
    third = int(table.loc[5, "id"])
    done = ui.browse.on_bulk(project, "ana", table, str(third), "bug", "", "", "", "", "", "", "id", 0)
    assert "Labelled 3 items" in done[ui.browse.status_html]
    bulk = _browse(ui, project, status="bulk")[ui.browse.browse_table]
    assert len(bulk) == 3 and set(bulk["by"]) == {"ana · bulk · manual"} and set(bulk["label"]) == {"bug"}
    by_label = _browse(ui, project, label="bug", annotator="ana")[ui.browse.browse_table]
    assert len(by_label) == 3
    rows = {r["item_id"]: r for r in ui_service.exports.final_labels(project)}
    assert rows[third]["label_source"] == "bulk"


def test_browse_next_and_prev_pages(ui, ui_service, tmp_path):
    path = tmp_path / "many.csv"
    pd.DataFrame([{"text": f"item number {i}"} for i in range(120)]).to_csv(path, index=False)
    ui_service.projects.create_project("many", LABELS)
    ui_service.imports.import_file("many", path, ImportSpec(text_column="text"))
    args = ["many", "", "", "", "", "", "", "id"]
    first = ui.browse.on_first(*args)
    assert len(first[ui.browse.browse_table]) == 50 and first[ui.browse.page_state] == 0
    second = ui.browse.on_next(*args, 0)
    assert second[ui.browse.page_state] == 1 and second[ui.browse.browse_table]["id"].iloc[0] == \
        first[ui.browse.browse_table]["id"].iloc[0] + 50
    third = ui.browse.on_next(*args, 1)
    assert len(third[ui.browse.browse_table]) == 20 and "page 3 of 3" in third[ui.browse.page_html]
    past = ui.browse.on_next(*args, 2)  # past the end: stays on the last page
    assert past[ui.browse.page_state] == 2
    back = ui.browse.on_prev(*args, 1)
    assert back[ui.browse.page_state] == 0


def test_similar_items_are_nearest_neighbours(ui, ui_service, project):
    target = ui_service.browse.browse(project, query="ticket 4:").rows[0]["item_id"]
    out = ui.browse.on_similar(project, f"#{target}")
    table = out[ui.browse.browse_table]
    assert len(table) == 20 and target not in set(table["id"])
    scores = table["score"].tolist()
    assert scores == sorted(scores, reverse=True)
    assert "crashes" in table["text"].iloc[0]  # same topic as "ticket 4: the app crashes on start"
    assert 'class="ann-error"' in ui.browse.on_similar(project, "abc")[ui.browse.status_html]
    assert 'class="ann-error"' in ui.browse.on_similar(project, "99999")[ui.browse.status_html]


def test_row_click_fills_the_similar_box(ui):
    class Evt:
        index = [2, 2]
        row_value = [False, 17, "text"]

    assert ui.browse.on_row_select(Evt())[ui.browse.similar_box] == "17"
    Evt.index = [2, 0]
    assert ui.browse.on_row_select(Evt()) == no_change()


# ------------------------------------------------------------------ export
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_downloads_labels_with_provenance(ui, ui_service, project, fmt):
    first = ui._on_page_load(None, "ana")
    ui.label.label_handler(1)(*_answer_inputs(ui, first))
    out = ui.export.on_export(project, fmt, False)
    path = Path(out[ui.export.export_file])
    assert path.is_file() and "Label distribution" in out[ui.export.card_md] and not out[ui.export.card_md].startswith("---")
    if fmt == "csv":
        frame = pd.read_csv(path)
    elif fmt == "jsonl":
        frame = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])
    else:
        with zipfile.ZipFile(path) as zf:
            assert "README.md" in zf.namelist()
            zf.extract("data.parquet", path.parent)
        frame = pd.read_parquet(path.parent / "data.parquet")
    row = frame[frame["item_id"] == first[ui.label.item_state]].iloc[0]
    assert row["label"] == "bug" and row["label_source"] == "human" and row["annotator"] == "ana"
    assert {"route", "verified", "query_strategy", "labelled_at"} <= set(frame.columns)
    human = ui.export.on_export(project, fmt, True)
    assert "Exported 1 rows" in human[ui.export.status_html]


def test_create_preference_project_reports_near_duplicates(ui, ui_service, tmp_path):
    path = tmp_path / "pairs.csv"
    pd.DataFrame([
        {"prompt": "How do I make tea?", "response_a": "Pour hot water over a tea bag.", "response_b": "Jazz."},
        {"prompt": "how do I make tea ?", "response_a": "Jazz.", "response_b": "Pour hot water over a tea bag."},
        {"prompt": "What is the capital of France?", "response_a": "Paris.", "response_b": "Madrid."},
    ]).to_csv(path, index=False)
    out = ui.new_project.on_create(str(path), "prefs", "", "", "", "preference", "", "prompt", "(none)", "(none)", False, "ana")
    note = out[ui.new_project.status_html]
    assert "2 items imported" in note and "1 near-duplicates dropped" in note and "row 3 ≈ item 1" in note  # CSV line 3 (the header is line 1)
