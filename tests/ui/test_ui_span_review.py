"""The Review tab's span section without a browser: api names with a policy entry, the raters'
spans side by side (text escaped, the differing span marked), take and settle through the
service, refusals as an error box, hidden for other projects."""

from __future__ import annotations

import json

import pytest

from annotator.spans import Span
from annotator.ui import AnnotatorUI

XSS = "<img src=x onerror=alert(1)>"
TEXT = f"Ada Lovelace met {XSS} in London."


@pytest.fixture
def disputed(ui_service):
    svc = ui_service
    svc.projects.create_project("ner", ["PER", "LOC"], task_type="spans")
    svc.imports.import_records("ner", [{"text": TEXT}, {"text": "Nothing here."}])
    ids = {r["text"]: r["item_id"] for r in svc.exports.final_labels("ner")}
    london = TEXT.index("London")
    svc.spans.submit_spans("ner", "ana", ids[TEXT], [Span(0, 12, "PER"), Span(london, london + 6, "LOC")])
    svc.spans.submit_spans("ner", "ben", ids[TEXT], [Span(0, 3, "PER"), Span(london, london + 6, "LOC")])
    svc.projects.create_project("cls", ["a", "b"])
    svc.accounts.add_user("rita", role="reviewer")
    return ids


@pytest.fixture
def ui(ui_service):
    ui = AnnotatorUI(ui_service)
    ui.build()
    return ui


def test_span_review_events_have_api_names_and_a_policy_entry(ui_service):
    blocks = AnnotatorUI(ui_service).build()
    names = {fn.api_name for fn in blocks.fns.values() if fn.api_name}
    assert {"span_review_queue", "span_review_take", "span_review_settle"} <= names
    from annotator.ui import auth

    assert not [k for k in auth.unlisted(blocks) if "review" in k.lower()]
    for key in ("span_review_queue", "span_review_take", "span_review_settle", "SpanReviewSection.on_refresh"):
        assert set(auth.roles_for(key)) == {"admin", "reviewer"}, key


def test_refresh_shows_every_raters_spans_side_by_side_escaped(ui, disputed):
    sec = ui.review.spans
    out = sec.on_refresh("ner")
    assert out[sec.box]["visible"] is True and out[sec.item_state] == disputed[TEXT]
    assert 'data-disputed="1"' in out[sec.summary_html]
    table = out[sec.table_html]
    assert 'data-rater="ana"' in table and 'data-rater="ben"' in table
    assert XSS not in table + out[sec.item_html] and "&lt;img" in out[sec.item_html]
    assert table.count("span-differs") == 2 and table.count('class="span-same"') == 2  # PER differs, LOC agrees
    assert "“Ada Lovelace”" in table and "“Ada”" in table
    assert out[sec.rater_pick]["choices"] == [("ana", "ana"), ("ben", "ben")] or \
        out[sec.rater_pick]["choices"] == ["ana", "ben"]
    assert json.loads(out[sec.spans_box])[0] == {"start": 0, "end": 12, "label": "PER"}  # ana's, to edit


def test_take_and_settle_store_the_final_spans(ui, ui_service, disputed):
    sec = ui.review.spans
    item = disputed[TEXT]
    out = sec.on_take("ner", "rita", item, "ben")
    assert "settled with ben&#x27;s spans" in out[sec.status_html]  # escaped
    assert "No span disagreements" in out[sec.item_html] and out[sec.item_state] is None
    assert ui_service.spans.item_spans("ner", item)["final"][0] == {"start": 0, "end": 3, "label": "PER"}
    out = sec.on_settle("ner", "rita", item, '[{"start": 0, "end": 12, "label": "PER"}]')
    assert "settled with 1 span(s)" in out[sec.status_html]
    answers = ui_service.spans.item_spans("ner", item)["answers"]
    assert [a["route"] for a in answers if a["user"] == "rita"] == ["review"]
    assert ui_service.spans.item_spans("ner", item)["final"] == [{"start": 0, "end": 12, "label": "PER"}]


def test_refusals_are_an_error_box_and_change_nothing(ui, ui_service, disputed):
    sec = ui.review.spans
    item = disputed[TEXT]
    for out, what in [(sec.on_take("ner", "ana", item, "ben"), "may not review"),
                      (sec.on_settle("ner", "rita", item, "[{not json"), "not JSON"),
                      (sec.on_settle("ner", "rita", item, '[{"start": 0, "end": 999, "label": "PER"}]'),
                       "outside the text"),
                      (sec.on_take("ner", "rita", None, "ben"), "No disputed item"),
                      (sec.on_take("ner", "rita", item, None), "Pick the rater")]:
        assert set(out) == {sec.status_html} and what in out[sec.status_html], what
    assert ui_service.spans.disagreements("ner")["items"] == 1
    hidden = sec.on_refresh("cls")  # not a span project: the section stays hidden
    assert hidden[sec.box]["visible"] is False and hidden[sec.item_state] is None
