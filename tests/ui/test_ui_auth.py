"""Authorization over HTTP on a really launched app (Gradio's login page, cookies, the API routes).

Every backend event the app has is listed from the app itself (``blocks.fns``, cross-checked with
the ``/config`` the page loads) and called by index through ``POST /gradio_api/run/predict`` as an
admin, an annotator and a reviewer, with the inputs' initial values from ``/config``: what
``annotator.ui.auth.POLICY`` does not allow is refused, what it allows gets through. Without a
login every route is refused; wrong passwords are refused and slowed (a recording sleeper stands
in for the wait, so no test waits on the clock).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from conftest import launch_local

from annotator.ui import AnnotatorUI, auth
from annotator.ui.tabs.admin import HIDDEN_TABS

LABELS = ["billing", "bug", "account"]
PASSWORDS = {"root": "root password", "ana": "ana password", "rita": "rita password", "bo": "bo password"}
ROLES = {"root": "admin", "ana": "annotator", "rita": "reviewer", "bo": "annotator"}
REFUSED = "may not do this"


@pytest.fixture
def auth_app(ui_service, monkeypatch):
    """The app in auth mode (accounts with passwords) on a free port: (url, service, ui, blocks, sleeps).
    Session versions are looked up at every request (no cache), so a change applies at once."""
    from annotator.ui import sessions

    monkeypatch.setattr(sessions, "VERSION_TTL_S", 0.0)
    for name, role in ROLES.items():
        ui_service.accounts.add_user(name, role, PASSWORDS[name])
    ui_service.projects.create_project("tickets", LABELS)
    ui_service.imports.import_records("tickets", [{"text": f"ticket number {i} about {LABELS[i % 3]}"} for i in range(12)])
    ui = AnnotatorUI(ui_service, refresh_every=60)
    assert ui.auth_mode, "an account with a password puts the app in auth mode"
    blocks = ui.build()
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    port = launch_local(blocks, show_error=True,
                  ssr_mode=False, auth=auth.login_callable(ui_service, sleep=record),
                  app_kwargs=auth.launch_app_kwargs(ui_service))
    try:
        yield f"http://127.0.0.1:{port}", ui_service, ui, blocks, sleeps
    finally:
        blocks.close()


def _client(url: str, name: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    if name is not None:
        r = client.post("/login", data={"username": name, "password": PASSWORDS[name]})
        assert r.status_code == 200 and r.json() == {"success": True}, r.text
    return client


def _call(client: httpx.Client, fn_index: int, data: list, session: str | None = None) -> httpx.Response:
    return client.post("/gradio_api/run/predict",
                       json={"data": data, "fn_index": fn_index, "session_hash": session or uuid.uuid4().hex[:10]})


def _initial_inputs(config: dict, dependency: dict) -> list:
    values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    return [values.get(i) for i in dependency["inputs"]]


def _refused(r: httpx.Response) -> bool:
    return r.status_code != 200 and REFUSED in r.text


def test_every_event_is_in_the_policy_and_wrapped(auth_app):
    _url, _service, _ui, blocks, _ = auth_app
    missing = auth.unlisted(blocks)
    assert not missing, (f"events without an entry in annotator.ui.auth.POLICY (admin-only until listed): {missing}; "
                         "add each with the roles that may call it")
    unwrapped = [auth.event_key(f) for f in blocks.fns.values()
                 if f.fn is not None and not getattr(f.fn, "__annotator_policy_key__", None)]
    assert unwrapped == []


def test_each_role_is_refused_exactly_what_the_policy_forbids(auth_app):
    url, _service, _ui, blocks, _ = auth_app
    config = _client(url, "root").get("/config").json()
    dependencies = {d["id"]: d for d in config["dependencies"] if d.get("backend_fn")}
    backend = {i: f for i, f in blocks.fns.items() if f.fn is not None}
    assert set(dependencies) == set(backend)  # the page's list of endpoints is the app's
    assert len(backend) > 40
    outcomes: dict[str, dict[str, bool]] = {}
    for name in ("ana", "rita", "root"):
        client = _client(url, name)
        for i, block_fn in backend.items():
            key = auth.event_key(block_fn)
            r = _call(client, i, _initial_inputs(config, dependencies[i]))
            outcomes.setdefault(key, {})[ROLES[name]] = not _refused(r)
            if ROLES[name] in auth.roles_for(key):
                assert not _refused(r), f"{name} ({ROLES[name]}) was refused {key}: {r.text[:300]}"
            else:
                assert _refused(r), f"{name} ({ROLES[name]}) could call {key}: {r.status_code} {r.text[:300]}"
                assert "Traceback" not in r.text
    # The policy as it stands: spot-check what matters most.
    for key in ("export", "run_ai", "save_ai_settings", "create_project", "preview_file", "bulk_label",
                "admin_add_user", "admin_set_role", "admin_reset_password", "admin_users", "similar"):
        assert outcomes[key]["annotator"] is False, key
        assert outcomes[key]["admin"] is True, key
    for key in ("load", "submit_label", "label_0", "skip", "undo", "browse", "whoami"):
        assert outcomes[key] == {"annotator": True, "reviewer": True, "admin": True}, key
    assert outcomes["similar"]["reviewer"] is True and outcomes["export"]["reviewer"] is False
    # The Team tab: agreement and everyone's figures for reviewers and admins; the overlap is an admin's.
    assert outcomes["team_stats"] == {"annotator": False, "reviewer": True, "admin": True}
    assert outcomes["save_overlap"] == {"annotator": False, "reviewer": False, "admin": True}
    assert outcomes["assign_slice"] == {"annotator": False, "reviewer": False, "admin": True}


def test_without_a_login_everything_is_refused(auth_app):
    url, _service, _ui, blocks, _ = auth_app
    client = _client(url)
    assert client.get("/config").status_code == 401
    assert client.get("/gradio_api/info").status_code == 401
    first = next(i for i, f in blocks.fns.items() if f.fn is not None)
    assert _call(client, first, []).status_code == 401
    r = client.post("/gradio_api/queue/join", json={"data": [], "fn_index": first, "session_hash": "x1"})
    assert r.status_code == 401


def test_the_login_not_the_user_box_says_who_answers(auth_app):
    url, service, ui, blocks, _ = auth_app
    ana = _client(url, "ana")
    index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
    # The page sends 'bo' in the Annotator box; the item is served to ana and the answer is hers.
    session = uuid.uuid4().hex[:10]
    r = _call(ana, index["load"], ["tickets", "bo"], session)
    assert r.status_code == 200, r.text
    r = _call(ana, index["label_0"], ["tickets", "bo", None, [], False, False, "", False], session)
    assert r.status_code == 200, r.text
    assert service.queue.progress("tickets").by_user == {"ana": 1}
    # whoami shows the login (read-only) and hides the admin's tabs from an annotator.
    out = _call(ana, index["whoami"], []).json()["data"]
    assert out[0]["value"] == "ana" and out[0]["interactive"] is False
    tabs = ui.admin._role_tabs
    assert {"ai", "export", "new", "admin"} <= set(tabs)
    shown = {name for name, o in zip(tabs, out[2:], strict=True) if o.get("visible")}
    assert shown == set(tabs) - set(HIDDEN_TABS["annotator"]) and "export" not in shown
    assert "#tab-export-button" in out[1] and "display: none" in out[1]  # the tab buttons go too
    root = _call(_client(url, "root"), index["whoami"], []).json()["data"]
    assert root[0]["value"] == "root" and all(o.get("visible") for o in root[2:])
    assert "display: none" not in root[1] and 'href="logout"' in root[1]


def test_an_annotator_browses_only_their_own_answers(auth_app):
    url, service, _ui, blocks, _ = auth_app
    bo_item = service.queue.next_item("tickets", "bo").item_id
    service.queue.submit("tickets", "bo", bo_item, ["bug"])
    ana_item = service.queue.next_item("tickets", "ana").item_id
    service.queue.submit("tickets", "ana", ana_item, ["billing"])
    index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
    browse = ["tickets", "", "", "", "", "", "", "id"]  # project, query, label, status, route, annotator, meta, order

    def answer(name: str, annotator: str = "") -> httpx.Response:
        data = list(browse)
        data[5] = annotator
        client, session = _client(url, name), uuid.uuid4().hex[:10]
        loaded = _call(client, index["load"], ["tickets", name], session)  # fills the filters
        assert loaded.status_code == 200
        if name == "ana":  # her annotator filter offers her own name only
            assert not re.search(r"\bbo\b", loaded.text) and re.search(r"\bana\b", loaded.text)
        return _call(client, index["browse"], data, session)

    def rows(name: str, annotator: str = "") -> list[list]:
        r = answer(name, annotator)
        assert r.status_code == 200, r.text
        return r.json()["data"][0]["data"]

    ana_rows = rows("ana")
    assert [r[1] for r in ana_rows] == [ana_item] and all("bo" not in str(r[5]) for r in ana_rows)
    asked = answer("ana", annotator="bo")  # asking for bo's answers: not a choice on her page, refused
    assert asked.status_code != 200 and "not in the list of choices" in asked.text and "Traceback" not in asked.text
    assert {r[1] for r in rows("rita")} >= {ana_item, bo_item}  # a reviewer sees everyone's
    assert {r[1] for r in rows("root", annotator="bo")} == {bo_item}


def test_only_admins_upload_files(auth_app):
    url, service, _ui, _blocks, _ = auth_app
    upload = {"files": ("tickets.csv", b"text\nmy invoice is wrong\n", "text/csv")}
    for name in ("ana", "rita"):
        r = _client(url, name).post("/gradio_api/upload", files=upload)
        assert r.status_code == 403 and f"{name} ({ROLES[name]}) may not upload files" in r.text, r.text
    assert _client(url).post("/gradio_api/upload", files=upload).status_code == 401  # no login: Gradio's answer
    root = _client(url, "root")
    r = root.post("/gradio_api/upload", files=upload)
    assert r.status_code == 200 and r.json()[0].endswith("tickets.csv"), r.text
    service.accounts.set_role("ana", "admin")  # the role is read at each upload
    assert _client(url, "ana").post("/gradio_api/upload", files=upload).status_code == 200


def test_a_role_change_ends_the_login_and_applies_at_the_next_one(auth_app):
    url, service, _ui, blocks, _ = auth_app
    index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
    ana = _client(url, "ana")
    assert _refused(_call(ana, index["admin_users"], []))
    service.accounts.set_role("ana", "admin")
    assert _call(ana, index["admin_users"], []).status_code == 401  # the login under the old role is over
    r = _call(_client(url, "ana"), index["admin_users"], [])
    assert r.status_code == 200 and "rita" in r.text


def test_wrong_passwords_are_refused_and_slowed_then_locked(auth_app):
    url, service, _ui, _blocks, sleeps = auth_app
    client = _client(url)
    for _ in range(3):
        r = client.post("/login", data={"username": "ana", "password": "not her password"})
        assert r.status_code == 400 and "Incorrect credentials" in r.text
    assert sleeps == [1.0, 2.0, 4.0]  # each failure in a row waits twice as long
    assert client.post("/login", data={"username": "nobody", "password": "x" * 10}).status_code == 400
    assert sleeps[-1] == 8.0  # an unknown name is slowed too: the address's 4th failure in a row
    for _ in range(2):
        client.post("/login", data={"username": "ana", "password": "still wrong"})
    assert service.accounts.login_throttle.locked_for("ana") > 0  # five in a row lock the name
    r = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    assert r.status_code == 400  # locked: even the right password is refused for now
    assert client.post("/login", data={"username": "rita", "password": PASSWORDS["rita"]}).status_code == 200


def test_an_admin_manages_accounts_in_the_admin_tab(auth_app):
    url, service, _ui, blocks, _ = auth_app
    index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
    root, session = _client(url, "root"), uuid.uuid4().hex[:10]
    assert _call(root, index["admin_users"], [], session).status_code == 200  # fills the user picker
    r = _call(root, index["admin_add_user"], ["cy", "annotator", "cy password"], session)
    assert r.status_code == 200 and "Added cy (annotator)" in r.text, r.text
    assert "cy password" not in r.text and "argon2" not in r.text  # neither the password nor its hash
    PASSWORDS["cy"] = "cy password"
    try:
        cy = _client(url, "cy")  # the new account logs in
        r = _call(root, index["admin_set_role"], ["cy", "reviewer"], session)
        assert r.status_code == 200 and "cy is now reviewer" in r.text
        assert cy.get("/config").status_code == 401  # a role change ends the open login...
        cy = _client(url, "cy")  # ...and the next one has the new role
        assert cy.get("/config").status_code == 200
        r = _call(root, index["admin_reset_password"], ["cy", "a new password"], session)
        assert r.status_code == 200 and "New password set for cy; 1 open session(s) logged out" in r.text
        assert cy.get("/config").status_code == 401  # the reset ended cy's open session
        assert httpx.post(f"{url}/login", data={"username": "cy", "password": "cy password"}).status_code == 400
        PASSWORDS["cy"] = "a new password"
        _client(url, "cy")
    finally:
        PASSWORDS.pop("cy", None)
    assert service.accounts.get_user("cy").role == "reviewer"
    # The last admin cannot demote themselves (nobody could manage accounts then): an error box.
    r = _call(root, index["admin_set_role"], ["root", "annotator"], session)
    assert r.status_code == 200 and "last admin" in r.text and "ann-error" in r.text
    assert service.accounts.get_user("root").role == "admin"


def test_single_user_mode_needs_no_login_and_the_local_user_is_admin(ui_service):
    ui_service.accounts.add_user("ana", "annotator", None)  # an account without a password asks no login
    ui = AnnotatorUI(ui_service)
    blocks = ui.build()
    assert ui.auth_mode is False
    assert not any(getattr(f.fn, "__annotator_policy_key__", None) for f in blocks.fns.values())
    port = launch_local(blocks, ssr_mode=False)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        assert client.get("/config").status_code == 200
        index = {auth.event_key(f): i for i, f in blocks.fns.items() if f.fn is not None}
        r = _call(client, index["admin_users"], [])
        assert r.status_code == 200 and "ana" in r.text and "Single-user mode" not in r.text
        r = _call(client, index["whoami"], [])
        assert r.status_code == 200 and r.json()["data"][1] == ""  # no tab is hidden
    finally:
        blocks.close()


#: Routes Gradio serves without a login, and why that is harmless: the login and logout pages and
#: their static files, and plumbing that reads or changes nothing of the project's data.
PUBLIC_ROUTES = {
    "/", "/login", "/login/", "/logout", "/favicon.ico", "/manifest.json", "/robots.txt", "/theme.css",
    "/openapi.json",  # FastAPI's route list (no data; Gradio's own /gradio_api/openapi.json needs a login)
    "/gradio_api/theme.css", "/gradio_api/app_id", "/gradio_api/app_id/", "/gradio_api/startup-events",
    "/gradio_api/token", "/gradio_api/token/", "/gradio_api/user", "/gradio_api/user/",  # who am I: nobody
    "/gradio_api/runs", "/gradio_api/runs/",  # the run-history page; the history lives in the browser
    "/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/reset/",  # stop an event by its secret id; no-op
    "/gradio_api/heartbeat/{session_hash}",  # keeps a session's SSE alive (streams; not called here)
}
#: Prefixes of routes that are public the same way (static files, media streams of an event id,
#: vibe-editing endpoints that answer 403 unless the app runs in Gradio's vibe mode).
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon", "/gradio_api/stream/", "/gradio_api/vibe",
                   "/gradio_api/undo-vibe-edit", "/gradio_api/custom_component/", "/monitoring/{key}")


def test_every_http_route_needs_a_login_or_is_known_public(auth_app):
    url, _service, _ui, _blocks, _ = auth_app
    client = _client(url)
    paths = client.get("/openapi.json").json()["paths"]
    assert len(paths) > 40
    open_routes = []
    for path, ops in sorted(paths.items()):
        if path in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES):
            continue
        concrete = path
        for name in ("api_name", "event_id", "path", "path_or_url", "url_path", "session_hash"):
            concrete = concrete.replace("{" + name + "}", "x").replace("{" + name + ":path}", "x")
        for method in ops:
            r = client.request(method.upper(), concrete, json={"data": [], "fn_index": 0, "session_hash": "x"}
                               if method == "post" else None, timeout=10)
            if r.status_code != 401:
                open_routes.append(f"{method.upper()} {path} → {r.status_code}")
    assert open_routes == [], "routes that answer without a login; protect them or add them to PUBLIC_ROUTES"
    assert "gradio_api/upload" in " ".join(paths) and "/gradio_api/queue/join" in paths  # they were checked


def test_guessing_across_names_from_one_address_locks_the_address(auth_app):
    from annotator.auth.throttle import LoginThrottle

    url, service, _ui, _blocks, sleeps = auth_app
    service.accounts.address_throttle = LoginThrottle(base_delay_s=1.0, lock_after=4, lock_s=60.0)
    client = _client(url)
    for name in ("ana", "rita", "bo", "root"):  # one guess per name: no name is locked...
        assert client.post("/login", data={"username": name, "password": "summer2026!"}).status_code == 400
    assert sleeps == [1.0, 2.0, 4.0, 8.0]  # ...but the address's delay doubles
    assert service.accounts.login_throttle.locked_for("ana") == 0
    assert service.accounts.address_throttle.locked_for("127.0.0.1") > 0
    r = client.post("/login", data={"username": "bo", "password": PASSWORDS["bo"]})
    assert r.status_code == 400  # the address is locked: even a right password waits
