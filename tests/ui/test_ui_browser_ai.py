"""The four routes in a real browser (Debian's Chromium through Playwright).

A project with 150 human labels is set up through the service; then, in the page: run the cheap AI
annotators from the AI tab and wait for the route cards → answer the audits on the Label tab by
keyboard (shown blind; the AI's label is revealed only after each answer) → accept a ``verify``
item's pre-selected suggestion with Enter → label a ``blind`` item (no suggestion before, the AI's
label after) → download the export and find the ``auto`` items with route ``auto``, not audited,
beside the audited ones.
"""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from ai_data import LABELS, make_project
from browser_pages import download_export, open_page

pytestmark = [pytest.mark.browser]

KEY = {label: str(i + 1) for i, label in enumerate(LABELS)}
CARD_ID = "#item-card [data-item-id]"


def _item_id(page) -> int:
    return int(page.locator(CARD_ID).get_attribute("data-item-id"))


def _wait_new_item(page, old: int) -> int:
    page.wait_for_function(
        "old => { const el = document.querySelector('#item-card [data-item-id]');"
        " return el && el.getAttribute('data-item-id') !== old; }", arg=str(old), timeout=10_000)
    return _item_id(page)


def _route_counts(page) -> dict[str, int]:
    return page.eval_on_selector_all(
        "#ai-routes [data-route]", "els => Object.fromEntries(els.map(e => [e.dataset.route, +e.dataset.count]))")


def _selected_labels(page) -> list[str]:
    """Label buttons shown as pre-selected (variant primary), by label name."""
    return [label for i, label in enumerate(LABELS)
            if "primary" in (page.locator(f"#label-btn-{i}").get_attribute("class") or "")]


def _assert_no_ai_shown(page) -> None:
    """Nothing about the AI's answer for the item on screen: no banner, no suggestion, no pre-selection."""
    assert page.locator("#item-details .ann-verify, #item-details .ann-suggestion").count() == 0
    assert "AI" not in page.locator("#item-details").inner_text()
    assert "AI" not in page.locator("#why-line").inner_text()
    assert _selected_labels(page) == []
    current = _item_id(page)
    assert page.locator(f"#label-status .ann-reveal[data-item-id='{current}']").count() == 0


def _assert_revealed(page, item_id: int, ai_label: str, answer: str) -> None:
    """After the answer: the status line names the AI's hidden label for the answered item."""
    reveal = page.locator(f"#label-status .ann-reveal[data-item-id='{item_id}']")
    reveal.wait_for(timeout=5_000)
    text = reveal.inner_text()
    assert f"AI had suggested {ai_label} (" in text and f"you said {answer}" in text


