"""Which host names may reach the app: a guard against DNS rebinding and cross-site requests.

In single-user mode every caller is the local admin, so the app must only answer the person at
the machine. Binding to 127.0.0.1 is not enough on its own: a web page on ``evil.example`` can
re-point its name to 127.0.0.1 (DNS rebinding) and is then same-origin with the app, and any page
can send a form-like POST to ``http://127.0.0.1:7860``. ``HostCheckMiddleware`` closes both:

1. the ``Host`` header must name the app: an IP address (a rebinding attack needs a name it
   controls, so a literal address is safe), ``localhost`` or ``*.localhost`` (browsers resolve
   those to loopback themselves), the configured ``host``, the machine's own names when it binds
   to all interfaces, or a name in ``allowed_hosts`` (``.example.org`` also allows subdomains;
   ``*`` turns the check off);
2. every state-changing request (any method but GET / HEAD / OPTIONS, and every websocket) that
   carries an ``Origin`` must come from the page the app served: the Origin's host and port equal
   the ``Host`` header's, or its host is one of the configured ``allowed_hosts`` (a reverse
   proxy's public name). Programs (``gradio_client``, curl) send no Origin and pass.

Refusals answer 403 with a message that says which name came and how to allow it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("annotator.ui.hosts")

#: Methods that only read: they are answered for an allowed Host whatever the Origin.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Bind addresses that mean "every interface": the machine's own names are then accepted too.
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})


def split_host_port(value: str) -> tuple[str, str]:
    """``"Example.org:7860"`` → ``("example.org", "7860")``; ``"[::1]:80"`` → ``("::1", "80")``.

    The name is lower-cased without a trailing dot; the port is ``""`` when absent."""
    value = value.strip()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:  # a bare name, or a bare IPv6 address
        name, port = value, ""
    return name.lower().rstrip("."), port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback_name(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


@dataclass(frozen=True)
class HostPolicy:
    """The names the app answers to.

    Attributes:
        configured: the names from ``allowed_hosts`` (lower case; ``.example.org`` matches its
            subdomains and itself; ``*`` matches everything). An Origin with one of these hosts is
            accepted even when it differs from the ``Host`` header (a reverse proxy).
        own: names that are the app's without configuration (the bind host, the machine's names).
    """

    configured: tuple[str, ...] = ()
    own: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, allowed_hosts: Iterable[str], bind_host: str) -> HostPolicy:
        """The policy for an app bound to ``bind_host`` with the ``allowed_hosts`` setting."""
        configured = tuple(split_host_port(name)[0] if name.strip() != "*" else "*" for name in allowed_hosts)
        own: list[str] = []
        bind = split_host_port(bind_host)[0]
        if bind in ALL_INTERFACES:
            # Reachable from the network: the names this machine calls itself are the app's too.
            for name in (socket.gethostname(), socket.getfqdn()):
                if name:
                    own.append(name.lower().rstrip("."))
        elif not _is_ip(bind):
            own.append(bind)
        return cls(configured=configured, own=tuple(dict.fromkeys(own)))

    @property
    def open(self) -> bool:
        """True when ``*`` was configured: every name is accepted (the check is off)."""
        return "*" in self.configured

    def _configured_match(self, name: str) -> bool:
        for entry in self.configured:
            if entry == "*" or name == entry or (entry.startswith(".") and (name.endswith(entry)
                                                                            or name == entry[1:])):
                return True
        return False

    def allows_host(self, name: str) -> bool:
        """Whether a ``Host`` header naming ``name`` (lower case, no port) is answered."""
        return (_is_ip(name) or _is_loopback_name(name) or name in self.own
                or self._configured_match(name))

    def allows_origin(self, origin: str, host_header: str) -> bool:
        """Whether a state-changing request from page ``origin`` to ``host_header`` is accepted."""
        if self.open:
            return True
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, files), or garbage
        origin_name = parts.hostname.lower().rstrip(".")
        origin_port = str(parts.port or "")
        host_name, host_port = split_host_port(host_header)
        default_port = "443" if parts.scheme == "https" else "80"
        same_page = origin_name == host_name and (origin_port or default_port) == (host_port or default_port)
        if same_page and self.allows_host(origin_name):
            return True
        return self._configured_match(origin_name)

    def describe(self) -> str:
        """The accepted names in words, for the start-up line and refusals."""
        if self.open:
            return "any host name (allowed_hosts = *)"
        names = ["localhost", "IP addresses", *self.own, *self.configured]
        return ", ".join(dict.fromkeys(names))


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HostCheckMiddleware:
    """ASGI middleware that refuses requests for foreign host names and cross-site writes (403).

    Args:
        app: the ASGI app it wraps (Gradio's FastAPI app).
        policy: the accepted names.
    """

    def __init__(self, app: Any, policy: HostPolicy):
        self.app, self.policy = app, policy

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket") or self.policy.open:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        log.warning("refused %s %s: %s", scope.get("method", "WEBSOCKET"), scope.get("path"), refusal)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        from starlette.responses import PlainTextResponse

        await PlainTextResponse(refusal, status_code=403)(scope, receive, send)

    def refusal(self, scope: dict) -> str | None:
        """Why the request in ``scope`` is refused, or None when it may go on."""
        host_header = _header(scope, b"host") or ""
        name, _ = split_host_port(host_header)
        if not self.policy.allows_host(name):
            return (f"This annotator does not answer to the host name {name!r}. It answers to "
                    f"{self.policy.describe()}. If {name!r} is this server's public name, start it with "
                    f"ANNOTATOR_ALLOWED_HOSTS={name} (or allowed_hosts in annotator.toml).")
        method = scope.get("method", "GET")
        origin = _header(scope, b"origin")
        writes = scope["type"] == "websocket" or method not in SAFE_METHODS
        if writes and origin is not None and not self.policy.allows_origin(origin, host_header):
            return (f"This annotator does not accept {method} requests from pages of {origin!r} (it serves "
                    f"{host_header!r}). Open the app at its own address, or add the page's host name to "
                    f"ANNOTATOR_ALLOWED_HOSTS when a reverse proxy serves it under that name.")
        return None


def host_check_middleware(allowed_hosts: Iterable[str], bind_host: str) -> Any:
    """A starlette ``Middleware`` entry for ``app_kwargs["middleware"]``."""
    from starlette.middleware import Middleware

    return Middleware(HostCheckMiddleware, policy=HostPolicy.from_settings(allowed_hosts, bind_host))
