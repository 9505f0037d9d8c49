"""Which address a request comes from, for the per-address login throttle.

A client can put anything in ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``; believing those
headers from everyone lets a guesser name a new address for each try and never meet the
address lock. So they are read only when the direct peer (the socket's address) is one of the
configured ``trusted_proxies`` (IP addresses or CIDR networks); otherwise the peer is the client.

Behind trusted proxies the forwarded chain is walked from the right (the hop our own proxy added)
to the left, past every trusted proxy; the first address that is not a trusted proxy is the
client. Entries to its left were written by the client and are ignored. Plain functions, no
gradio: the UI's middleware calls ``client_address`` for each request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Forwarded headers, most preferred first (header names lower-case, as ASGI gives them).
FORWARDED_HEADERS: tuple[bytes, ...] = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``trusted_proxies`` entries ("10.0.0.1", "10.0.0.0/8", "::1") as networks (a bare address is a
    one-address network). Raises ValueError on an entry that is neither (Settings checks them first)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str) -> Address | None:
    """An IP address from a header value or socket peer: bare, ``v4:port``, ``[v6]`` or ``[v6]:port``;
    IPv4-mapped IPv6 becomes IPv4. None for anything else ("unknown", obfuscated names, junk)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:  # v4:port (an IPv6 address has several colons)
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_trusted(address: str | None, networks: Sequence[Network]) -> bool:
    """Whether ``address`` (a peer's IP, as text) lies in one of ``networks``."""
    addr = _address(address) if address else None
    return addr is not None and any(addr.version == net.version and addr in net for net in networks)


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` values of an RFC 7239 ``Forwarded`` header, in order."""
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, param = pair.strip().partition("=")
            if name.strip().lower() == "for":
                hops.append(param.strip())
    return hops


def forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The client-to-proxy chain of addresses the request's forwarded headers name (the first header
    of ``FORWARDED_HEADERS`` present; repeated headers joined in order); [] without any."""
    values: dict[bytes, list[str]] = {}
    for name, value in headers:
        if name.lower() in FORWARDED_HEADERS:
            values.setdefault(name.lower(), []).append(value.decode("latin-1"))
    for name in FORWARDED_HEADERS:
        if name in values:
            joined = ",".join(values[name])
            if name == b"forwarded":
                return _forwarded_for(joined)
            return [hop.strip() for hop in joined.split(",") if hop.strip()]
    return []


def client_address(peer: str | None, headers: Iterable[tuple[bytes, bytes]], networks: Sequence[Network]) -> str | None:
    """The address a request comes from: the socket ``peer``, unless it is a trusted proxy, then the
    nearest hop of the forwarded chain that is not one (see the module docstring).

    Args:
        peer: the direct peer's IP address (ASGI ``scope["client"][0]``); None when unknown.
        headers: the request's raw headers (ASGI ``scope["headers"]``: lower-case byte names).
        networks: ``parse_networks(settings.trusted_proxies)``; empty trusts no header.
    Returns the address as normalised text (``str(ipaddress.ip_address(…))``), or ``peer`` as given.
    """
    if not networks or not is_trusted(peer, networks):
        return peer
    nearest = str(_address(peer or "") or peer)
    for hop in reversed(forwarded_chain(headers)):
        addr = _address(hop)
        if addr is None:
            # A hop a trusted proxy could not name ("unknown"): the client is that proxy's peer,
            # which it did not tell; the proxy itself is the best known address.
            return nearest
        nearest = str(addr)
        if not is_trusted(nearest, networks):
            return nearest
    return nearest  # every hop is a trusted proxy: the leftmost one is the client
