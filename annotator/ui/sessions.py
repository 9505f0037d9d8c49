"""Logins that end when their account changes: session versions checked on every request.

Gradio keeps its logins in memory, ``server_app.tokens`` (cookie token → login name), and looks
the token up for every request (the page, each event, uploads, files). ``VersionedTokens``
stands in for that dict: it also holds the account's session version at login
(``service.accounts.session_version``: a number in the database that a password reset or a role
change bumps, from the UI, the CLI or any other process), and a lookup whose version is no longer
the account's current one drops the token and answers "no login". Gradio then answers 401 and the
page shows the login form again; ``protect`` and the upload check see no login and refuse.

Cost per request: the current version of one account (one indexed lookup), kept for
``VERSION_TTL_S`` seconds, so a change from another process applies within about a second, and a
busy page costs at most one lookup per account per second.

``SessionVersionMiddleware`` (in ``auth.launch_app_kwargs``) puts the dict in place on the Gradio
app before each request is routed; ``login_callable`` notes the version at login (read before the
password is checked, so a reset that lands in between still ends the new login).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from annotator.core.errors import AnnotatorError

log = logging.getLogger("annotator.ui.sessions")

#: Seconds a looked-up session version is reused (per account and process).
VERSION_TTL_S = 1.0

#: (login name, session version read before the password check) of the login being answered; the
#: login route sets the token right after the auth callable returns, in the same task.
LOGIN_VERSION: contextvars.ContextVar[tuple[str, int | None] | None] = contextvars.ContextVar(
    "annotator_login_version", default=None)


def note_login(name: str, version: int | None) -> None:
    """Remember ``name``'s session version for the token Gradio is about to issue (call it from the
    auth callable, after a right password)."""
    LOGIN_VERSION.set((name, version))


class SessionVersions:
    """Current session versions per account, read through ``service.accounts.session_version`` and
    cached for ``ttl_s`` seconds (``clock``: monotonic seconds; tests pass a fake or ttl_s=0)."""

    def __init__(self, service: Any, ttl_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.service, self.clock = service, clock
        self.ttl_s = VERSION_TTL_S if ttl_s is None else ttl_s
        self._cache: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()

    def current(self, name: str) -> int | None:
        """The account's session version now (None: the account is gone), at most ``ttl_s`` old."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and now - hit[1] < self.ttl_s:
            return hit[0]
        version = self.service.accounts.session_version(name)
        with self._lock:
            self._cache[name] = (version, now)
        return version

    def learn(self, name: str, version: int | None) -> None:
        """A version of ``name`` read elsewhere just now (at a login): cached when it is newer than the
        cached one (versions only grow), so the new login is not held to an older cache entry."""
        if version is None:
            return
        now = self.clock()
        with self._lock:
            hit = self._cache.get(name)
            if hit is None or hit[0] is None or version >= hit[0]:
                self._cache[name] = (version, now)


class VersionedTokens(dict[str, str]):
    """Gradio's ``tokens`` dict (token → login name) whose lookups refuse outdated logins.

    ``get`` (what Gradio calls for each request) answers ``default`` for a token whose session
    version is not the account's current one, and forgets that token. Item access, iteration and
    deletion stay a plain dict's (Gradio's logout walks them)."""

    def __init__(self, versions: SessionVersions, existing: dict[str, str] | None = None):
        super().__init__()
        self.versions = versions
        self._issued: dict[str, int | None] = {}
        # Logins made before this dict was in place carry no version: they log in again.
        if existing:
            log.info("ending %d login(s) made before session versions were checked", len(existing))

    def __setitem__(self, token: str, name: str) -> None:
        noted = LOGIN_VERSION.get()
        if noted is not None and noted[0] == name:
            version = noted[1]
            self.versions.learn(name, version)
        else:  # a token set outside login_callable: the version now is the best we know
            version = self.versions.current(name)
        self._issued[token] = version
        super().__setitem__(token, name)

    def get(self, token: Any, default: Any = None) -> Any:  # noqa: ANN401 - dict.get's own signature
        name = super().get(token)
        if name is None:
            return default
        issued = self._issued.get(token)
        try:
            current = self.versions.current(name)
        except AnnotatorError as e:
            # The database is not answering: no request gets through on this login now, but the
            # login is kept, so it works again once the database is back.
            log.warning("cannot check the login of %r: %s", name, e.what)
            return default
        # Versions only grow: a cached value older than the login's own is stale, not a change.
        if issued is None or current is None or issued < current:
            log.info("ending a login of %r: its session version %s is not the account's %s", name, issued, current)
            self.pop(token, None)
            return default
        return name

    def __delitem__(self, token: str) -> None:
        self._issued.pop(token, None)
        super().__delitem__(token)

    def pop(self, token: Any, *default: Any) -> Any:  # noqa: ANN401 - dict.pop's own signature
        self._issued.pop(token, None)
        return super().pop(token, *default)


def install(app: Any, versions: SessionVersions) -> VersionedTokens | None:
    """Put a ``VersionedTokens`` in place of the Gradio ``app``'s ``tokens`` (once; Gradio makes a
    fresh plain dict at each launch). Returns it; None when ``app`` has no tokens (not Gradio's)."""
    tokens = getattr(app, "tokens", None)
    if isinstance(tokens, VersionedTokens):
        return tokens
    if not isinstance(tokens, dict):
        return None
    app.tokens = VersionedTokens(versions, tokens)
    return app.tokens


class SessionVersionMiddleware:
    """ASGI middleware (auth mode) that makes sure the Gradio app's ``tokens`` is a
    ``VersionedTokens`` before the request is routed (Starlette puts the app in ``scope["app"]``)."""

    def __init__(self, app: Any, versions: SessionVersions):
        self.app, self.versions = app, versions

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            install(scope.get("app"), self.versions)
        await self.app(scope, receive, send)
