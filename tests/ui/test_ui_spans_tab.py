"""The span page without a browser: the card's HTML (escaped text, token offsets, painted spans),
the page shown for span projects in place of the classification page, and Accept / Skip / Undo
through the handlers (suggestions pre-filled except on the blind route, bad spans refused with
nothing written)."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from annotator.spans import Span, tokenize
from annotator.ui import AnnotatorUI
from annotator.ui.span_keys import SPAN_KEYS_JS
from annotator.ui.span_render import legend, span_card
from annotator.ui.tabs.spans import parse_spans_json

LABELS = ["PER", "ORG", "LOC"]
TEXTS = [
    "Ada Lovelace met Charles Babbage in London.",
    "Alan Turing worked at Bletchley Park in England.",
    "Grace Hopper joined the Navy in New York.",
    "Nothing to see here.",
]
XSS = "Say <script>alert(1)</script> & <b>bold</b> to Bob."


class Suggester:
    """A tiny span suggester: every first capitalised word of a text as PER."""

    agent = "caps"

    def suggest(self, texts: list[str]) -> list[list[Span]]:
        out = []
        for text in texts:
            m = re.search(r"\b[A-Z][a-z]+\b", text)
            out.append([Span(m.start(), m.end(), "PER")] if m else [])
        return out


def _tokens_of(card: str) -> list[tuple[int, int, str]]:
    return [(int(s), int(e), html.unescape(t)) for s, e, t in
            re.findall(r'class="sp-tok[^"]*" data-i="\d+" data-start="(\d+)" data-end="(\d+)">([^<]*)</span>', card)]


def _spans_attr(card: str) -> list[dict]:
    return json.loads(html.unescape(re.search(r'data-spans="([^"]*)"', card).group(1)))


# ------------------------------------------------------------------ rendering
def test_card_escapes_the_text_and_its_tokens_carry_the_offsets():
    card = span_card(7, XSS, [{"start": 23, "end": 27, "label": "PER"}], LABELS)
    assert "<script" not in card and "<b>" not in card
    assert '>&lt;</span><span class="sp-tok" data-i="2" data-start="5" data-end="11">script<' in card
    tokens = _tokens_of(card)
    assert [(t.start, t.end, t.text) for t in tokenize(XSS)] == tokens
    for start, end, text in tokens:
        assert XSS[start:end] == text
    # gaps and tokens together give back the text exactly
    pieces = re.findall(r'class="sp-(?:tok|gap)[^"]*"[^>]*>([^<]*)</span>', card)
    assert html.unescape("".join(pieces)) == XSS
    assert 'data-item-id="7"' in card and json.loads(html.unescape(re.search(r'data-labels="([^"]*)"',
                                                                                 card).group(1))) == LABELS


def test_card_paints_spans_with_colour_and_badge_per_label():
    text = TEXTS[0]
    spans = [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}]
    card = span_card(1, text, spans, LABELS)
    assert re.search(r'class="sp-tok sp-in sp-l0" data-i="0" data-start="0" data-end="3">Ada<', card)
    assert re.search(r'class="sp-gap sp-in sp-l0" data-start="3" data-end="4"> <', card)  # inside the span
    assert re.search(r'class="sp-tok sp-in sp-l2"[^>]*>London<', card)
    assert re.search(r'>Lovelace</span><span class="sp-badge sp-l0"[^>]*>PER</span>', card)
    assert re.search(r'>London</span><span class="sp-badge sp-l2"[^>]*>LOC</span>', card)
    assert not re.search(r'class="sp-tok sp-in[^"]*"[^>]*>met<', card)
    assert _spans_attr(card) == spans
    assert 'data-overlap="0"' in card and 'data-overlap="1"' in span_card(1, text, [], LABELS, allow_overlap=True)
    assert 'data-item-id="none"' in span_card(None, None, [], LABELS, empty_message="done <x>")
    keys = legend([("PER", "1"), ("ORG", "2"), ("<LOC>", "3")])
    assert "<kbd>1</kbd> PER" in keys and "<kbd>3</kbd> &lt;LOC&gt;" in keys and "<LOC>" not in keys


def test_the_script_is_in_the_page_head():
    from annotator.ui.keyboard import HEAD

    assert SPAN_KEYS_JS in HEAD and "span-json" in SPAN_KEYS_JS and "span-accept" in SPAN_KEYS_JS


def test_spans_json_is_checked():
    assert parse_spans_json("") == [] and parse_spans_json('[{"start": 0, "end": 1, "label": "PER"}]')
    from annotator.core.errors import ValidationError

    for bad in ("{", '{"start": 0}'):
        with pytest.raises(ValidationError):
            parse_spans_json(bad)


# ------------------------------------------------------------------ the page and its handlers
@pytest.fixture
def app(ui_service):
    ui_service.projects.create_project("ner", LABELS, task_type="spans")
    ui_service.imports.import_records("ner", [{"text": t} for t in [*TEXTS, XSS]])
    ui_service.projects.create_project("plain", ["a", "b"])
    ui_service.imports.import_records("plain", [{"text": "one"}, {"text": "two"}])
    ui = AnnotatorUI(ui_service, project="ner")
    ui.build()
    return ui


def _responses(service) -> int:
    return sum(len(service.spans.item_spans("ner", r["item_id"])["answers"])
               for r in service.exports.final_labels("ner"))


def test_a_span_project_shows_the_span_page_instead_of_the_label_page(app):
    sp = app.spans
    out = app.project_view("ner", "ana")
    assert out[sp.page_row]["visible"] is True and out[app.label.page_row]["visible"] is False
    assert out[sp.labels_state] == LABELS and out[sp.item_state] is not None
    assert 'class="sp-card"' in out[sp.card_html] and out[app.label.item_state] is None
    assert "<kbd>2</kbd> ORG" in out[sp.legend_html]
    plain = app.project_view("plain", "ana")
    assert plain[sp.page_row]["visible"] is False and plain[app.label.page_row]["visible"] is True
    assert plain[app.label.item_state] is not None
    fns = {fn.api_name: fn for fn in app.blocks.fns.values() if fn.api_name}
    for name in ("spans_accept", "spans_skip", "spans_undo"):
        assert fns[name].queue is False and fns[name].show_progress == "hidden", name


def test_accept_undo_and_skip_through_the_handlers(app, ui_service):
    sp = app.spans
    out = app.project_view("ner", "ana")
    first = out[sp.item_state]
    text = ui_service.spans.item_spans("ner", first)["text"]
    tok = tokenize(text)
    mine = [{"start": tok[0].start, "end": tok[1].end, "label": "PER"}]
    saved = sp.on_accept("ner", "ana", first, LABELS, False, json.dumps(mine))
    assert f"Saved item #{first}: 1 span (PER)" in saved[sp.status_html]
    second = saved[sp.item_state]
    assert second != first and f'data-item-id="{second}"' in saved[sp.card_html]
    assert ui_service.spans.item_spans("ner", first)["final"] == mine
    assert 'data-labelled="1"' in saved[sp.progress_html]

    back = sp.on_undo("ner", "ana", second, LABELS, False)
    assert back[sp.item_state] == first and json.loads(back[sp.spans_box]) == mine
    assert _spans_attr(back[sp.card_html]) == mine and "undone" in back[sp.why_html]
    assert ui_service.spans.item_spans("ner", first)["final"] is None
    again = sp.on_accept("ner", "ana", first, LABELS, False, "[]")  # "no spans here" is an answer too
    assert "0 spans" in again[sp.status_html] and ui_service.spans.item_spans("ner", first)["final"] == []

    shown = again[sp.item_state]
    skipped = sp.on_skip("ner", "ana", shown, LABELS, False)
    assert skipped[sp.item_state] not in (None, shown)
    nothing = sp.on_undo("ner", "bob", None, LABELS, False)
    assert "Nothing to undo" in nothing[sp.status_html]


def test_bad_spans_give_a_clear_error_and_write_nothing(app, ui_service):
    sp = app.spans
    out = app.project_view("ner", "ana")
    item = out[sp.item_state]
    before = _responses(ui_service)
    for bad, what in [([{"start": 0, "end": 999, "label": "PER"}], "outside the text"),
                      ([{"start": 0, "end": 3, "label": "DATE"}], "unknown label"),
                      ([{"start": 0, "end": 5, "label": "PER"}, {"start": 2, "end": 8, "label": "LOC"}], "overlaps"),
                      ("not json", "not JSON")]:
        got = sp.on_accept("ner", "ana", item, LABELS, False, bad if isinstance(bad, str) else json.dumps(bad))
        assert set(got) == {sp.status_html}, what  # the card and the item stay
        assert "ann-error" in got[sp.status_html] and what in got[sp.status_html], got[sp.status_html]
    assert _responses(ui_service) == before


def test_suggestions_are_prefilled_but_not_on_the_blind_route(app, ui_service):
    sp = app.spans
    ui_service.spans.suggest("ner", Suggester())
    out = app.project_view("ner", "ana")
    item = out[sp.item_state]
    text = ui_service.spans.item_spans("ner", item)["text"]
    expected = [s.as_dict() for s in Suggester().suggest([text])[0]]
    assert json.loads(out[sp.spans_box]) == expected == _spans_attr(out[sp.card_html])
    if expected:
        assert "suggested</b> by caps" in out[sp.why_html] and 'class="sp-badge' in out[sp.card_html]
    # Enter keeps the suggestion as shown: the answer is the suggested spans, route verify
    saved = sp.on_accept("ner", "ana", item, LABELS, False, out[sp.spans_box])
    answer = ui_service.spans.item_spans("ner", item)["answers"][0]
    assert answer["spans"] == expected and answer["route"] == "verify"

    pool = ui_service.queue.pool("ner")
    ui_service.queue.release("ner", "ana")
    open_rows = np.flatnonzero(~pool.labelled)
    pool.set_routes(open_rows, np.array(["blind"] * len(open_rows)))
    blind = app.project_view("ner", "ana")
    shown = blind[sp.item_state]
    assert shown is not None and saved[sp.item_state] is not None
    assert ui_service.spans.item_spans("ner", shown)["suggestions"], "the item has a suggestion, hidden here"
    assert json.loads(blind[sp.spans_box]) == [] == _spans_attr(blind[sp.card_html])
    assert 'class="sp-badge' not in blind[sp.card_html] and "suggested" not in blind[sp.why_html]
    assert 'data-route="blind"' in blind[sp.why_html]
