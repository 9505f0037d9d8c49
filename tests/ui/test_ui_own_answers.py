"""In auth mode an annotator's page shows their own answers only and no other person's name: the
progress panel (by label, by person), the browse table and its annotator filter. A reviewer's
page shows everyone's. Handlers are called through the auth wrapper, with the request Gradio would
set put in its context by hand (the HTTP round trip is tests/ui/test_ui_auth.py's job)."""

from __future__ import annotations

import pytest
from gradio.context import LocalContext

from annotator.ui import AnnotatorUI, auth

LABELS = ["billing", "bug", "account"]


class _Request:
    def __init__(self, username: str):
        self.username = username


@pytest.fixture
def app(service):
    for name, role in (("ana", "annotator"), ("bozena", "annotator"), ("rita", "reviewer")):
        service.accounts.add_user(name, role, f"{name} password")
    service.projects.create_project("t", LABELS)
    service.imports.import_records("t", [{"text": f"ticket {k}", "external_id": f"i{k}"} for k in range(8)])
    ids = {row["external_id"]: row["item_id"] for row in service.exports.final_labels("t")}
    service.queue.submit("t", "ana", ids["i0"], ["billing"])
    service.queue.submit("t", "bozena", ids["i0"], ["bug"])  # the same item, answered differently, later
    service.queue.submit("t", "bozena", ids["i1"], ["account"])
    ui = AnnotatorUI(service, project="t", refresh_every=60, auth_mode=True)
    blocks = ui.build()
    index = {auth.event_key(f): f.fn for f in blocks.fns.values() if f.fn is not None}
    return ui, index, ids


def _as(name: str, fn, *args):
    token = LocalContext.request.set(_Request(name))
    try:
        return fn(*args)
    finally:
        LocalContext.request.reset(token)


def _choices(update) -> list[str]:
    return [value for _label, value in update["choices"] if value]


def test_an_annotators_page_shows_only_her_answers_and_name(app):
    ui, index, ids = app
    page = _as("ana", index["select_project"], "t", "bozena")  # the box says bozena; the login is ana
    progress = page[ui.label.progress_html]
    assert "bozena" not in progress and "ana" in progress and "Your answers by label" in progress
    assert _choices(page[ui.browse.filter_annotator]) == ["ana"]
    assert "bozena" not in _as("ana", index["LabelTab.on_tick"], "t")[ui.label.progress_html]
    browse = ["t", "", "", "", "", "", "", "id"]  # project, query, label, status, route, annotator, meta, order
    table = _as("ana", index["browse"], *browse)[ui.browse.browse_table]
    assert list(table["id"]) == [ids["i0"]] and list(table["label"]) == ["billing"]  # hers, not bozena's newer bug
    assert "bozena" not in table.to_string()
    asked = list(browse)
    asked[5] = "bozena"  # asking for bozena's answers gets her own
    assert list(_as("ana", index["browse"], *asked)[ui.browse.browse_table]["id"]) == [ids["i0"]]


def test_a_reviewers_page_shows_everyone(app):
    ui, index, ids = app
    page = _as("rita", index["select_project"], "t", "rita")
    assert "bozena" in page[ui.label.progress_html] and "ana" in page[ui.label.progress_html]
    assert "By person" in page[ui.label.progress_html]
    assert {"ana", "bozena"} <= set(_choices(page[ui.browse.filter_annotator]))
    table = _as("rita", index["browse"], "t", "", "", "labelled", "", "", "", "id")[ui.browse.browse_table]
    rows = dict(zip(table["id"], table["label"], strict=True))
    assert rows == {ids["i0"]: "bug", ids["i1"]: "account"}  # each item's newest answer


def test_single_user_mode_is_unchanged(service):
    service.projects.create_project("t", LABELS)
    service.imports.import_records("t", [{"text": f"ticket {k}"} for k in range(3)])
    first = service.queue.next_item("t", "ana")
    service.queue.submit("t", "ana", first.item_id, ["bug"])
    service.queue.submit("t", "bozena", service.queue.next_item("t", "bozena").item_id, ["billing"])
    ui = AnnotatorUI(service, project="t", refresh_every=60, auth_mode=False)
    ui.build()
    assert auth.own_answers_of(service, ui.auth_mode) is None
    html = ui.label.on_tick("t")[ui.label.progress_html]
    assert "ana" in html and "bozena" in html and "By person" in html
