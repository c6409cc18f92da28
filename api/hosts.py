"""Which Host headers the API answers, and from which peers it believes X-Forwarded-Proto.

A web page on another site can make a browser send it requests by name; with DNS rebinding that
name resolves to this server, loopback included. The name stays in the Host header, so only the
server's own address, localhost on a loopback listener and the configured public names pass.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

from domain.netloc import split_host_port

DEFAULT_PORTS = (80, 443)  # a Host without a port: the scheme's default, behind a proxy often 443
LOOPBACK_NAMES = frozenset({"localhost"})


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if isinstance(ip, ipaddress.IPv6Address) else ip


def _name(text: str) -> str:
    """A host as compared: lower case, no trailing dot, an IP address in its short form."""
    ip = _ip(text)
    return str(ip) if ip is not None else text.lower().rstrip(".")


def split_host(text: str) -> tuple[str, int | None] | None:
    """(host, port or None) of a Host header or an API_PUBLIC_NAME entry; None if malformed."""
    parsed = split_host_port(text)
    return None if parsed is None else (_name(parsed.host), parsed.port)


def _port_ok(wanted: int | None, given: int | None) -> bool:
    return wanted is None or given == wanted or (given is None and wanted in DEFAULT_PORTS)


class Hosts:
    """The Host headers answered: the connection's own address and port, localhost names when
    that address is loopback, and the public names (host, or host:port)."""

    def __init__(self, public_names: Iterable[str] = ()) -> None:
        self.public = [p for p in (split_host(n) for n in public_names) if p is not None]

    def allows(self, header: str | None, local: object) -> bool:
        """True when `header` names this server; `local` is the socket's (address, port)."""
        if header is None:
            return True  # HTTP/1.0 without Host: never a browser, so never DNS rebinding
        given = split_host(header)
        if given is None:
            return False
        name, port = given
        if any(name == p and _port_ok(p_port, port) for p, p_port in self.public):
            return True
        if not isinstance(local, (tuple, list)) or len(local) < 2:
            return False
        address, local_port = _ip(str(local[0])), int(local[1])
        if address is None or not _port_ok(local_port, port):
            return False
        if name == str(address):
            return True
        return address.is_loopback and (name in LOOPBACK_NAMES or bool(
            (ip := _ip(name)) and ip.is_loopback))


def forwarded_https(request: web.Request, trusted: Iterable[str]) -> bool:
    """True when a trusted reverse proxy says the client came over HTTPS."""
    peer = _ip(request.remote or "")
    if peer is None or str(peer) not in {_name(t) for t in trusted}:
        return False
    proto = request.headers.get("X-Forwarded-Proto", "")
    return proto.split(",")[0].strip().lower() == "https"
