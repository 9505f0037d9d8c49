"""The Dashboard tab in a real browser (Debian's Chromium through Playwright): the six plotly
figures render, and the numbers the page shows are the store's.

A ticket project with 150 people's labels, one run of the cheap AI annotators, five answered
audits and one suspect search is set up through the service; then the page opens the Dashboard
tab and reads the headline cards and the route-mix figure's own data back from the DOM.
"""

from __future__ import annotations

import pytest
from ai_data import CHEAP, make_project
from browser_pages import open_page

from annotator.reporting import FIGURE_TITLES

pytestmark = [pytest.mark.browser]


@pytest.fixture
def dashboard_project(served_app):
    url, service, ui = served_app
    gold = make_project(service, "tickets", labelled=150)
    report = service.ai.run_ai("tickets", ",".join(CHEAP))
    for _ in range(5):
        item = service.queue.next_item("tickets", "ana")
        assert item.route == "audit"
        service.queue.submit("tickets", "ana", item.item_id, [gold[item.item_id]])
    service.quality.find_suspects("tickets")
    return url, service, report


def _stat(page, key: str) -> str:
    return page.locator(f'#dash-summary [data-stat="{key}"]').get_attribute("data-value")


def test_dashboard_renders_and_matches_the_store(browser, dashboard_project):
    url, service, report = dashboard_project
    context, page, dialogs = open_page(browser)
    try:
        page.goto(url)
        page.locator("#item-card [data-item-id]").wait_for(timeout=30_000)  # the page has loaded the project
        page.get_by_role("tab", name="Dashboard").click()
        # Opening the tab loads it. Under heavy load the tab's select event was seen (rarely, not
        # reproduced since) not to arrive; then Refresh, the documented way, must load it.
        summary = page.locator('#dash-summary [data-stat="answers"]')
        try:
            summary.wait_for(timeout=30_000)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            page.locator("#dash-refresh").click()
            summary.wait_for(timeout=60_000)
        # Every figure is drawn by plotly.js in the page.
        for key in FIGURE_TITLES:
            page.locator(f"#dash-plot-{key} .js-plotly-plot").first.wait_for(timeout=20_000)
        assert page.locator(".js-plotly-plot").count() >= len(FIGURE_TITLES)
        # The headline numbers are the store's.
        d = service.quality.dashboard("tickets")
        progress = service.queue.progress("tickets")
        assert int(_stat(page, "labelled")) == progress.labelled == d.labelled
        assert int(_stat(page, "answers")) == 155 == d.human_answers  # 150 bulk labels + 5 audits
        estimate = service.ai.audit_estimate("tickets")
        assert estimate.audits == 5 and float(_stat(page, "audit-estimate")) == estimate.value
        assert int(_stat(page, "suspects")) == service.quality.suspect_report("tickets")["found"]
        # The judge's AUROC next to the best raw confidence's, as the last AI run reported them.
        assert _stat(page, "judge-auroc") == str(report["judge"]["auroc"]) == str(d.judge["auroc"])
        assert _stat(page, "confidence-auroc") == str(report["judge"]["best_confidence_auroc"])
        # The route-mix figure in the page holds the run's counts (read from plotly's own data).
        bars = page.eval_on_selector(
            "#dash-plot-routes .js-plotly-plot",
            "el => Object.fromEntries(el.data.filter(t => t.type === 'bar').map(t => [t.name, t.y[0]]))")
        assert bars == report["routes"]
        assert "Stopping signal" in page.locator("#dash-advice").inner_text()
        # Refreshing after one more answer moves the count.
        item = service.queue.next_item("tickets", "bo")
        service.queue.submit("tickets", "bo", item.item_id, ["billing"])
        page.locator("#dash-refresh").click()
        page.wait_for_function(
            "() => document.querySelector('#dash-summary [data-stat=\"answers\"]')?.dataset.value === '156'",
            timeout=20_000)
        assert dialogs == []
    finally:
        context.close()
