"""Why a request never got an answer, in words an operator can act on (DNS, refused, TLS...)."""
from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Callable, Iterator

from .ccxt_lean import ccxt

_CHAIN_LIMIT = 20  # a cycle in __cause__/__context__ must not hang the log line


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then its causes and contexts, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_LIMIT:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _where(chain: list[BaseException]) -> str:
    """' to host:port' from aiohttp's connector error, when there is one."""
    for e in chain:
        host, port = getattr(e, "host", None), getattr(e, "port", None)
        if isinstance(host, str) and port:
            return f" ({host}:{port})"
    return ""


def _is(*kinds: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda e: isinstance(e, kinds)


def _refused(e: BaseException) -> bool:
    return isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED


# Tried in order, each over the whole chain, so the most specific wins: a certificate error is
# also an SSLError, and most of these are OSErrors, which the catch-all after the table names.
# Each row: matches, what to say, the attribute holding the detail (or no detail).
_REASONS: tuple[tuple[Callable[[BaseException], bool], str, str | None], ...] = (
    (_is(ssl.SSLCertVerificationError), "TLS certificate rejected", "verify_message"),
    (_is(ssl.SSLError), "TLS handshake failed", "reason"),
    (_is(socket.gaierror), "DNS lookup failed", "strerror"),
    (_refused, "connection refused", None),
    (_is(ConnectionResetError), "connection reset", None),
    (_is(TimeoutError, asyncio.TimeoutError, ccxt.RequestTimeout), "timed out", None),
)


def network_reason(error: BaseException) -> str:
    """The first cause in the chain that says why the server was not reached, else the error."""
    chain = list(_chain(error))
    where = _where(chain)
    for matches, what, detail in _REASONS:
        for e in chain:
            if matches(e):
                if detail is None:
                    return f"{what}{where}"
                return f"{what}{where}: {getattr(e, detail, None) or e}"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return f"{e.strerror.lower()}{where}"
    inner = chain[-1]
    return f"{type(inner).__name__}: {inner}"[:300]
