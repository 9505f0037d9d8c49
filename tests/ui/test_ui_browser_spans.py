"""The span page in a real browser (Debian's Chromium through Playwright): a span project of 12
items, some with suggested spans, is labelled item by item with the keyboard (cursor, Shift+arrows,
number keys, Backspace, Enter) and the mouse (a drag selection snapped to tokens, then a number
key; the Accept button); wrong suggestions are corrected, an overlapping span is refused on the
page, one answer is undone, the page is reloaded with the work still there, and the Hugging Face
export's tokens / ner_tags read back as the same spans."""

from __future__ import annotations

import json

import pytest
from browser_pages import open_page
from conftest import launch_local

from annotator.spans import Span, from_iob, tokenize

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABELS = ["PER", "ORG", "LOC"]
TRUTH: dict[str, list[tuple[str, str]]] = {
    "Ada Lovelace met Charles Babbage in London.": [("Ada Lovelace", "PER"), ("Charles Babbage", "PER"),
                                                    ("London", "LOC")],
    "Alan Turing worked at Bletchley Park in England.": [("Alan Turing", "PER"), ("Bletchley Park", "ORG"),
                                                         ("England", "LOC")],
    "Grace Hopper joined the Navy in New York.": [("Grace Hopper", "PER"), ("Navy", "ORG"), ("New York", "LOC")],
    "Marie Curie lived in Paris.": [("Marie Curie", "PER"), ("Paris", "LOC")],
    "Nothing to see here.": [],
    "Tim Berners-Lee was at CERN in Geneva.": [("Tim Berners-Lee", "PER"), ("CERN", "ORG"), ("Geneva", "LOC")],
    "Linus Torvalds wrote Linux in Helsinki.": [("Linus Torvalds", "PER"), ("Helsinki", "LOC")],
    "Google opened an office in Zurich.": [("Google", "ORG"), ("Zurich", "LOC")],
    "Katherine Johnson worked for NASA.": [("Katherine Johnson", "PER"), ("NASA", "ORG")],
    "The United Nations met in Geneva.": [("United Nations", "ORG"), ("Geneva", "LOC")],
    "Rosalind Franklin studied at Cambridge.": [("Rosalind Franklin", "PER"), ("Cambridge", "ORG")],
    "Say <script>alert(1)</script> to Bob.": [("Bob", "PER")],
}
#: What the suggester says for five items: one right, the others with a wrong label, a wrong or a missing span.
SUGGESTED: dict[str, list[tuple[str, str]]] = {
    "Alan Turing worked at Bletchley Park in England.": TRUTH["Alan Turing worked at Bletchley Park in England."],
    "Ada Lovelace met Charles Babbage in London.": [("Ada Lovelace", "PER"), ("London", "ORG")],
    "Google opened an office in Zurich.": [("Google", "PER"), ("Zurich", "LOC")],
    "Nothing to see here.": [("Nothing", "PER")],
    "Katherine Johnson worked for NASA.": [("Katherine Johnson", "PER")],
}


def _spans(text: str, pairs: list[tuple[str, str]]) -> list[Span]:
    return sorted(Span(text.index(s), text.index(s) + len(s), label) for s, label in pairs)


class Suggester:
    """A tiny suggester with the ``agent`` / ``suggest(texts)`` shape ``svc.spans.suggest`` takes."""

    agent = "fixture"

    def suggest(self, texts: list[str]) -> list[list[Span]]:
        return [_spans(t, SUGGESTED.get(t, [])) for t in texts]


@pytest.fixture
def span_app(ui_service):
    svc = ui_service
    svc.projects.create_project("ner", LABELS, task_type="spans")
    svc.imports.import_records("ner", [{"text": t} for t in TRUTH])
    report = svc.spans.suggest("ner", Suggester())
    assert report["spans"] == sum(len(v) for v in SUGGESTED.values())
    from annotator.ui import AnnotatorUI

    blocks = AnnotatorUI(svc, project="ner", refresh_every=60).build()
    port = launch_local(blocks, show_error=True, ssr_mode=False)
    try:
        yield f"http://127.0.0.1:{port}/", svc
    finally:
        blocks.close()


# ------------------------------------------------------------------ page helpers
CARD = "#span-card .sp-card"


def _card_id(page) -> str:
    return page.locator(CARD).get_attribute("data-item-id")


def _text(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('#span-card .sp-tok, #span-card .sp-gap')]"
                         ".map(e => e.textContent).join('')")


def _shown(page) -> list[Span]:
    """The spans the page holds now (what Accept sends)."""
    raw = page.evaluate("() => document.querySelector('#span-json textarea, #span-json input').value")
    return sorted(Span(s["start"], s["end"], s["label"]) for s in json.loads(raw or "[]"))


def _token_index(page, offset: int) -> int:
    return int(page.locator(f"{CARD} .sp-tok[data-start='{offset}']").get_attribute("data-i"))


def _last_token_index(page, offset: int) -> int:
    return int(page.locator(f"{CARD} .sp-tok[data-end='{offset}']").get_attribute("data-i"))


def _cursor_to(page, index: int) -> None:
    page.keyboard.press("Home")
    for _ in range(index):
        page.keyboard.press("ArrowRight")


