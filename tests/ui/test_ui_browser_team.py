"""Two people log in (Gradio's login page, two browser contexts) and label the same project at the
same time: with overlap off they never get the same item, each answer is stored under the login
(not the header box), and an annotator's page has no Export, AI, New project, Admin or Team tab and
names nobody else. Then an admin turns the overlap on in the Team tab, the two answer each other's
items differently, a reviewer logged in a third context settles one disagreement by keyboard in the
Review tab (the final label records ``settled_by=reviewer``), and the admin's Team tab shows the
agreement measured on those items."""

from __future__ import annotations

import re

import pytest
from browser_pages import item_id, login, wait_new_item
from conftest import launch_local

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABELS = ["billing", "bug", "account"]
PEOPLE = {"ana": ("annotator", "ana password"), "bo": ("annotator", "bo password"),
          "root": ("admin", "root password"), "rita": ("reviewer", "rita password")}
ROUNDS = 6


@pytest.fixture
def team_app(ui_service):
    """Project 'team' (30 items) served with logins for ana, bo (annotators), root (admin) and rita
    (reviewer): (url, service)."""
    from annotator.ui import AnnotatorUI, auth

    svc = ui_service
    for name, (role, password) in PEOPLE.items():
        svc.accounts.add_user(name, role, password)
    svc.projects.create_project("team", LABELS)
    svc.imports.import_records("team", [{"text": f"ticket {k}: {LABELS[k % 3]} trouble number {k}", "external_id": f"t{k}"}
                                for k in range(30)])
    blocks = AnnotatorUI(svc, project="team", refresh_every=60).build()
    port = launch_local(blocks, show_error=True, ssr_mode=False, auth=auth.login_callable(svc), auth_message=auth.AUTH_MESSAGE)
    try:
        yield f"http://127.0.0.1:{port}/", svc
    finally:
        blocks.close()


