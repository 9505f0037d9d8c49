"""Post-training data in a real browser (Debian's Chromium through Playwright), keyboard only:
a preference project (keys 1/2 by what is shown left/right, Enter), a rating project (number
keys per criterion, Enter) and a correction project (edit, Ctrl+Enter), each exported from the
Export tab; the DPO export loads with ``datasets`` and has prompt / chosen / rejected."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from browser_pages import open_page
from conftest import launch_local

from annotator.tasks.demo_pairs import correction_items, preference_pairs, rating_items

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def tasks_app(ui_service):
    """Three projects; ``launch(name)`` serves the app opened on one of them."""
    from annotator.ui import AnnotatorUI

    svc = ui_service
    svc.projects.create_project("prefs", [], task_type="preference")
    pairs = preference_pairs(4, seed=3)
    svc.imports.import_records("prefs", [{"text": p["prompt"], "metadata": {"response_a": p["response_a"],
                                                                    "response_b": p["response_b"]}} for p in pairs])
    svc.projects.create_project("rate", ["helpfulness", "correctness"], task_type="rating")
    svc.imports.import_records("rate", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in rating_items(3)])
    svc.projects.create_project("fix", [], task_type="correction")
    fixes = correction_items(2, seed=4)
    svc.imports.import_records("fix", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in fixes])
    opened = []

    def launch(project: str) -> str:
        blocks = AnnotatorUI(svc, project=project, refresh_every=60).build()
        port = launch_local(blocks, show_error=True, ssr_mode=False)
        opened.append(blocks)
        return f"http://127.0.0.1:{port}/"

    try:
        yield launch, svc, {p["prompt"]: p for p in pairs}, {r["prompt"]: r for r in fixes}
    finally:
        for blocks in opened:
            blocks.close()


def _card(page):
    return page.locator("#task-card [data-task]")


def _open_tasks_tab(page, url: str, task: str) -> None:
    page.goto(url)
    # the Label tab points to the Post-training tab and holds no item
    page.locator("#item-card").get_by_text("label it in the Post-training tab").wait_for(timeout=15_000)
    page.get_by_role("tab", name="Post-training").click()
    page.wait_for_selector(f"#task-card [data-task='{task}']", timeout=15_000)
    page.locator("#task-help").click()  # focus on the page, outside any text box


def _next(page, old: str) -> None:
    page.wait_for_function(
        "old => { const el = document.querySelector('#task-card [data-task]');"
        " return !el || el.getAttribute('data-item-id') !== old; }", arg=old, timeout=10_000)


def _export(page, fmt: str) -> zipfile.ZipFile:
    page.get_by_role("tab", name="Export").click()
    box = page.locator("#export-format input").first
    box.click()
    page.get_by_role("option", name=fmt, exact=True).click()
    page.locator("#export-btn").click()
    link = page.locator("#export-file a").first
    link.wait_for(timeout=30_000)
    with page.expect_download() as info:
        link.click()
    return zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes()))


def test_preference_by_keyboard_and_dpo_export(browser, tasks_app, tmp_path):
    datasets = pytest.importorskip("datasets")
    launch, service, truth, _ = tasks_app
    context, page, dialogs = open_page(browser)
    _open_tasks_tab(page, launch("prefs"), "preference")
    orders = []
    for k in range(4):
        card = _card(page)
        item = card.get_attribute("data-item-id")
        orders.append(card.get_attribute("data-order"))
        prompt = page.locator("#task-card .task-prompt .task-text").inner_text()
        pair = truth[prompt]
        good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        left = page.locator("#task-left .task-text").inner_text()
        if k == 3:
            page.keyboard.press("4")  # both bad: no DPO pair
        else:
            page.keyboard.press("1" if left == good else "2")
        page.keyboard.press("Enter")
        _next(page, item)
    assert "Every item is answered" in page.locator("#task-card").inner_text()
    rows = {r["text"]: r for r in service.exports.final_labels("prefs")}
    assert sum(r["label"] == [truth[t]["better"]] for t, r in rows.items()) == 3
    assert sum(r["label"] == ["both-bad"] for r in rows.values()) == 1

    archive = _export(page, "dpo")
    archive.extractall(tmp_path / "dpo")
    ds = datasets.load_from_disk(str(tmp_path / "dpo" / "dataset"))
    assert {"prompt", "chosen", "rejected", "margin", "decided_by", "shown_order"} <= set(ds.column_names)
    assert len(ds) == 3
    for row in ds:
        pair = truth[row["prompt"]]
        assert row["chosen"] == (pair["response_a"] if pair["better"] == "A" else pair["response_b"])
        assert row["shown_order"] in ("AB", "BA")
    assert dialogs == []
    context.close()


def test_rating_by_number_keys_and_ratings_export(browser, tasks_app, tmp_path):
    launch, service, _, _ = tasks_app
    context, page, dialogs = open_page(browser)
    _open_tasks_tab(page, launch("rate"), "rating")
    for scores in (("5", "4"), ("2", "1"), ("3", "3")):
        item = _card(page).get_attribute("data-item-id")
        for key in scores:
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        _next(page, item)
    archive = _export(page, "ratings")
    table = [json.loads(line) for line in archive.read("data.jsonl").decode().splitlines()]
    assert sorted((r["helpfulness"], r["correctness"]) for r in table) == [(2, 1), (3, 3), (5, 4)]
    assert {r["decided_by"] for r in table} == {service.settings.default_user}
    context.close()


def test_correction_with_ctrl_enter_and_sft_export(browser, tasks_app):
    launch, service, _, fixes = tasks_app
    context, page, dialogs = open_page(browser)
    _open_tasks_tab(page, launch("fix"), "correction")
    for _ in range(2):
        item = _card(page).get_attribute("data-item-id")
        prompt = page.locator("#task-card .task-prompt .task-text").inner_text()
        box = page.locator("#corr-edit textarea")
        box.click()
        box.fill(fixes[prompt]["fixed"])
        box.press("Control+Enter")
        _next(page, item)
    archive = _export(page, "sft")
    rows = [json.loads(line) for line in archive.read("data.jsonl").decode().splitlines()]
    assert {r["messages"][1]["content"] for r in rows} == {f["fixed"] for f in fixes.values()}
    assert all(r["messages"][0]["role"] == "user" for r in rows)
    context.close()