def _add_by_keyboard(page, span: Span) -> None:
    first, last = _token_index(page, span.start), _last_token_index(page, span.end)
    _cursor_to(page, first)
    for _ in range(last - first):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press(str(LABELS.index(span.label) + 1))


def _add_by_mouse(page, span: Span) -> None:
    first = page.locator(f"{CARD} .sp-tok[data-start='{span.start}']").bounding_box()
    last = page.locator(f"{CARD} .sp-tok[data-end='{span.end}']").bounding_box()
    page.mouse.move(first["x"] + 2, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + last["width"] - 2, last["y"] + last["height"] / 2, steps=6)
    page.mouse.up()
    page.keyboard.press(str(LABELS.index(span.label) + 1))


def _remove(page, span: Span) -> None:
    _cursor_to(page, _token_index(page, span.start))
    page.keyboard.press("Backspace")


def _wait_new_card(page, old: str) -> str:
    page.wait_for_function("old => { const c = document.querySelector('#span-card .sp-card');"
                           " return c && c.getAttribute('data-item-id') !== old; }", arg=old, timeout=15_000)
    return _card_id(page)


def test_spans_by_keyboard_and_mouse_corrected_undone_reloaded_and_exported(browser, span_app, tmp_path):
    datasets = pytest.importorskip("datasets")
    url, svc = span_app
    context, page, dialogs = open_page(browser)
    page.goto(url)
    page.wait_for_selector(f"{CARD}[data-item-id]:not([data-item-id='none'])", timeout=30_000)
    assert not page.locator("#label-page").is_visible()  # the span page replaces the classification page
    assert "1 PER" in page.locator("#span-legend").inner_text().replace("\n", " ")

    answered: dict[str, list[Span]] = {}  # item text → the spans accepted for it
    ids: dict[str, str] = {}
    saw_suggestion = corrected = refused = False
    for k in range(10):
        item, text = _card_id(page), _text(page)
        assert text in TRUTH, text
        truth = _spans(text, TRUTH[text])
        shown = _shown(page)
        assert shown == _spans(text, SUGGESTED.get(text, []))  # suggestions pre-filled (route not blind)
        saw_suggestion |= bool(shown)
        for span in [s for s in shown if s not in truth]:  # a wrong suggestion: Backspace on it
            _remove(page, span)
            corrected = True
        assert _shown(page) == [s for s in shown if s in truth]
        for n, span in enumerate(s for s in truth if s not in shown):  # add what is missing
            (_add_by_keyboard if (k + n) % 2 == 0 else _add_by_mouse)(page, span)
        assert _shown(page) == truth, (text, _shown(page))
        if not refused and len(truth) >= 2:  # a selection across two spans is refused on the page
            _cursor_to(page, _token_index(page, truth[0].start))
            page.keyboard.press("End")
            page.keyboard.press("Shift+Home")  # Shift+Home from the end: every token
            page.keyboard.press("3")
            assert "Overlaps" in page.locator(f"{CARD} .sp-note").inner_text()
            assert _shown(page) == truth
            page.keyboard.press("Escape")
            refused = True
        if k == 3:
            page.locator("#span-accept").click()  # the mouse runs the same event
        else:
            page.keyboard.press("Enter")
        answered[text], ids[text] = truth, item
        new = _wait_new_card(page, item)
        if k == 5:  # undo the last answer: the item comes back with its spans, the answer is taken back
            page.keyboard.press("u")
            assert _wait_new_card(page, new) == item and _shown(page) == truth
            assert svc.spans.item_spans("ner", int(item))["final"] is None
            last = truth[-1]
            _remove(page, last)  # change it, then put it back with the mouse
            assert _shown(page) == truth[:-1]
            _add_by_mouse(page, last)
            assert _shown(page) == truth
            page.keyboard.press("Enter")
            _wait_new_card(page, item)
    assert saw_suggestion and corrected and refused

    # the work survives a reload: progress counts it, and undo brings back the last item as accepted
    page.reload()
    page.wait_for_selector(f"{CARD}[data-item-id]:not([data-item-id='none'])", timeout=30_000)
    assert page.locator("#span-progress [data-labelled]").get_attribute("data-labelled") == "10"
    last_text = list(answered)[-1]
    page.locator("#span-why").click()  # focus on the page, outside any box
    old = _card_id(page)
    page.keyboard.press("Control+z")
    assert _wait_new_card(page, old) == ids[last_text] and _shown(page) == answered[last_text]
    page.keyboard.press("Enter")
    _wait_new_card(page, ids[last_text])
    for text, spans in answered.items():
        got = svc.spans.item_spans("ner", int(ids[text]))
        assert got["final"] == [s.as_dict() for s in spans], text
        assert got["answers"][0]["user"] == svc.settings.default_user

    # the Hugging Face export: tokens and IOB ner_tags give back the spans labelled on the page
    result = svc.spans.export("ner", fmt="hf", out=tmp_path / "hf", only="human")
    ds = datasets.load_from_disk(str(result.data_path))
    names = ds.features["ner_tags"].feature.names
    assert len(ds) == 10
    for row in ds:
        assert row["tokens"] == [t.text for t in tokenize(row["text"])]
        assert from_iob(row["text"], [names[t] for t in row["ner_tags"]]) == answered[row["text"]], row["text"]
    assert dialogs == []  # the <script> item was shown as text
    context.close()
