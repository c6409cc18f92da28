"""Retries for venue reads (market data and trading): the shared backoff utility, bounded per
call by a budget, plus a pause every read honours after a 429/418."""
from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from domain.backoff import Backoff, Clock, Failure, Jitter, Sleep, retry

from .ccxt_lean import ccxt
from .errors import RateLimited, TransientExchangeError, translate
from .reasons import network_reason
from .venue import Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")


# ccxt is loaded at run time (exchange.ccxt_lean), so its classes are unknown to the checker.
class MalformedResponse(ccxt.NetworkError):  # type: ignore[name-defined]
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
    sleep: Sleep = field(default=asyncio.sleep, compare=False, repr=False)
    clock: Clock = field(default=time.monotonic, compare=False, repr=False)

    @property
    def backoff(self) -> Backoff:
        """Capped 2^n growth with 50-100% jitter: it spreads the retries of many symbols that
        failed together."""
        return Backoff(self.base_s, 2.0, self.cap_s, Jitter.EQUAL, self.rng)

    def delay(self, attempt: int) -> float:
        """Backoff before retry number `attempt` (1-based)."""
        return self.backoff.delay(attempt)


def retry_after_header_s(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds from a Retry-After header (whole seconds, as venues send it), or None."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


class SharedPause:
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


async def _after_pause(pause: SharedPause, policy: RetryPolicy, started: float, what: str
                       ) -> None:
    """Wait out the shared pause, or give up at once when it would overrun the budget."""
    wait = pause.remaining()
    if not wait:
        return
    if policy.clock() - started + wait > policy.budget_s:
        raise TransientExchangeError(
            f"{what}: rate-limit pause of {wait:.1f}s exceeds the cycle budget",
            retry_after_s=wait)
    await policy.sleep(wait)


async def _within_budget(call: Callable[[], Awaitable[T]], policy: RetryPolicy, started: float,
                         what: str) -> T:
    """The call itself, bounded by what is left of the budget (a timeout is retried)."""
    if policy.budget_s == math.inf:
        return await call()
    # ccxt's rate limiter may queue a request for most of a minute: a cycle must not hang on it.
    left = policy.budget_s - (policy.clock() - started)
    try:
        return await asyncio.wait_for(call(), timeout=max(left, 0.001))
    except TimeoutError:
        timeout = ccxt.RequestTimeout(f"{what}: no answer within the cycle budget")
        raise translate(timeout) from timeout


async def translated(call: Callable[[], Awaitable[T]], venue: Venue | None) -> T:
    """The call, its ccxt errors translated once into ours (`raise ... from` the original)."""
    try:
        return await call()
    except ccxt.BaseError as e:
        raise translate(e, venue) from e


async def with_retry(call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str,
                     pause: SharedPause | None = None, venue: Venue | None = None,
                     log_as: str = "market_data") -> T:
    """Run `call` (reads only), retrying transient failures: the one retry path of every venue
    read, market data and trading alike. Each failure is translated once; the caller gets
    TransientExchangeError (RateLimited among them) or PermanentExchangeError, never ccxt's."""
    pause = pause or SharedPause(policy.clock)
    started = policy.clock()
    own_pause = [0.0]  # the end of the pause this call set: its own backoff sleep waits it out

    async def attempt() -> T:
        if pause.until > own_pause[0]:
            await _after_pause(pause, policy, started, what)
        return await _within_budget(lambda: translated(call, venue), policy, started, what)

    def failed(failure: Failure) -> None:
        if failure.hinted or isinstance(failure.error, RateLimited):
            # Slow every caller down, not just this one (a 429/418 is per IP).
            pause.pause(failure.delay_s)
            own_pause[0] = pause.until
        if not failure.final:
            log.warning(f"{log_as}_retry", what=what, attempt=failure.attempt,
                        error=_ccxt_name(failure.error), reason=network_reason(failure.error),
                        delay_s=round(failure.delay_s, 3))

    try:
        return await retry(attempt, backoff=policy.backoff,
                           retry_on=lambda e: isinstance(e, TransientExchangeError),
                           attempts=policy.attempts, budget_s=policy.budget_s,
                           on_failure=failed, sleep=policy.sleep, clock=policy.clock)
    except TransientExchangeError as e:
        log.warning(f"{log_as}_gave_up", what=what, error=_ccxt_name(e),
                    reason=network_reason(e))
        raise


def _ccxt_name(error: BaseException) -> str:
    """The class name of the ccxt error behind one of ours (ours when there is none)."""
    cause = error.__cause__
    return type(cause).__name__ if isinstance(cause, ccxt.BaseError) else type(error).__name__
