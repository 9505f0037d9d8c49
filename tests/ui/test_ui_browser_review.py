"""A reviewer settles a disagreement in a real browser (Debian's Chromium through Playwright), by
keyboard alone: two people answered the same items differently; the reviewer (single-user mode,
the name typed in the header's box) opens the Review tab, sees both answers side by side, writes a
note, accepts one answer with its number key, sends the other item back with B, and the export
then carries the reviewer's label with route ``review``. The same decision by a reviewer logged in
(auth mode), after two logged-in annotators disagreed, is in tests/ui/test_ui_browser_team.py."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from browser_pages import download_export, open_page
from conftest import launch_local

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEXTS = ["I was charged twice for my plan", "The app crashes when I open settings", "How do I reset my password",
         "Refund still not received after two weeks", "Upload fails with error 500"]


@pytest.fixture
def review_app(ui_service):
    """Project 'team': ana and ben disagree on t0 (billing / bug) and t1 (bug / account), agree on t2."""
    from annotator.ui import AnnotatorUI

    svc = ui_service
    svc.projects.create_project("team", ["billing", "bug", "account"])
    svc.imports.import_records("team", [{"text": t, "external_id": f"t{k}"} for k, t in enumerate(TEXTS)])
    ids = {r["external_id"]: r["item_id"] for r in svc.exports.final_labels("team")}
    for person, answers in {"ana": {"t0": "billing", "t1": "bug", "t2": "account"},
                            "ben": {"t0": "bug", "t1": "account", "t2": "account"}}.items():
        for ext, value in answers.items():
            svc.queue.submit("team", person, ids[ext], [value])
    svc.accounts.add_user("rita", role="reviewer")  # no password: single-user mode, no login page
    blocks = AnnotatorUI(svc, project="team", refresh_every=60).build()
    port = launch_local(blocks, show_error=True, ssr_mode=False)
    try:
        yield f"http://127.0.0.1:{port}/", svc, ids
    finally:
        blocks.close()


def _shown(page) -> str:
    return page.locator("#review-item [data-item-id]").get_attribute("data-item-id")


def _wait_item_change(page, old: str) -> str:
    page.wait_for_function(
        "old => { const el = document.querySelector('#review-item [data-item-id]');"
        " return el && el.getAttribute('data-item-id') !== old; }", arg=old, timeout=10_000)
    return _shown(page)


def test_a_reviewer_settles_a_disagreement_by_keyboard(browser, review_app):
    url, service, ids = review_app
    context, page, dialogs = open_page(browser)
    page.goto(url)
    page.wait_for_selector("#item-card [data-item-id]")
    box = page.locator("#user-box input, #user-box textarea").first
    box.fill("rita")
    box.press("Enter")
    page.get_by_role("tab", name="Review").click()
    page.wait_for_function("() => { const el = document.querySelector('#review-item [data-item-id]');"
                           " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=15_000)
    # Gradio may still show its "processing" overlay on the summary (the header box's event runs too).
    page.wait_for_function("() => { const el = document.querySelector('#review-summary');"
                           " return el && el.innerText.trim().startsWith('2 to review'); }", timeout=15_000)
    first = _shown(page)
    assert int(first) == ids["t0"]  # both 1:1, so by item id
    answers = page.locator("#review-answers")
    assert answers.locator("[data-user='ana']").inner_text().splitlines()[:2] == ["ana", "billing"]
    assert answers.locator("[data-user='ben']").inner_text().splitlines()[:2] == ["ben", "bug"]
    assert "disagreement: billing × 1, bug × 1" in page.locator("#review-reasons").inner_text()
    assert page.locator("#review-bar button:visible").count() == 3  # billing (ana), bug (ben), account (correct)

    # a note (C, type, Esc), then 2: accept ben's answer
    page.locator("#review-item").click()
    page.keyboard.press("c")
    page.keyboard.type("ben read it right")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    second = _wait_item_change(page, first)
    assert int(second) == ids["t1"]
    assert "accepted bug" in page.locator("#review-status").inner_text()

    # B: send t1 back for another answer; the queue is empty then
    page.keyboard.press("b")
    _wait_item_change(page, second)
    assert _shown(page) == "none" and "Nothing to review" in page.locator("#review-item").inner_text()
    served = service.queue.next_item("team", "cy")
    assert served is not None and served.item_id == ids["t1"]

    # the export carries the reviewer's label, name, route and note
    data = download_export(page)
    frame = pd.read_csv(io.BytesIO(data)).set_index("item_id")
    row = frame.loc[ids["t0"]]
    assert (row["label"], row["annotator"], row["route"], row["comment"]) == ("bug", "rita", "review",
                                                                            "ben read it right")
    assert frame.loc[ids["t1"], "annotator"] != "rita"  # sent back: no decision
    assert dialogs == [], f"a dialog fired: {dialogs}"
    context.close()
