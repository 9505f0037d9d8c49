"""The host-name check: which Host and Origin headers the app answers, and the DNS-rebinding attack
on a served app (a foreign Host creating an admin) refused with 403 while programs still work."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.ui.hosts import HostPolicy, split_host_port

LOCAL = HostPolicy.from_settings([], "127.0.0.1")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "app.localhost", "[::1]", "10.0.0.7", "LOCALHOST."])
def test_loopback_names_and_addresses_are_answered(host):
    assert LOCAL.allows_host(split_host_port(host)[0])


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "", "example"])
def test_other_names_are_refused_without_configuration(host):
    assert not LOCAL.allows_host(split_host_port(host)[0])


def test_configured_names_and_subdomains():
    policy = HostPolicy.from_settings(["label.example.org:443", ".corp.example"], "0.0.0.0")
    assert policy.allows_host("label.example.org")
    assert policy.allows_host("corp.example") and policy.allows_host("a.b.corp.example")
    assert not policy.allows_host("evilcorp.example") and not policy.allows_host("example.org")
    assert HostPolicy.from_settings(["*"], "127.0.0.1").allows_host("anything.example")


def test_a_named_bind_host_is_its_own_name():
    assert HostPolicy.from_settings([], "annotate.lan").allows_host("annotate.lan")


@pytest.mark.parametrize(("origin", "host", "ok"), [
    ("http://127.0.0.1:7860", "127.0.0.1:7860", True),
    ("http://localhost:7860", "localhost:7860", True),
    ("https://label.example.org", "label.example.org", False),  # not configured
    ("http://localhost:8080", "localhost:7860", False),  # another local site posting to the app
    ("http://evil.example:7860", "127.0.0.1:7860", False),
    ("http://evil.example:7860", "evil.example:7860", False),  # a rebound name, even same-page
    ("null", "127.0.0.1:7860", False),
    ("file://", "127.0.0.1:7860", False),
])
def test_origin_must_be_the_served_page(origin, host, ok):
    assert LOCAL.allows_origin(origin, host) is ok


def test_a_configured_proxy_name_may_post_to_the_inner_address():
    policy = HostPolicy.from_settings(["label.example.org"], "127.0.0.1")
    assert policy.allows_origin("https://label.example.org", "127.0.0.1:7860")


@given(st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}", fullmatch=True), st.integers(1, 65535))
def test_split_host_port_round_trip(name, port):
    assert split_host_port(f"{name}:{port}") == (name, str(port))
    assert split_host_port(f"{name.upper()}.") == (name, "")


# ---- the served app -----------------------------------------------------------------------------

def _post(url: str, body: dict, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def guarded_app(ui_service):
    """The app as ``serve`` launches it (host check on, single-user mode); yields (port, service)."""
    from conftest import launch_local

    from annotator.core.config import Settings
    from annotator.ui import AnnotatorUI
    from annotator.ui.launch import app_kwargs

    blocks = AnnotatorUI(ui_service).build()
    kwargs = app_kwargs(Settings(data_dir=ui_service.settings.data_dir, demo=False), ui_service, auth=False)
    port = launch_local(blocks, show_error=True, ssr_mode=False, app_kwargs=kwargs)
    try:
        yield port, ui_service
    finally:
        blocks.close()


def test_rebound_host_cannot_create_an_admin(guarded_app):
    port, service = guarded_app
    attack = {"data": ["mallory", "admin", "hunter2hunter2"]}
    status, body = _post(f"http://127.0.0.1:{port}/gradio_api/call/admin_add_user", attack,
                         {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"})
    assert status == 403 and "evil.example" in body and "ANNOTATOR_ALLOWED_HOSTS" in body
    status, _ = _post(f"http://127.0.0.1:{port}/gradio_api/call/admin_add_user", attack,
                      {"Origin": "http://attacker.example"})  # a cross-site form post to the real address
    assert status == 403
    assert "mallory" not in {u.name for u in service.accounts.list_users()}


def test_programs_without_an_origin_still_call_events(guarded_app):
    port, service = guarded_app
    status, body = _post(f"http://127.0.0.1:{port}/gradio_api/call/admin_add_user",
                         {"data": ["ana", "annotator", ""]}, {})
    assert status == 200 and "event_id" in body
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/call/admin_add_user/"
                                f"{json.loads(body)['event_id']}", timeout=30) as response:
        response.read()
    assert "ana" in {u.name for u in service.accounts.list_users()}
