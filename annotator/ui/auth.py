"""Who may do what in the app: one policy dict, applied to every event of the Blocks.

In auth mode (``service.accounts.auth_required()``: an account has a password, or ``auth_required`` is
set) the app is launched with Gradio's login page (``launch(auth=login_callable(service))``), and
``protect`` wraps the function of **every** event of the Blocks, including those without an
``api_name`` (the page calls them by index, and so can anyone with a login cookie). Before the
handler runs, the wrapper

1. reads the session's user from the request Gradio set for this call (``gr.Request.username``,
   from the login cookie), looks their role up through the service (a role change applies at
   the next click), and refuses with a ``gr.Error`` (a message box in the page, an error in the
   API answer; never a traceback) when ``POLICY`` does not allow the role;
2. replaces the values of identity inputs with the login: the "Annotator" box becomes the login
   name whatever the page sent, and an annotator's browse filter becomes their own name, so an
   annotator can only list their own answers.

Events are keyed by ``api_name``, or by the handler's qualified name for events without one
(Gradio names those "false", "false_1" …). A key missing from ``POLICY`` is admin-only, and
``tests/ui/test_ui_auth.py`` fails listing it, so a new tab's events get a deliberate entry.

Gradio's file upload route (``POST /gradio_api/upload``) runs no event, so ``UploadRoleMiddleware``
(from ``launch_app_kwargs(service)``) checks it: only ``UPLOAD_ROLES`` (admins: the New project tab
is the one file box) may upload; others get 403.

A login ends when its account's session version changes (a password reset or a role change, from
any face or process): ``annotator.ui.sessions`` checks it for every request, so Gradio itself
sees no login then, and so do the two checks above.

In single-user mode (no account has a password) there is no login and no check: the person at the
machine is the local admin, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import html
import inspect
import logging
import os
import re
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from annotator.auth.clients import Network, client_address, parse_networks
from annotator.core.errors import (
    AnnotatorError,
    LoginRefusedError,
    NotFoundError,
    PermissionDeniedError,
)
from annotator.ui.sessions import SessionVersionMiddleware, SessionVersions, note_login

log = logging.getLogger("annotator.ui.auth")

ADMIN = "admin"
ANNOTATOR = "annotator"
REVIEWER = "reviewer"
ALL: tuple[str, ...] = (ADMIN, ANNOTATOR, REVIEWER)
STAFF: tuple[str, ...] = (ADMIN, REVIEWER)
ADMIN_ONLY: tuple[str, ...] = (ADMIN,)

#: Event key (api_name, or the handler's qualified name for an event without one, e.g.
#: "LabelTab.on_tick") → roles allowed to call it.
#: ``label_3``-style keys (numbered buttons, Gradio's ``_1`` suffix for a repeated api_name) fall
#: back to their stem ("label"). Not listed → admin only (and a failing test).
POLICY: dict[str, tuple[str, ...]] = {
    # Opening the page and labelling one's own queue: everyone.
    "load": ALL, "whoami": ALL, "select_project": ALL, "AnnotatorUI._on_user": ALL, "LabelTab.on_tick": ALL,
    "label": ALL, "submit_label": ALL, "skip": ALL, "undo": ALL, "flag": ALL,
    "LabelTab.on_rerouted": ALL,  # serves the next item (chained after run_ai, which only admins start)
    # Browse: everyone, but an annotator's annotator filter is forced to their own name.
    "browse": ALL, "browse_prev": ALL, "browse_next": ALL, "BrowseTab.on_first": ALL,
    "BrowseTab.on_row_select": ALL,
    "similar": STAFF,  # lists other people's labels of the neighbours
    "bulk_label": ADMIN_ONLY,  # labels many items at once, past the queue and overlap
    # AI settings and runs, projects, exports, accounts: admins (reviewers may look at the routes).
    "AITab.on_open": STAFF, "save_ai_settings": ADMIN_ONLY, "run_ai": ADMIN_ONLY,
    "preview_file": ADMIN_ONLY, "create_project": ADMIN_ONLY, "export": ADMIN_ONLY,
    "admin_users": ADMIN_ONLY, "admin_add_user": ADMIN_ONLY, "admin_set_role": ADMIN_ONLY,
    "admin_reset_password": ADMIN_ONLY, "AdminTab._on_refresh": ADMIN_ONLY,
    # Review: the queue shows everyone's answers; deciding is a reviewer's job.
    "review_queue": STAFF, "ReviewTab.on_refresh": STAFF, "review_choice": STAFF, "review_correct": STAFF,
    "review_send_back": STAFF, "review_skip": STAFF,
    "span_review_queue": STAFF, "SpanReviewSection.on_refresh": STAFF, "span_review_take": STAFF,
    "span_review_settle": STAFF,
    # Team tab: agreement and everyone's figures (others' answers, in aggregate) for reviewers and
    # admins; changing the overlap is a project setting, so an admin's.
    "team_stats": STAFF, "TeamTab.on_refresh": STAFF, "save_overlap": ADMIN_ONLY, "assign_slice": ADMIN_ONLY,
    # Post-training tab: labelling rating / preference / correction items; the LLM
    # judge routes verdicts like run_ai, so it is an admin's.
    "task_load": (ADMIN, ANNOTATOR), "TasksTab.on_load": (ADMIN, ANNOTATOR), "task_submit": (ADMIN, ANNOTATOR),
    "task_skip": (ADMIN, ANNOTATOR), "task_judge": ADMIN_ONLY,
    # The span page (Label tab of a span project): labelling one's own queue, as the Label page.
    "spans_accept": ALL, "spans_skip": ALL, "spans_undo": ALL,
    # Dashboard: figures show everyone's work and the AI's quality; finding
    # suspect labels fills the review queue; both for reviewers and admins.
    "dashboard": STAFF, "DashboardTab.on_refresh": STAFF, "find_suspects": STAFF, "dashboard_report": STAFF,
    # Jobs: reviewers may watch jobs and model versions; starting or cancelling
    # one (fine-tuning, AI runs) is an admin's.
    "jobs": STAFF, "JobsTab.on_refresh": STAFF, "JobsTab.on_tick": STAFF, "submit_job": ADMIN_ONLY,
    "cancel_job": ADMIN_ONLY,
    # The program endpoints (annotator.ui.program_api): labelling one's own queue for everyone;
    # writing a model's suggestions and reading the whole export for admins, as in the page.
    "list_projects": ALL, "next_item": ALL, "submit_answer": ALL, "add_suggestions": ADMIN_ONLY,
    "export_data": ADMIN_ONLY,
}

#: What each role may do, in words (README's roles table says the same).
ROLE_SUMMARY: dict[str, str] = {
    ADMIN: "everything: projects, AI settings and runs, overlap, bulk labels, exports, accounts",
    ANNOTATOR: "label their own queue; browse their own answers only",
    REVIEWER: "label; browse everyone's answers; similar items; look at the AI routes; review; agreement and "
              "per-person figures (Team tab)",
}


@dataclass(frozen=True)
class Who:
    """The person behind one event: login name and role."""

    name: str
    role: str


def roles_for(key: str, policy: dict[str, tuple[str, ...]] = POLICY) -> tuple[str, ...]:
    """The roles allowed to call event ``key``: its entry, else its stem's (``label_3`` → ``label``),
    else admin only."""
    if key in policy:
        return policy[key]
    stem = re.sub(r"_\d+$", "", key)
    return policy.get(stem, ADMIN_ONLY)


def event_key(block_fn: Any) -> str:
    """A Gradio BlockFunction's policy key: its api_name, or its handler's qualified name when it has
    none (Gradio calls those "false", "false_1" …, which says nothing)."""
    if getattr(block_fn, "api_visibility", "public") == "private" or not isinstance(block_fn.api_name, str):
        return str(getattr(block_fn.fn, "__qualname__", None) or block_fn.name)
    return str(block_fn.api_name)


def event_keys(blocks: gr.Blocks) -> list[str]:
    """The policy keys of every backend event of ``blocks`` (each once, in wiring order)."""
    return list(dict.fromkeys(event_key(fn) for fn in blocks.fns.values() if fn.fn is not None))


def unlisted(blocks: gr.Blocks, policy: dict[str, tuple[str, ...]] = POLICY) -> list[str]:
    """Event keys of ``blocks`` with no entry in ``policy`` (they are admin-only until listed)."""
    return [k for k in event_keys(blocks) if k not in policy and re.sub(r"_\d+$", "", k) not in policy]


def current_user(service: Any, request: gr.Request | None) -> Who:
    """The logged-in person of ``request`` with their role from the store.

    Raises:
        PermissionDeniedError: no login on the request, or the account is gone.
    """
    name = getattr(request, "username", None) if request is not None else None
    if not name:
        raise PermissionDeniedError("Not logged in.", expected="a request with a login session",
                                    got="no login cookie", fix="open the app's page and log in")
    try:
        user = service.accounts.get_user(name)
    except NotFoundError as e:
        raise PermissionDeniedError(f"The account {name!r} no longer exists.", got=repr(name),
                                    fix="ask an admin to create it again, then log in again") from e
    return Who(name=user.name, role=str(user.role))


def request_who(service: Any) -> Who:
    """The logged-in person of the event being handled (from the request Gradio set for this call).

    Raises:
        PermissionDeniedError: no login on the request, or the account is gone.
    """
    return current_user(service, _request())


def own_answers_of(service: Any, auth_mode: bool) -> str | None:
    """Whose answers alone this event may show: in auth mode, an annotator's own login (they never
    see other people's answers or names: progress by label and person, the browse table and its
    annotator filter); None for reviewers and admins, and in single-user mode.

    Raises:
        PermissionDeniedError: auth mode, and the event carries no valid login.
    """
    if not auth_mode:
        return None
    who = request_who(service)
    return who.name if who.role == ANNOTATOR else None


def check(who: Who, key: str, policy: dict[str, tuple[str, ...]] = POLICY) -> None:
    """Raise PermissionDeniedError unless ``who``'s role may call event ``key``."""
    allowed = roles_for(key, policy)
    if who.role not in allowed:
        raise PermissionDeniedError(
            f"{who.name} ({who.role}) may not do this ({key}).", expected=f"role {' or '.join(allowed)}",
            got=who.role, fix="ask an admin to change your role in the Admin tab",
        )


