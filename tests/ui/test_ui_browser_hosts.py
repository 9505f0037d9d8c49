"""A page served from another host name cannot call any event: Chromium resolves ``evil.example``
and ``attacker.example`` to 127.0.0.1 (what a DNS-rebinding attacker arranges), and

- the app opened as ``http://evil.example:PORT`` answers 403, and a script on that origin (same-origin
  with the app, were the name accepted) cannot create an admin, list users or run an event;
- pages of ``http://localhost:OTHER`` (another local site) and ``http://attacker.example:OTHER`` that
  post to the real address ``127.0.0.1:PORT`` are refused too;
- the same app opened at ``http://127.0.0.1:PORT`` works (an event runs from the page's origin)."""

from __future__ import annotations

import http.server
import threading

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, launch_local

pytestmark = [pytest.mark.browser]

ATTACK_JS = """async ([base, name]) => {
  const answer = r => r.status, refused = e => 'blocked by the browser';
  return {
    add: await fetch(base + '/gradio_api/call/admin_add_user', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({data: [name, 'admin', 'pass-pass-pass']})})
        .then(answer, refused),
    info: await fetch(base + '/gradio_api/info').then(answer, refused),
  };
}"""


@pytest.fixture
def guarded(ui_service):
    from annotator.core.config import Settings
    from annotator.ui import AnnotatorUI
    from annotator.ui.launch import app_kwargs

    ui_service.projects.create_project("hosts", ["a", "b"])
    ui_service.imports.import_records("hosts", [{"text": f"item {k}", "external_id": f"i{k}"} for k in range(4)])
    blocks = AnnotatorUI(ui_service, project="hosts", refresh_every=60).build()
    kwargs = app_kwargs(Settings(data_dir=ui_service.settings.data_dir, demo=False), ui_service, auth=False)
    port = launch_local(blocks, show_error=True, ssr_mode=False, app_kwargs=kwargs)
    try:
        yield port, ui_service
    finally:
        blocks.close()


@pytest.fixture
def attacker_site():
    """A plain page on another port (the attacker's own server)."""
    port = free_port()
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield port
    finally:
        server.shutdown()


@pytest.fixture
def rebinding_browser(browser):
    """A second Chromium of the session's Playwright that resolves the attackers' names to 127.0.0.1."""
    rules = "--host-resolver-rules=MAP evil.example 127.0.0.1, MAP attacker.example 127.0.0.1"
    chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules],
                                           headless=True)
    try:
        yield chromium
    finally:
        chromium.close()


def test_foreign_host_names_cannot_call_events(guarded, attacker_site, rebinding_browser):
    port, service = guarded
    page = rebinding_browser.new_page()

    response = page.goto(f"http://evil.example:{port}/")
    assert response is not None and response.status == 403
    assert "does not answer to the host name 'evil.example'" in page.content()
    rebound = page.evaluate(ATTACK_JS, [f"http://evil.example:{port}", "mallory"])
    assert rebound == {"add": 403, "info": 403}, rebound

    # Another site on this machine (Gradio's own CORS rule trusts every localhost origin) and a
    # site elsewhere both post to the real address.
    page.goto(f"http://localhost:{attacker_site}/")
    assert page.evaluate(ATTACK_JS, [f"http://127.0.0.1:{port}", "trudy"])["add"] == 403
    page.goto(f"http://attacker.example:{attacker_site}/")
    assert page.evaluate(ATTACK_JS, [f"http://127.0.0.1:{port}", "oscar"])["add"] in (403, "blocked by the browser")
    assert not {"mallory", "trudy", "oscar"} & {u.name for u in service.accounts.list_users()}

    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("text=item", timeout=60_000)  # the app itself loads and serves an item
    own = page.evaluate(ATTACK_JS, [f"http://127.0.0.1:{port}", "ana"])
    assert own["add"] == 200 and own["info"] == 200
    page.close()
