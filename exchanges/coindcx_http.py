"""CoinDCX's HTTP: one aiohttp session, paced requests, signed bodies, errors made ours.

Signing (docs, "Authentication"): the body is compact JSON holding `timestamp` in ms (refused
when more than 10 s old); X-AUTH-SIGNATURE is the hex HMAC-SHA256 of exactly those bytes with
the secret, X-AUTH-APIKEY the key. The bytes signed are the bytes sent: the body is serialised
once. An error is an HTTP status with {"code", "message", "status": "error"}; its message tells
why (exchanges/coindcx.py REFUSALS).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .ccxt_lean import ccxt
from .coindcx import AUTH_WORDS, REQUESTS_PER_S, reason_of_message
from .errors import (
    AuthError,
    ExchangeUnavailable,
    RateLimited,
    Rejected,
    TransientExchangeError,
)
from .retry import retry_after_header_s
from .tagging import RequestObserver
from .venue import ErrorKind, Reason, Venue


class Pacer:
    """Spaces request starts `1 / per_s` apart (no lock: one event loop reserves slots in turn).

    One per process (PACER): the data and trading instances share the account's ~16 requests
    a second (docs, FAQ "rate limits": 16/sec, 960/min)."""

    def __init__(self, per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock, self.next = 1.0 / per_s, clock, 0.0

    async def wait(self) -> None:
        now = self.clock()
        slot = max(now, self.next)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


PACER = Pacer(REQUESTS_PER_S)


def date_ms(headers: Mapping[str, str]) -> int | None:
    """The answer's Date header in ms (whole seconds, so never ahead of the venue's clock)."""
    text = headers.get("Date")
    if not text:
        return None
    try:
        return int(parsedate_to_datetime(text).timestamp()) * 1000
    except (TypeError, ValueError):
        return None


def compact(body: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(body, separators=(",", ":")).encode()


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def _message(text: str) -> str:
    """The body's message ('' when the body is no JSON error)."""
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    return str(data.get("message") or data.get("error") or "") if isinstance(data, dict) else ""


def refusal(venue: Venue, status: int, message: str, headers: Mapping[str, str] | None = None
            ) -> ExchangeUnavailable:
    """Our error for an HTTP error answer: the status by the venue's table, the reason by the
    message's words where it says one."""
    text = f"CoinDCX {status}: {message or 'no message'}"
    meaning = venue.error_codes.get(status)
    kind = meaning.kind if meaning else (ErrorKind.TRANSIENT if status >= 500
                                         else ErrorKind.REJECTED)
    if kind is ErrorKind.RATE_LIMITED:
        return RateLimited(text, status, retry_after_header_s(headers))
    if kind is ErrorKind.TRANSIENT:
        return TransientExchangeError(text, status)
    if kind is ErrorKind.AUTH or any(w in message.lower() for w in AUTH_WORDS):
        return AuthError(text, status)
    reason = reason_of_message(message) or (meaning.reason if meaning else Reason.OTHER)
    return Rejected(text, status, reason=reason)


def observed_as(error: BaseException | None) -> BaseException | None:
    """The error as the request observers (metrics) classify venue requests: ccxt's kinds."""
    if error is None or isinstance(error, OSError):
        return error
    if isinstance(error, RateLimited):
        return ccxt.RateLimitExceeded(str(error))
    cause = error.__cause__
    if isinstance(error, TimeoutError) or isinstance(cause, TimeoutError):
        return ccxt.RequestTimeout(str(error))
    if isinstance(error, TransientExchangeError | aiohttp.ClientError):
        return ccxt.NetworkError(str(error))
    return ccxt.ExchangeError(str(error))


@dataclass(frozen=True)
class VenueId:
    """Where a ccxt venue instance holds its name (`exchange.id`): the metrics label by it."""

    id: str


class CoindcxHttp:
    """One session to one CoinDCX host (scheme and host replaceable by `base_url`)."""

    def __init__(self, venue: Venue, base_url: str, *, api_key: str = "", secret: str = "",
                 timeout_s: float = 10.0, pacer: Pacer | None = PACER) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self.venue, self.base = venue, f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self._key, self._secret = api_key, secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._pacer = pacer
        self._session: aiohttp.ClientSession | None = None
        self.observer: RequestObserver | None = None
        self.last_date_ms: int | None = None  # the venue's clock from the last answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """A public GET's JSON."""
        return await self._send("GET", path, params=params)

    async def signed(self, method: str, path: str, fields: Mapping[str, Any] | None = None
                     ) -> Any:
        """A private request: the body with a fresh timestamp, signed as sent."""
        payload = compact({"timestamp": int(time.time() * 1000), **(fields or {})})
        headers = {"Content-Type": "application/json", "X-AUTH-APIKEY": self._key,
                   "X-AUTH-SIGNATURE": sign(self._secret, payload)}
        return await self._send(method, path, data=payload, headers=headers)

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        if self._pacer is not None:
            await self._pacer.wait()
        error: BaseException | None = None
        try:
            async with self._session.request(method, self.base + path, **kwargs) as response:
                text = await response.text()
                self.last_date_ms = date_ms(response.headers) or self.last_date_ms
                if response.status >= 400:
                    raise refusal(self.venue, response.status, _message(text),
                                  response.headers)
                try:
                    return json.loads(text)
                except ValueError:
                    raise TransientExchangeError(f"CoinDCX {path}: the answer is no JSON "
                                                 f"({text[:80]!r})") from None
        except ExchangeUnavailable as e:
            error = e
            raise
        except (aiohttp.ClientError, TimeoutError) as e:
            error = e
            raise TransientExchangeError(f"CoinDCX {method} {path}: "
                                         f"{type(e).__name__}: {e}") from e
        finally:
            if self.observer is not None:
                self.observer(observed_as(error))
