"""Why a request never got an answer, in words an operator can act on (DNS, refused, TLS...)."""
from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Iterator

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


def network_reason(error: BaseException) -> str:
    """The first cause in the chain that says why the server was not reached, else the error."""
    chain = list(_chain(error))
    where = _where(chain)
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected{where}: {getattr(e, 'verify_message', None) or e}"
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return f"TLS handshake failed{where}: {getattr(e, 'reason', None) or e}"
    for e in chain:
        if isinstance(e, socket.gaierror):
            return f"DNS lookup failed{where}: {e.strerror or e}"
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return f"connection refused{where}"
    for e in chain:
        if isinstance(e, ConnectionResetError):
            return f"connection reset{where}"
    for e in chain:
        if isinstance(e, (TimeoutError, asyncio.TimeoutError, ccxt.RequestTimeout)):
            return f"timed out{where}"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return f"{e.strerror.lower()}{where}"
    inner = chain[-1]
    return f"{type(inner).__name__}: {inner}"[:300]
