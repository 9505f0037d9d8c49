"""The whole flow in a real browser (Debian's Chromium through Playwright):

create a project from a CSV on the New project page → label ten items with the keyboard alone →
undo one and relabel it → reload and find every label still there (page and database) → the
``<img onerror>`` item is shown as text → download an export with the labels and provenance.
"""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from browser_pages import download_export, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABELS = ["billing", "bug", "account"]
KEY = {"billing": "1", "bug": "2", "account": "3"}
XSS = "<img src=x onerror=alert(1)>"
TOPICS = {
    "billing": ["I was charged twice for my plan", "Please refund the last invoice", "My card payment failed",
                "Why did my subscription price go up", "The invoice shows the wrong VAT number",
                "Can I pay yearly instead of monthly", "Refund still not received after two weeks",
                "I need a receipt for my accountant", "Billing address cannot be changed"],
    "bug": ["The app crashes when I open settings", "Export button does nothing in Firefox",
            "Search results are empty since the update", "The page freezes after login",
            "Dark mode makes the text invisible", "Upload fails with error 500", "Notifications arrive twice",
            "Charts do not render on mobile", "The sync icon spins forever"],
    "account": ["How do I reset my password", "I want to delete my account", "Change the email on my profile",
                "Two-factor codes are not accepted", "Add a second admin to our team", "My account got locked",
                "Merge two accounts into one", "Cannot log in with Google anymore",
                "Transfer ownership to a colleague"],
}


def _csv(tmp_path) -> tuple:
    rows, truth = [], {}
    for label, texts in TOPICS.items():
        for text in texts:
            rows.append({"id": f"t{len(rows)}", "text": text, "channel": ["email", "chat"][len(rows) % 2]})
            truth[text] = label
    rows.insert(7, {"id": "xss", "text": XSS, "channel": "email"})
    truth[XSS] = "bug"
    rows.insert(15, {"id": "tpl", "text": "Template ${7*7} and {{7*7}} stay literal", "channel": "chat"})
    truth[rows[15]["text"]] = "bug"
    path = tmp_path / "tickets.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, truth


def _item_id(page) -> str:
    return page.locator("#item-card [data-item-id]").get_attribute("data-item-id")


def _item_text(page) -> str:
    return page.locator("#item-card .ann-text").inner_text()


def _wait_new_item(page, old: str) -> str:
    page.wait_for_function(
        "old => { const el = document.querySelector('#item-card [data-item-id]');"
        " return el && el.getAttribute('data-item-id') !== old; }", arg=old, timeout=10_000)
    return _item_id(page)


def _check_xss_shown_as_text(page, text: str) -> bool:
    """When the card holds the XSS item: its markup is visible as text and created no element."""
    if text != XSS:
        return False
    assert page.locator("#item-card .ann-text").inner_text() == XSS
    assert page.locator("#item-card img").count() == 0
    assert page.locator("img[src='x']").count() == 0
    return True


