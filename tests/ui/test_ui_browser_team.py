"""Two people log in (Gradio's login page, two browser contexts) and label the same project at the
same time: with overlap off they never get the same item, each answer is stored under the login
(not the header box), and an annotator's page has no Export, AI, New project or Admin tab.

The "review" engineer's reviewer-settles-a-disagreement flow can start from ``team_app`` and
``browser_pages.login``."""

from __future__ import annotations

import pytest
from browser_pages import item_id, login, wait_new_item
from conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABELS = ["billing", "bug", "account"]
PEOPLE = {"ana": ("annotator", "ana password"), "bo": ("annotator", "bo password"),
          "root": ("admin", "root password")}
ROUNDS = 6


@pytest.fixture
def team_app(ui_service):
    """Project 'team' (30 items) served with logins for ana, bo (annotators) and root (admin): (url, service)."""
    from annotator.ui import AnnotatorUI, auth

    svc = ui_service
    for name, (role, password) in PEOPLE.items():
        svc.add_user(name, role, password)
    svc.create_project("team", LABELS)
    svc.import_records("team", [{"text": f"ticket {k}: {LABELS[k % 3]} trouble number {k}", "external_id": f"t{k}"}
                                for k in range(30)])
    blocks = AnnotatorUI(svc, project="team", refresh_every=60).build()
    port = free_port()
    blocks.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                  show_error=True, ssr_mode=False, auth=auth.login_callable(svc), auth_message=auth.AUTH_MESSAGE)
    try:
        yield f"http://127.0.0.1:{port}/", svc
    finally:
        blocks.close()


def test_two_people_label_concurrently_and_never_get_the_same_item(browser, team_app):
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
    # Log out: back to the login page, and the old cookie no longer opens the app.
    bo.locator("#logout-link").click()
    bo.wait_for_selector("input[type=password]", timeout=15_000)
    assert bo.request.get(url + "config").status == 401
    answers = {r["item_id"]: r for r in service.final_labels("team") if r.get("label")}
    assert service.progress("team").by_user == {"ana": ROUNDS, "bo": ROUNDS}
    for name, label in (("ana", "billing"), ("bo", "bug")):
        assert all(answers[i]["label"] == [label] for i in shown[name]), (name, [answers[i] for i in shown[name]])
    for context, _page, dialogs in pages.values():
        assert dialogs == []
        context.close()
