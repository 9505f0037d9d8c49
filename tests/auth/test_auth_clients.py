"""Which address a login comes from: forwarded headers only from trusted proxies."""

from __future__ import annotations

import pytest

from annotator.auth.clients import client_address, forwarded_chain, is_trusted, parse_networks
from annotator.core.config import Settings

LOCAL = parse_networks(["127.0.0.1", "::1"])


def h(**headers: str) -> list[tuple[bytes, bytes]]:
    return [(name.replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say():
    forged = h(x_forwarded_for="203.0.113.7", forwarded="for=203.0.113.8", x_real_ip="203.0.113.9")
    assert client_address("127.0.0.1", forged, ()) == "127.0.0.1"
    assert client_address("198.51.100.4", forged, LOCAL) == "198.51.100.4"  # the peer is no trusted proxy


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client():
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    assert client_address("127.0.0.1", h(x_forwarded_for="1.2.3.4, 203.0.113.7"), LOCAL) == "203.0.113.7"
    chain = parse_networks(["127.0.0.1", "10.0.0.0/8"])  # two proxies: an edge one in 10/8, then a local one
    assert client_address("127.0.0.1", h(x_forwarded_for="1.2.3.4, 203.0.113.7, 10.1.2.3"), chain) == "203.0.113.7"
    assert client_address("127.0.0.1", h(x_forwarded_for="10.1.2.3"), chain) == "10.1.2.3"  # all trusted: leftmost
    assert client_address("127.0.0.1", h(forwarded='for=1.2.3.4, for="[2001:db8::7]:4711";proto=https'),
                          LOCAL) == "2001:db8::7"
    assert client_address("127.0.0.1", h(x_real_ip="203.0.113.9"), LOCAL) == "203.0.113.9"
    assert client_address("127.0.0.1", [], LOCAL) == "127.0.0.1"  # no header: the proxy itself
    assert client_address("127.0.0.1", h(x_forwarded_for="unknown"), LOCAL) == "127.0.0.1"  # no usable hop
    assert client_address("::ffff:127.0.0.1", h(x_forwarded_for="203.0.113.7:5555"), LOCAL) == "203.0.113.7"


def test_forwarded_chain_prefers_x_forwarded_for_and_joins_repeated_headers():
    headers = [(b"x-real-ip", b"9.9.9.9"), (b"x-forwarded-for", b"1.1.1.1"), (b"x-forwarded-for", b"2.2.2.2")]
    assert forwarded_chain(headers) == ["1.1.1.1", "2.2.2.2"]
    assert forwarded_chain(h(forwarded="for=1.1.1.1;by=x, for=2.2.2.2")) == ["1.1.1.1", "2.2.2.2"]
    assert is_trusted("10.9.8.7", parse_networks(["10.0.0.0/8"])) and not is_trusted("junk", LOCAL)


def test_the_setting_takes_addresses_and_networks_and_refuses_names():
    assert Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxies == ["10.0.0.0/8", "::1"]
    assert Settings().trusted_proxies == []
    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        Settings(trusted_proxies="proxy.example")
