"""Logins over HTTP on a really launched app: a password reset or a role change from another process
(the CLI, a second service on the same database) ends open logins at their next request, and a
forged forwarded header does not escape the per-address login lock.

The session-version cache is off here (``VERSION_TTL_S = 0``) so that no test waits on the clock;
``test_versions_are_cached_for_ttl_s`` checks the cache itself with a fake clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest
from conftest import launch_local

from annotator.core.config import Settings
from annotator.service import AnnotatorService
from annotator.ui import AnnotatorUI, auth

PASSWORDS = {"root": "root password", "ana": "ana password", "rita": "rita password", "bo": "bo password"}
ROLES = {"root": "admin", "ana": "annotator", "rita": "reviewer", "bo": "annotator"}
UPLOAD = {"files": ("tickets.csv", b"text\nmy invoice is wrong\n", "text/csv")}


def _launch(service: AnnotatorService, trusted_proxies: list[str] | None = None):  # noqa: ANN202
    blocks = AnnotatorUI(service, refresh_every=60).build()

    async def no_wait(_seconds: float) -> None:
        return None

    port = launch_local(blocks, show_error=True, ssr_mode=False, auth=auth.login_callable(service, sleep=no_wait),
                        app_kwargs=auth.launch_app_kwargs(service, trusted_proxies=trusted_proxies))
    return f"http://127.0.0.1:{port}", blocks


@pytest.fixture
def accounts(ui_service, monkeypatch):
    from annotator.ui import sessions

    monkeypatch.setattr(sessions, "VERSION_TTL_S", 0.0)
    for name, role in ROLES.items():
        ui_service.accounts.add_user(name, role, PASSWORDS[name])
    ui_service.projects.create_project("tickets", ["billing", "bug"])
    ui_service.imports.import_records("tickets", [{"text": f"ticket number {i}"} for i in range(4)])
    return ui_service


@pytest.fixture
def app(accounts):
    url, blocks = _launch(accounts)
    try:
        yield url, accounts, blocks
    finally:
        blocks.close()


def _login(url: str, name: str, password: str | None = None, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/login", data={"username": name, "password": password or PASSWORDS[name]},
                      headers=headers, timeout=30)


def _client(url: str, name: str, password: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    r = client.post("/login", data={"username": name, "password": password or PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return client


def _whoami(client: httpx.Client, blocks) -> httpx.Response:  # noqa: ANN001
    index = next(i for i, f in blocks.fns.items() if f.fn is not None and auth.event_key(f) == "whoami")
    return client.post("/gradio_api/run/predict",
                       json={"data": [], "fn_index": index, "session_hash": uuid.uuid4().hex[:10]})


def test_a_password_reset_from_the_cli_ends_open_logins(app):
    url, service, blocks = app
    ana, rita = _client(url, "ana"), _client(url, "rita")
    assert ana.get("/config").status_code == 200 and _whoami(ana, blocks).status_code == 200
    cli = subprocess.run(
        [sys.executable, "-m", "annotator", "user", "reset-password", "ana", "--password-stdin",
         "--data-dir", str(service.settings.data_dir)],
        input="a brand new password\n", capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert cli.returncode == 0, cli.stderr
    assert ana.get("/config").status_code == 401  # the open login is over: the page asks to log in
    assert _whoami(ana, blocks).status_code == 401  # and so is every event
    assert rita.get("/config").status_code == 200  # other people's logins stay
    assert _login(url, "ana").status_code == 400  # the old password is refused
    fresh = _client(url, "ana", "a brand new password")
    assert fresh.get("/config").status_code == 200 and _whoami(fresh, blocks).status_code == 200


def test_a_role_change_in_another_process_ends_open_logins_and_uploads(app, hashing_embedder):
    url, service, blocks = app
    root, bo = _client(url, "root"), _client(url, "bo")
    assert root.post("/gradio_api/upload", files=UPLOAD).status_code == 200
    other = AnnotatorService.from_settings(Settings(data_dir=service.settings.data_dir, demo=False),
                                           embedder=hashing_embedder)
    try:
        other.accounts.add_user("cy", "admin", "cy password")  # root must not be the last admin
        other.accounts.set_role("root", "reviewer")
        other.accounts.set_role("bo", "annotator")  # not a change: bo's login stays
    finally:
        other.close()
    assert root.post("/gradio_api/upload", files=UPLOAD).status_code == 401  # no login any more
    assert root.get("/config").status_code == 401
    assert bo.get("/config").status_code == 200
    again = _client(url, "root")  # logs in again, now as a reviewer
    r = again.post("/gradio_api/upload", files=UPLOAD)
    assert r.status_code == 403 and "root (reviewer) may not upload files" in r.text


def test_the_admin_tab_s_reset_ends_logins_in_other_processes_too(app):
    """A reset in this process bumps the same version another process of the app checks."""
    url, service, blocks = app
    ana = _client(url, "ana")
    service.accounts.reset_password("ana", "set in the admin tab")
    assert ana.get("/config").status_code == 401


def test_a_forged_forwarded_header_does_not_escape_the_address_lock(accounts):
    accounts.settings.login_address_lock_after = 4
    url, blocks = _launch(accounts)
    try:
        forged = [{"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"},
                  {"Forwarded": "for=203.0.113.3"}, {"X-Real-IP": "203.0.113.4"}]
        for name, headers in zip(("ana", "rita", "bo", "root"), forged, strict=True):
            assert _login(url, name, "summer2026!", **headers).status_code == 400
        assert accounts.accounts.address_throttle.locked_for("127.0.0.1") > 0  # counted where they came from
        r = _login(url, "bo", PASSWORDS["bo"], **{"X-Forwarded-For": "203.0.113.99"})
        assert r.status_code == 400  # the address is locked, whatever the header claims
    finally:
        blocks.close()


def test_forwarded_headers_name_the_client_behind_a_trusted_proxy(accounts):
    accounts.settings.login_address_lock_after = 3
    url, blocks = _launch(accounts, trusted_proxies=["127.0.0.1", "::1"])
    try:
        for name in ("ana", "rita", "bo"):  # the proxy appends the guesser's address it saw
            assert _login(url, name, "summer2026!", **{"X-Forwarded-For": f"10.9.9.{len(name)}, 198.51.100.7"}
                          ).status_code == 400
        throttle = accounts.accounts.address_throttle
        assert throttle.locked_for("198.51.100.7") > 0 and throttle.locked_for("127.0.0.1") == 0
        assert _login(url, "bo", PASSWORDS["bo"], **{"X-Forwarded-For": "198.51.100.7"}).status_code == 400
        # Another client behind the same proxy is not locked out with the guesser.
        assert _login(url, "bo", PASSWORDS["bo"], **{"X-Forwarded-For": "198.51.100.8"}).status_code == 200
    finally:
        blocks.close()


def test_versions_are_cached_for_ttl_s():
    from annotator.ui.sessions import SessionVersions, VersionedTokens, note_login

    class Accounts:
        def __init__(self) -> None:
            self.version, self.lookups = 0, 0

        def session_version(self, _name: str) -> int:
            self.lookups += 1
            return self.version

    class Service:
        accounts = Accounts()

    now = [0.0]
    versions = SessionVersions(Service(), ttl_s=1.0, clock=lambda: now[0])
    tokens = VersionedTokens(versions)
    note_login("ana", 0)
    tokens["t1"] = "ana"
    assert [tokens.get("t1") for _ in range(50)] == ["ana"] * 50
    assert Service.accounts.lookups == 0  # the login's own version serves its first second
    now[0] += 1.5
    assert [tokens.get("t1") for _ in range(50)] == ["ana"] * 50
    assert Service.accounts.lookups == 1  # then one lookup per account and second, however busy the page
    Service.accounts.version = 1  # a reset elsewhere
    assert tokens.get("t1") == "ana"  # within the second: still the cached version
    now[0] += 1.0
    assert tokens.get("t1") is None and "t1" not in tokens  # ended, and forgotten
    note_login("ana", 1)
    tokens["t2"] = "ana"
    assert tokens.get("t2") == "ana"