def test_four_routes_in_the_browser(browser, served_app):
    url, service, _ui = served_app
    gold = make_project(service, "tickets", labelled=150)
    started = time.perf_counter()
    context, page, dialogs = open_page(browser)
    page.goto(url)
    page.wait_for_function("() => { const el = document.querySelector('#item-card [data-item-id]');"
                           " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=20_000)

    # --- the AI tab: run the cheap annotators from the page, wait for the route cards to fill
    page.get_by_role("tab", name="AI", exact=True).click()
    page.wait_for_selector("#ai-routes .ann-routes")
    assert sum(_route_counts(page).values()) == 0
    page.locator("#ai-run-btn").click()
    page.wait_for_function("() => (document.querySelector('#ai-status') || {}).textContent?.includes('Routed')",
                           timeout=30_000)
    page.wait_for_function("() => +(document.querySelector('#ai-routes [data-route=auto]') || {dataset: {}})"
                           ".dataset.count > 0", timeout=10_000)
    counts = _route_counts(page)
    assert counts == service.queue.pool("tickets").route_counts() and sum(counts.values()) == 180
    assert counts["auto"] > 0 and counts["audit"] > 0 and counts["verify"] > 0 and counts["blind"] > 0
    assert "Routed 180 items" in page.locator("#ai-status").inner_text()
    page.wait_for_selector("#ai-plot .js-plotly-plot", timeout=10_000)
    # The AI label of every routed item (the page hides it on blind and audit items until answered).
    suggested = {r["item_id"]: r["suggestion"] for r in service.browse.browse("tickets", page_size=500).rows}

    # --- the Label tab: after the run the queue serves the audits first ("random sample", AI hidden)
    page.get_by_role("tab", name="Label").click()
    page.wait_for_function("() => (document.querySelector('#why-line') || {}).textContent?.includes('random sample')",
                           timeout=10_000)
    page.locator("body").click(position={"x": 5, "y": 5})  # keys go to the page, not a text box
    answered: dict[str, list[int]] = {"audit": [], "verify": [], "blind": []}
    for _ in range(60):
        current = _item_id(page)
        route = service.queue.pool("tickets").route_of(current)
        assert route in answered, f"item {current} came with route {route!r}"
        if route == "verify":
            if answered["verify"]:
                # One verify item is enough; skip the others until a blind item comes.
                page.keyboard.press("s")
                _wait_new_item(page, current)
                continue
            assert answered["audit"] and len(answered["audit"]) == counts["audit"], "audits come first"
            banner = page.locator("#item-details .ann-verify")
            banner.wait_for(timeout=5_000)
            ai = suggested[current]
            assert "AI suggests:" in banner.inner_text() and ai[0] in banner.inner_text()
            assert _selected_labels(page) == ai  # pre-selected: Enter accepts it
            assert "AI suggestion to verify" in page.locator("#why-line").inner_text()
            page.keyboard.press("Enter")
            _wait_new_item(page, current)
            assert page.locator("#label-status .ann-reveal").count() == 0  # it was shown before the answer
        else:  # audit or blind: answered without seeing the AI, which is revealed afterwards
            _assert_no_ai_shown(page)
            answer = gold[current]
            page.keyboard.press(KEY[answer])
            _wait_new_item(page, current)
            _assert_revealed(page, current, suggested[current][0], answer)
        answered[route].append(current)
        if answered["verify"] and answered["blind"]:
            break
    assert answered["verify"] and answered["blind"] and len(answered["audit"]) == counts["audit"]

    rows = {r["item_id"]: r for r in service.exports.final_labels("tickets")}
    verified = rows[answered["verify"][0]]
    assert verified["route"] == "verify" and verified["label"] == suggested[answered["verify"][0]]
    assert verified["label_source"] == "human" and verified["annotator"] == "local"
    assert all(rows[i]["route"] == "audit" and rows[i]["label"] == [gold[i]] for i in answered["audit"])
    assert all(rows[i]["route"] == "blind" for i in answered["blind"])

    # --- the AI tab now measures the auto labels' precision on the answered audits
    page.get_by_role("tab", name="AI", exact=True).click()
    page.wait_for_function("() => !document.querySelector('#ai-audit .ann-audit-none')", timeout=10_000)
    assert f"{counts['audit']} audits" in page.locator("#ai-audit").inner_text()

    # --- the export, downloaded through the page: auto items with route auto, not audited
    frame = pd.read_csv(io.BytesIO(download_export(page))).set_index("item_id")
    auto = frame[frame["route"] == "auto"]
    assert len(auto) == counts["auto"]
    assert set(auto["status"]) == {"auto"} and set(auto["label_source"]) == {"agent"}
    assert not auto["verified"].astype(bool).any()  # an auto label no person has checked says so
    assert auto["annotator"].str.startswith("ensemble(").all() and (auto["confidence"] > 0.5).all()
    assert all(auto.loc[i, "label"] == suggested[i][0] for i in auto.index)
    audited = frame.loc[answered["audit"]]
    assert set(audited["route"]) == {"audit"} and audited["verified"].astype(bool).all()
    assert set(audited["label_source"]) == {"human"} and set(audited["annotator"]) == {"local"}
    assert frame.loc[answered["verify"][0], "route"] == "verify"
    card = page.locator("#export-card").inner_text()
    assert "blind audits" in card and f"{counts['audit']} audited items" in card

    assert dialogs == [], f"a dialog fired: {dialogs}"
    context.close()
    elapsed = time.perf_counter() - started
    print(f"\nroutes {counts}; answered {({k: len(v) for k, v in answered.items()})} in {elapsed:.1f} s")
