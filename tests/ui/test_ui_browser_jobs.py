"""The Jobs tab in a real browser: start a fine-tune, watch its progress arrive by the timer, see
the promoted version (fake trainer with slow steps; the embedded SQLite job consumer)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browser_pages import open_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, parity_project, parity_rule  # noqa: E402

pytestmark = [pytest.mark.browser]


def test_start_a_job_and_watch_it_finish(browser, served_app):
    from annotator.training import RuleTrainer

    url, service, ui = served_app
    parity_project(service, n=200, labelled=150)
    service.models.trainer = RuleTrainer(parity_rule, steps=30, sleep_s=0.1)
    service.jobs.start(workers=1)  # the embedded SQLite consumer, as `make run` starts it
    context, page, dialogs = open_page(browser)
    try:
        page.goto(url)
        page.locator("#item-card [data-item-id]").wait_for(timeout=30_000)
        # the project box gets its value in the same load event, but may render after the item card
        page.wait_for_function(f"document.querySelector('#project-dd input').value === '{PROJECT}'", timeout=20_000)
        page.get_by_role("tab", name="Jobs").click()
        page.get_by_text("No jobs yet.").wait_for(timeout=20_000)  # the tab loaded the (empty) list
        page.locator("#jobs-start").click()
        # The timer brings the running job's progress, then its end, without a click.
        page.locator('#jobs-table tr[data-status="running"]').wait_for(timeout=30_000)
        page.locator('#jobs-table tr[data-status="done"]').wait_for(timeout=60_000)
        assert "100%" in page.locator('#jobs-table tr[data-status="done"]').inner_text()
        versions = page.locator("#versions-table").inner_text()
        assert "v1" in versions and "promoted" in versions and "100.0%" in versions
        [job] = service.jobs.list_jobs(PROJECT)
        assert job.status == "done" and job.result["promoted"] is True
        assert not dialogs
    finally:
        context.close()