def test_label_ten_items_by_keyboard_undo_reload_and_export(browser, served_app, tmp_path):
    url, service, _ui = served_app
    csv_path, truth = _csv(tmp_path)
    context, page, dialogs = open_page(browser)

    # --- create the project from the CSV through the New project page
    page.goto(url)
    page.wait_for_selector("#item-card [data-item-id]")
    page.get_by_role("tab", name="New project").click()
    page.locator("#upload-file input[type=file]").set_input_files(str(csv_path))
    page.wait_for_selector("#preview-table table")
    page.wait_for_function("() => document.querySelector('#new-name input, #new-name textarea').value !== ''")
    page.locator("#new-name input, #new-name textarea").first.fill("tickets")
    page.locator("#new-labels input, #new-labels textarea").first.fill(", ".join(LABELS))
    page.locator("#new-guidelines textarea").fill("# Guidelines\n\nMoney → billing; broken things → bug.")
    page.locator("#create-btn").click()
    # The page switches to the Label tab, so the New project status is attached but hidden.
    page.wait_for_function("() => (document.querySelector('#create-status') || {}).textContent"
                           "?.includes('items imported')", timeout=20_000)
    assert f"{len(truth)} items imported" in page.locator("#create-status").text_content()
    page.wait_for_function("() => { const el = document.querySelector('#item-card [data-item-id]');"
                           " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=20_000)
    assert page.locator("#label-bar button:visible").count() == 3
    assert service.projects.project("tickets").items == len(truth)

    # --- label ten items with the keyboard alone
    page.locator("body").click(position={"x": 5, "y": 5})  # focus on the page, not a text box
    given: dict[int, str] = {}
    order: list[int] = []
    xss_seen = 0
    for _ in range(10):
        current = _item_id(page)
        text = _item_text(page)
        xss_seen += _check_xss_shown_as_text(page, text)
        label = truth[text]
        page.keyboard.press(KEY[label])
        _wait_new_item(page, current)
        given[int(current)] = label
        order.append(int(current))

    # --- undo the last answer: it comes back pre-selected; relabel it with another key
    current = _item_id(page)
    page.keyboard.press("u")
    back = _wait_new_item(page, current)
    assert int(back) == order[-1]
    old = given[order[-1]]
    assert "primary" in (page.locator(f"#label-btn-{LABELS.index(old)}").get_attribute("class") or "")
    new = next(lab for lab in LABELS if lab != old)
    page.keyboard.press(KEY[new])
    _wait_new_item(page, back)
    given[order[-1]] = new

    # --- the XSS item shows as text: if the queue has not served it yet, skip (S) until it comes
    for _ in range(len(truth)):
        if xss_seen:
            break
        current = _item_id(page)
        page.keyboard.press("s")
        _wait_new_item(page, current)
        xss_seen += _check_xss_shown_as_text(page, _item_text(page))
    assert xss_seen

    # --- reload: every label is still there, on the page and in the database
    page.reload()
    page.wait_for_selector("#progress-panel .ann-progress")
    page.wait_for_function("() => document.querySelector('#progress-panel .ann-progress')"
                           ".getAttribute('data-labelled') === '10'", timeout=10_000)
    progress = service.queue.progress("tickets")
    assert progress.labelled == 10 and progress.by_user == {"local": 10}
    rows = {r["item_id"]: r for r in service.exports.final_labels("tickets")}
    assert {i: rows[i]["label"][0] for i in given} == given
    assert all(rows[i]["label_source"] == "human" and rows[i]["annotator"] == "local" for i in given)
    counts = page.locator("#progress-panel").inner_text()
    for label in LABELS:
        assert label in counts

    # --- export (Export tab) and download it
    data = download_export(page)
    frame = pd.read_csv(io.BytesIO(data))
    for column in ("label", "label_source", "annotator", "route", "status", "verified", "query_strategy"):
        assert column in frame.columns
    labelled = frame[frame["label"].notna()].set_index("item_id")
    assert {int(i): labelled.loc[i, "label"] for i in labelled.index} == given
    assert set(labelled["label_source"]) == {"human"} and set(labelled["annotator"]) == {"local"}
    assert "Label distribution" in page.locator("#export-card").inner_text()

    # --- the browse table shows user text as text too
    page.get_by_role("tab", name="Browse").click()
    page.locator("#browse-search input, #browse-search textarea").first.fill("onerror")
    page.locator("#browse-btn").click()
    page.wait_for_function("() => document.querySelector('#browse-page-info') &&"
                           " document.querySelector('#browse-page-info').innerText.includes('of 1 ')")
    assert XSS in page.locator("#browse-table").inner_text()
    assert page.locator("img[src='x']").count() == 0

    assert dialogs == [], f"a dialog fired: {dialogs}"
    context.close()


def test_multi_label_toggles_enter_and_backspace_undo(browser, served_app, tmp_path):
    """Multi-label: number keys toggle checkboxes, Enter submits, Backspace undoes; keys typed in the
    comment box stay text. Also prints the key → next-item latency seen in the page."""
    from annotator.importers import ImportSpec

    url, service, _ui = served_app
    path = tmp_path / "multi.csv"
    pd.DataFrame({"text": [f"ticket {i}: charged twice and the app crashed" for i in range(8)]}).to_csv(path,
                                                                                                     index=False)
    service.projects.create_project("multi", LABELS, task_type="multi-label")
    service.imports.import_file("multi", path, ImportSpec(text_column="text"))
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(url)
    page.wait_for_function("() => { const el = document.querySelector('#item-card [data-item-id]');"
                           " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=20_000)
    page.wait_for_selector("#multi-labels", state="visible")
    assert page.locator("#label-bar button:visible").count() == 0

    page.locator("#comment-box textarea").fill("12 s u f")  # typing digits and letters in a box does nothing
    page.keyboard.press("Escape")
    first = _item_id(page)
    page.keyboard.press("1")
    page.keyboard.press("3")
    assert page.locator("#multi-labels input:checked").count() == 2
    started = time.perf_counter()
    page.keyboard.press("Enter")
    second = _wait_new_item(page, first)
    latency_ms = (time.perf_counter() - started) * 1000
    row = next(r for r in service.exports.final_labels("multi") if r["item_id"] == int(first))
    assert row["label"] == ["billing", "account"] and row["comment"] == "12 s u f"

    page.keyboard.press("Backspace")
    assert _wait_new_item(page, second) == first
    page.wait_for_function("() => document.querySelectorAll('#multi-labels input:checked').length === 2")
    page.keyboard.press("3")  # untick account: the answer becomes billing only
    page.keyboard.press("Enter")
    _wait_new_item(page, first)
    row = next(r for r in service.exports.final_labels("multi") if r["item_id"] == int(first))
    assert row["label"] == ["billing"]
    print(f"\nkey → next item shown: {latency_ms:.0f} ms (includes Playwright's own round trip)")
    page.close()
