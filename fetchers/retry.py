"""Retries for market-data reads: capped exponential backoff with jitter, bounded per call."""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

import structlog

from exchange import PermanentExchangeError, TransientExchangeError, translate
from exchange.ccxt_lean import ccxt

log = structlog.get_logger(__name__)
T = TypeVar("T")


class MalformedResponse(ccxt.NetworkError):
    """A 200 answer whose body is not what the endpoint returns (truncated or garbled JSON)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long one read may keep trying: attempts, backoff shape and a wall-clock budget."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 8.0
    # Wall-clock limit of one read, waits included: past it the caller skips this cycle and
    # catches up on the next one (a Retry-After longer than what is left gives up at once).
    budget_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """Backoff before retry number `attempt` (1-based): capped 2^n growth, 50-100% jitter."""
        full = min(self.cap_s, self.base_s * (2 ** (attempt - 1)))
        # Jitter spreads the retries of many symbols that failed together.
        return full * (0.5 + 0.5 * self.rng.random())


def retry_after_s(headers: dict | None) -> float | None:
    """Seconds from a Retry-After header (Binance sends whole seconds), or None."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


class Backoff:
    """Shared pause after a 429/418: every call waits (or gives up) until it has passed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` from now (the longest pause wins)."""
        self.until = max(self.until, self.clock() + seconds)

    def remaining(self) -> float:
        """Seconds left of the current pause (0 when none)."""
        return max(0.0, self.until - self.clock())


async def with_retry(call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str,
                     backoff: Backoff | None = None) -> T:
    """Run `call`, retrying transient ccxt errors; raise Transient/PermanentExchangeError."""
    backoff = backoff or Backoff()
    start = time.monotonic()
    last: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        wait = backoff.remaining()
        if wait:
            if time.monotonic() - start + wait > policy.budget_s:
                raise TransientExchangeError(
                    f"{what}: rate-limit pause of {wait:.1f}s exceeds the cycle budget",
                    retry_after_s=wait)
            await asyncio.sleep(wait)
        try:
            # The budget bounds the call itself too: ccxt's rate limiter may queue a request
            # for most of a minute, and a cycle must not hang on it.
            left = policy.budget_s - (time.monotonic() - start)
            try:
                return await asyncio.wait_for(call(), timeout=max(left, 0.001))
            except asyncio.TimeoutError:
                raise ccxt.RequestTimeout(f"{what}: no answer within the cycle budget") from None
        except (ccxt.NetworkError, ccxt.InvalidNonce) as e:
            last = e
            hinted = getattr(e, "retry_after_s", None)
            if hinted is not None:
                backoff.pause(hinted)
            elif isinstance(e, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
                # A 429/418 without Retry-After: still slow every caller down, not just this one.
                backoff.pause(policy.delay(attempt))
            delay = max(policy.delay(attempt), backoff.remaining())
            elapsed = time.monotonic() - start
            log.warning("market_data_retry", what=what, attempt=attempt,
                        error=type(e).__name__, delay_s=round(delay, 3))
            if attempt == policy.attempts or elapsed + delay > policy.budget_s:
                break
            await asyncio.sleep(delay)
        except ccxt.BaseError as e:
            raise translate(e) from e
    assert last is not None
    log.warning("market_data_gave_up", what=what, error=type(last).__name__)
    error = translate(last)
    if not isinstance(error, TransientExchangeError):  # pragma: no cover - NetworkError family
        raise PermanentExchangeError(str(error)) from last
    raise error from last