#: An identity input: given the person and the value the page sent, the value the handler gets.
Rewrite = Callable[[Who, Any], Any]


def login_name(who: Who, _value: Any) -> str:
    """The 'Annotator' box: always the login name, whatever the page sent."""
    return who.name


def own_answers_for_annotators(who: Who, value: Any) -> Any:
    """The browse annotator filter: an annotator sees their own answers only."""
    return who.name if who.role == ANNOTATOR else value


def _request() -> gr.Request | None:
    # Gradio sets the request of the running event in this context variable before it calls the
    # handler (gradio.utils.get_function_with_locals); the handlers' own signatures stay unchanged.
    from gradio.context import LocalContext

    return LocalContext.request.get(None)


def _is_special(param: inspect.Parameter, hints: dict[str, Any]) -> bool:
    """Parameters Gradio fills itself (Progress, Request, event data), not from an input component."""
    if isinstance(param.default, gr.Progress):
        return True
    hint = hints.get(param.name)
    options = typing.get_args(hint) or (hint,)
    return any(isinstance(h, type) and issubclass(h, (gr.Request, gr.EventData)) for h in options)


def _input_positions(fn: Callable[..., Any], n_inputs: int) -> list[int]:
    """Argument positions of the ``n_inputs`` component values in a call of ``fn`` (Gradio inserts
    Progress/Request arguments at their own parameters' positions)."""
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        hints = typing.get_type_hints(fn)
    except (TypeError, ValueError, NameError):
        return list(range(n_inputs))
    positions = [i for i, p in enumerate(params) if not _is_special(p, hints)]
    positions += list(range(len(params), len(params) + n_inputs - len(positions)))  # *args handlers
    return positions[:n_inputs]