def test_two_people_label_concurrently_then_a_reviewer_settles_their_disagreement(browser, team_app):
    url, service = team_app
    pages = {}
    for name in ("ana", "bo"):
        context, page, dialogs = login(browser, url, name, PEOPLE[name][1])
        page.wait_for_selector("#item-card [data-item-id]")
        page.wait_for_function("() => { const el = document.querySelector('#item-card [data-item-id]');"
                               " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=20_000)
        pages[name] = (context, page, dialogs)
    ana, bo = pages["ana"][1], pages["bo"][1]

    # The header shows the login, read-only; an annotator sees no admin tabs.
    box = ana.locator("#user-box input, #user-box textarea").first
    assert box.input_value() == "ana" and not box.is_editable()
    visible_tabs = {t.inner_text() for t in ana.get_by_role("tab").all() if t.is_visible()}
    assert {"Label", "Browse"} <= visible_tabs and not visible_tabs & {"Export", "AI", "New project", "Admin"}

    shown: dict[str, list[int]] = {"ana": [], "bo": []}
    for page in (ana, bo):
        page.locator("body").click(position={"x": 5, "y": 5})  # focus the page, not a text box
    for _ in range(ROUNDS):
        current = {"ana": item_id(ana), "bo": item_id(bo)}
        assert current["ana"] != current["bo"], f"both were shown item {current['ana']}"
        for name in current:
            shown[name].append(int(current[name]))
        # Both press their key before either waits: the two answers and next-item requests overlap.
        ana.keyboard.press("1")
        bo.keyboard.press("2")
        wait_new_item(ana, current["ana"])
        wait_new_item(bo, current["bo"])

    assert not set(shown["ana"]) & set(shown["bo"]), shown
    answers = {r["item_id"]: r for r in service.exports.final_labels("team") if r.get("label")}
    assert service.queue.progress("team").by_user == {"ana": ROUNDS, "bo": ROUNDS}
    for name, label in (("ana", "billing"), ("bo", "bug")):
        assert all(answers[i]["label"] == [label] for i in shown[name]), (name, [answers[i] for i in shown[name]])
    # An annotator's progress panel counts her own answers and names nobody else.
    panel = ana.locator("#progress-panel").inner_text()
    assert re.search(r"\bana\b", panel) and not re.search(r"\bbo\b", panel), panel

    # The admin turns the overlap on in the Team tab: every item now needs two people's answers.
    root_context, root, root_dialogs = login(browser, url, "root", PEOPLE["root"][1])
    root.get_by_role("tab", name="Team", exact=True).click()
    root.wait_for_selector("#team-headline", timeout=15_000)  # the tab has loaded its figures and settings
    headline = root.locator("#team-headline").inner_text()
    assert "No item was answered by two raters" in headline and "Overlap is off" in headline
    root.locator("#team-overlap-fraction input").fill("1")
    root.locator("#team-overlap-k input").fill("2")
    root.locator("#team-overlap-save").click()
    root.wait_for_function("() => (document.querySelector('#team-status') || {}).innerText?.includes('Saved')",
                           timeout=15_000)
    settings = service.projects.project_details("team")[2]
    assert (settings.overlap_fraction, settings.overlap_k) == (1.0, 2)

    # Each answers the item on screen, then the one served next: an item the other already answered
    # (begun overlap items come first), with a different label.
    crossed: dict[str, int] = {}
    for page, name, key in ((ana, "ana", "1"), (bo, "bo", "2")):
        for _ in range(2):
            current = item_id(page)
            page.keyboard.press(key)
            wait_new_item(page, current)
        crossed[name] = int(current)
    other = {"ana": "bo", "bo": "ana"}
    by_item: dict[int, dict[str, list[str]]] = {}
    for item, person, _role, value in _answers(service):
        by_item.setdefault(item, {})[person] = value
    for name, item in crossed.items():
        assert set(by_item[item]) == {name, other[name]}, (name, item, by_item[item])  # both answered it
    assert max(len(people) for people in by_item.values()) <= 2  # never more people than the overlap allows
    disputed = sorted(i for i, people in by_item.items() if len(people) == 2
                      and people["ana"] != people["bo"])
    assert set(crossed.values()) <= set(disputed)

    # The reviewer logs in, sees the Review and Team tabs (not Export or Admin), and settles the first
    # disagreement in the queue by keyboard: the number key of bo's answer.
    rita_context, rita, rita_dialogs = login(browser, url, "rita", PEOPLE["rita"][1])
    tabs = {t.inner_text() for t in rita.get_by_role("tab").all() if t.is_visible()}
    assert {"Review", "Team"} <= tabs and not tabs & {"Export", "Admin", "New project"}
    rita.get_by_role("tab", name="Review", exact=True).click()
    rita.wait_for_function("() => { const el = document.querySelector('#review-item [data-item-id]');"
                           " return el && el.getAttribute('data-item-id') !== 'none'; }", timeout=15_000)
    settled = int(rita.locator("#review-item [data-item-id]").get_attribute("data-item-id"))
    assert settled in disputed
    buttons = [b.inner_text() for b in rita.locator("#review-bar button:visible").all()]
    bo_value = by_item[settled]["bo"][0]
    choice = next(k for k, text in enumerate(buttons) if f"{bo_value} (bo)" in text) + 1  # captions "2 bug (bo)"
    rita.locator("#review-item").click()
    rita.keyboard.press(str(choice))
    rita.wait_for_function(
        "old => { const el = document.querySelector('#review-item [data-item-id]');"
        " return el && el.getAttribute('data-item-id') !== old; }", arg=str(settled), timeout=15_000)
    final = next(r for r in service.exports.final_labels("team") if r["item_id"] == settled)
    assert (final["label"], final["settled_by"], final["annotator"], final["route"]) == (
        [bo_value], "reviewer", "rita", "review")

    # The admin's Team tab measures the agreement on the doubly answered items.
    root.locator("#team-refresh").click()
    report = service.quality.agreement("team")
    root.wait_for_function(
        "n => { const el = document.querySelector('#team-headline');"
        " return el && el.getAttribute('data-overlap-items') === String(n); }", arg=report["overlap_items"],
        timeout=15_000)
    people = root.locator("#team-people").inner_text()
    assert "ana" in people and "bo" in people

    # Log out: back to the login page, and the old cookie no longer opens the app.
    bo.locator("#logout-link").click()
    bo.wait_for_selector("input[type=password]", timeout=15_000)
    assert bo.request.get(url + "config").status == 401
    for context, _page, dialogs in (*pages.values(), (root_context, root, root_dialogs),
                                    (rita_context, rita, rita_dialogs)):
        assert dialogs == []
        context.close()


def _answers(service) -> list[tuple[int, str, str, list[str]]]:
    """(item_id, person, role, value) of each person's newest submitted answer per item."""
    from annotator import store
    from annotator.store import projects as project_q
    from annotator.store import responses as response_q

    with store.transaction(service.engine) as s:
        return response_q.answers_by_person(s, project_q.get_project(s, "team").id)
