"""Connections to the API, admitted as they are accepted: a total and a per-address cap, a deadline
for the first request's headers, and one summary log line per interval instead of one per event.

Counted in the protocol factory, before aiohttp parses a byte: a client that never finishes its
headers never reaches a middleware, yet holds a file descriptor. The cap leaves descriptors to
the exchange and Telegram clients: RLIMIT_NOFILE minus a reserve, at most MAX_CONNECTIONS.
"""
from __future__ import annotations

import asyncio
import json
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import structlog
from aiohttp.http_exceptions import HttpProcessingError

log = structlog.get_logger(__name__)
FD_RESERVE = 512        # descriptors left to the exchanges, Telegram, the store and the logs
FD_TARGET = 8192        # the soft limit is raised towards this, never above the hard limit
MAX_CONNECTIONS = 512   # however many descriptors there are: each costs memory and a parser
MIN_CONNECTIONS = 16
PER_ADDRESS = 64        # one address never takes them all (a browser opens about six)
HEADER_TIMEOUT_S = 5.0
SUMMARY_EVERY_S = 60.0
SHOWN_ADDRESSES = 5     # the busiest addresses named in a summary
TRACKED_ADDRESSES = 10_000  # addresses counted apart per interval; the rest count as "others"
_BODY = json.dumps({"error": "busy, try again"}).encode()
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Retry-After: 5\r\nConnection: close\r\nContent-Length: "
        + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY)


def fd_limit() -> int:
    """The process's soft limit on open files (RLIM_INFINITY as a large number)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def raise_fd_limit(target: int = FD_TARGET) -> int:
    """Raise the soft open-files limit towards `target` within the hard limit; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(hard, target)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            log.warning("fd_limit_not_raised", soft=soft, hard=hard, error=str(e))
    return fd_limit()


def connection_cap(soft: int | None = None) -> int:
    """Connections the API may hold: the open-files limit minus FD_RESERVE, within bounds."""
    soft = fd_limit() if soft is None else soft
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, soft - FD_RESERVE))


def peer_of(transport: asyncio.BaseTransport) -> str:
    """The connecting address (without its port)."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, (tuple, list)) and peer else "unknown"


class Tally:
    """What the API turned away, logged as one summary line per interval."""

    def __init__(self, every_s: float = SUMMARY_EVERY_S) -> None:
        self.every_s = every_s
        self.counts: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()
        self._details: dict[str, str] = {}
        self._since = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, what: str, peer: str, detail: str = "") -> None:
        """Count one event; the summary follows within `every_s`."""
        if not self.counts:
            self._since = time.monotonic()
        self.counts[what] += 1
        if peer not in self._addresses and len(self._addresses) >= TRACKED_ADDRESSES:
            peer = "others"
        self._addresses[peer] += 1
        if detail:
            self._details[what] = detail[:200]
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # off the loop: written at the next flush
                return
            self._timer = loop.call_later(self.every_s, self.flush)

    def flush(self) -> None:
        """Log the summary of what was counted (nothing when nothing was)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.counts:
            return
        busiest = ", ".join(f"{a} ({n})" for a, n in self._addresses.most_common(SHOWN_ADDRESSES))
        log.warning("api_turned_away", over_s=round(time.monotonic() - self._since, 1),
                    addresses=busiest, address_count=len(self._addresses),
                    **dict(self.counts), **{f"last_{k}": v for k, v in self._details.items()})
        self.counts.clear()
        self._addresses.clear()
        self._details.clear()


class _ClientErrors(logging.LoggerAdapter):
    """aiohttp's request-handler logger: malformed requests (the client's fault) are counted for
    the summary instead of logged each with a traceback; everything else goes through."""

    def __init__(self, tally: Tally) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})
        self.tally = tally

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            peer = str(args[0]) if args else "unknown"
            self.tally.add("bad_requests", peer, type(error).__name__)
            return
        super().log(level, msg, *args, **kwargs)


def http_logger(tally: Tally) -> logging.LoggerAdapter:
    """The logger to give aiohttp's request handler (its `logger` argument)."""
    return _ClientErrors(tally)


class ConnectionGuard:
    """Admits, counts and times the connections of one server."""

    def __init__(self, limit: int, per_address: int = PER_ADDRESS,
                 header_timeout_s: float = HEADER_TIMEOUT_S,
                 tally: Tally | None = None) -> None:
        self.limit, self.per_address, self.header_timeout_s = limit, per_address, header_timeout_s
        self.tally = tally or Tally()
        self.open = 0
        self._by_address: Counter[str] = Counter()
        self._deadlines: dict[asyncio.BaseTransport, asyncio.TimerHandle] = {}

    def protocol_factory(self, make: Callable[[], asyncio.Protocol]
                         ) -> Callable[[], asyncio.Protocol]:
        """A factory for create_server: `make`'s protocol, for admitted connections only."""
        return lambda: _Guarded(self, make)

    def admit(self, transport: asyncio.BaseTransport) -> str | None:
        """The peer's address when the connection may stay, else None (counted as refused)."""
        peer = peer_of(transport)
        if self.open >= self.limit or self._by_address[peer] >= self.per_address:
            self.tally.add("connections_refused", peer)
            return None
        self.open += 1
        self._by_address[peer] += 1
        self._deadlines[transport] = asyncio.get_running_loop().call_later(
            self.header_timeout_s, self._too_slow, transport, peer)
        return peer

    def request_seen(self, transport: asyncio.BaseTransport | None) -> None:
        """The connection's first request has arrived: its header deadline is over."""
        handle = self._deadlines.pop(transport, None) if transport is not None else None
        if handle is not None:
            handle.cancel()

    def release(self, transport: asyncio.BaseTransport, peer: str) -> None:
        """An admitted connection has closed."""
        self.request_seen(transport)
        self.open -= 1
        self._by_address[peer] -= 1
        if self._by_address[peer] <= 0:
            del self._by_address[peer]

    def _too_slow(self, transport: asyncio.BaseTransport, peer: str) -> None:
        self._deadlines.pop(transport, None)
        self.tally.add("slow_headers_closed", peer)
        cast(asyncio.Transport, transport).abort()


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol behind the guard: made only once the connection is admitted."""

    def __init__(self, guard: ConnectionGuard, make: Callable[[], asyncio.Protocol]) -> None:
        self._guard, self._make = guard, make
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._peer = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = self._guard.admit(transport)
        if peer is None:
            stream = cast(asyncio.Transport, transport)
            stream.write(BUSY)  # fits the socket's empty send buffer: close() frees it at once
            stream.close()
            return
        self._transport, self._peer = transport, peer
        self._inner = self._make()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None or self._transport is None:
            return
        self._guard.release(self._transport, self._peer)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()