def _guarded(fn: Callable[..., Any], key: str, inputs: list[Any], service: Any,
             rewrites: dict[Any, Rewrite], policy: dict[str, tuple[str, ...]]) -> Callable[..., Any]:
    positions = _input_positions(fn, len(inputs))
    swaps = [(positions[k], rewrites[c]) for k, c in enumerate(inputs) if c in rewrites and k < len(positions)]

    def admit(args: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            who = current_user(service, _request())
            check(who, key, policy)
        except AnnotatorError as e:
            log.info("refused %s: %s", key, e.what)
            # gr.Error renders its message as HTML in the page: escape the names in it.
            raise gr.Error(html.escape(e.message), title="Not allowed", print_exception=False) from e
        if not swaps:
            return args
        out = list(args)
        for pos, rewrite in swaps:
            if pos < len(out):
                out[pos] = rewrite(who, out[pos])
        return tuple(out)

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await fn(*admit(args), **kwargs)
        wrapper: Callable[..., Any] = async_wrapper
    elif inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            yield from fn(*admit(args), **kwargs)
        wrapper = gen_wrapper
    else:
        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*admit(args), **kwargs)
        wrapper = sync_wrapper
    wrapper.__annotator_policy_key__ = key  # type: ignore[attr-defined]
    return wrapper


