"""The host[:port] grammar of a Host header or a configured public name (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass

HOST_PORT = re.compile(r"\[([0-9a-f:.]+)\](?::([0-9]{1,5}))?|([^:\[\]]+)(?::([0-9]{1,5}))?")


@dataclass(frozen=True)
class HostPort:
    """A host (lower case; an IPv6 address without its brackets) and its port, if given."""

    host: str
    port: int | None
    bracketed: bool  # written as [IPv6]


def split_host_port(text: str) -> HostPort | None:
    """'Example.com:8443' -> HostPort('example.com', 8443, False); None if malformed."""
    m = HOST_PORT.fullmatch(text.strip().lower())
    if not m:
        return None
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return HostPort(host, int(port) if port else None, bool(m.group(1)))