def protect(blocks: gr.Blocks, service: Any, rewrites: dict[Any, Rewrite] | None = None,
            policy: dict[str, tuple[str, ...]] = POLICY) -> list[str]:
    """Wrap every backend event of ``blocks`` with the login/role check (call it after all events are
    wired, before launch). Returns the keys wrapped. ``rewrites``: identity inputs (component →
    Rewrite), e.g. ``{ui.user_box: login_name}``."""
    rewrites = rewrites or {}
    keys = []
    for block_fn in blocks.fns.values():
        if block_fn.fn is None or getattr(block_fn.fn, "__annotator_policy_key__", None):
            continue
        key = event_key(block_fn)
        block_fn.fn = _guarded(block_fn.fn, key, list(block_fn.inputs), service, rewrites, policy)
        keys.append(key)
    missing = unlisted(blocks, policy)
    if missing:
        log.warning("events with no entry in annotator.ui.auth.POLICY (admin only): %s", ", ".join(missing))
    return keys


#: The client address of the HTTP request being served (set by ClientAddressMiddleware).
CLIENT_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("annotator_client_address", default=None)


class ClientAddressMiddleware:
    """ASGI middleware that keeps the client's address of each request in ``CLIENT_ADDRESS``:
    Gradio hands the login check only name and password, and the throttle also counts per address.
    The address is the socket's peer; forwarded headers count only from ``trusted`` proxies
    (``annotator.auth.clients``). Pass it with ``blocks.launch(app_kwargs=launch_app_kwargs())``."""

    def __init__(self, app: Any, trusted: tuple[Network, ...] = ()):
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        client = scope.get("client") if scope.get("type") == "http" else None
        peer = client[0] if client else None
        address = client_address(peer, scope.get("headers") or [], self.trusted) if peer else None
        token = CLIENT_ADDRESS.set(address)
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


#: Roles that may upload files through Gradio's upload route (only the New project tab's file box,
#: an admin's, takes files; an upload stores the file on the server before any event runs).
UPLOAD_ROLES: tuple[str, ...] = ADMIN_ONLY


def cookie_login(scope: dict) -> str | None:
    """The login name of the session cookie of an HTTP request (Gradio's ``access-token-<id>``
    cookie, looked up in the Gradio app's ``tokens``); None without a valid one."""
    from starlette.requests import HTTPConnection

    app = scope.get("app")  # Starlette puts the application in the scope before its middleware
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not isinstance(tokens, dict) or cookie_id is None:
        return None
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token) if token else None


class UploadRoleMiddleware:
    """ASGI middleware (auth mode) that refuses file uploads (``POST …/upload``) with 403 unless the
    session's login has a role in ``roles``. Gradio's own check on that route only asks for a login.
    Requests without a login go on to Gradio, which answers 401."""

    def __init__(self, app: Any, service: Any, roles: tuple[str, ...] = UPLOAD_ROLES):
        self.app, self.service, self.roles = app, service, roles

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if (scope.get("type") == "http" and scope.get("method") == "POST"
                and str(scope.get("path", "")).rstrip("/").endswith("/upload")):
            name = cookie_login(scope)
            if name is not None:
                try:
                    who = await asyncio.to_thread(current_user, self.service, _Login(name))
                    role = who.role
                except AnnotatorError:
                    role = "none"
                if role not in self.roles:
                    from starlette.responses import JSONResponse

                    log.info("refused an upload by %s (%s)", name, role)
                    refusal = PermissionDeniedError(
                        f"{name} ({role}) may not upload files.", expected=f"role {' or '.join(self.roles)}",
                        got=role, fix="ask an admin to create the project from your file")
                    await JSONResponse({"detail": refusal.message}, status_code=403)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class _Login:
    """A stand-in request with just the login name (what ``current_user`` reads)."""

    username: str


def distrust_server_proxy_headers() -> None:
    """Stop uvicorn (Gradio's server) from rewriting the client address from ``X-Forwarded-For``.

    By default uvicorn believes that header from 127.0.0.1 and ::1 and overwrites the socket's peer
    with it before any middleware of the app runs, so a local caller could name any address and
    escape the per-address login lock. ``ClientAddressMiddleware`` applies ``trusted_proxies``
    itself, so uvicorn must trust nobody. Gradio does not pass uvicorn's ``forwarded_allow_ips``,
    which then comes from this environment variable, read when ``launch`` builds the server."""
    os.environ["FORWARDED_ALLOW_IPS"] = ""


def launch_app_kwargs(service: Any = None, trusted_proxies: list[str] | None = None) -> dict[str, Any]:
    """``app_kwargs`` for ``blocks.launch`` in auth mode (call it before ``launch``): the client-address
    middleware (forwarded headers believed from ``trusted_proxies``, else from
    ``service.settings.trusted_proxies``) and, with ``service``, the session-version check
    (``annotator.ui.sessions``) and the upload role check (``UploadRoleMiddleware``)."""
    from starlette.middleware import Middleware

    if trusted_proxies is None:
        trusted_proxies = list(getattr(getattr(service, "settings", None), "trusted_proxies", None) or [])
    distrust_server_proxy_headers()
    middleware = [Middleware(ClientAddressMiddleware, trusted=parse_networks(trusted_proxies))]
    if service is not None:
        middleware.insert(0, Middleware(SessionVersionMiddleware, versions=SessionVersions(service)))
        middleware.append(Middleware(UploadRoleMiddleware, service=service))
    return {"middleware": middleware}


def login_callable(service: Any, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
                   ) -> Callable[[str, str], Awaitable[bool]]:
    """The ``auth`` callable for ``blocks.launch``: True for a right password. A refused login
    waits the throttle's delay before it answers (``await sleep``: the wait holds no thread and no
    event loop), and the argon2 check runs in a worker thread. Failures count per name and, with
    ``launch_app_kwargs()``'s middleware, per client address. A right password notes the account's
    session version for the login Gradio then issues (``annotator.ui.sessions``)."""

    def login(username: str, password: str, address: str | None) -> int | None:
        # The version is read before the password is checked: a reset committed in between bumps
        # it past this value, so the login it lets in ends at its first request.
        version = service.accounts.session_version(username)
        service.accounts.login(username, password, address)
        return version

    async def check_login(username: str, password: str) -> bool:
        try:
            version = await asyncio.to_thread(login, username, password, CLIENT_ADDRESS.get())
        except LoginRefusedError as e:
            log.warning("login refused for %r (waiting %.1f s%s)", username, e.delay_s,
                        f", locked {e.locked_s:.0f} s" if e.locked_s else "")
            await sleep(e.delay_s)
            return False
        except AnnotatorError as e:
            log.warning("login refused for %r: %s", username, e.what)
            await sleep(service.accounts.login_throttle.base_delay_s)
            return False
        note_login(username, version)
        return True

    return check_login


AUTH_MESSAGE = ("Log in with your annotator account. No password yet, or forgot it? "
                "An admin sets one: python -m annotator user reset-password NAME")


def describe(policy: dict[str, tuple[str, ...]] = POLICY) -> Iterable[tuple[str, str]]:
    """(event key, allowed roles) rows, e.g. for documentation."""
    return ((k, ", ".join(v)) for k, v in policy.items())
