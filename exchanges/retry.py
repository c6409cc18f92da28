"""Retries for market-data reads: the shared backoff utility, bounded per call by a budget,
plus a pause every read honours after a 429/418."""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

import structlog

from domain.backoff import Backoff, Clock, Failure, Jitter, Sleep, retry

from .reasons import network_reason
from .ccxt_lean import ccxt
from .errors import PermanentExchangeError, RateLimited, TransientExchangeError, translate
from .venue import Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")
RETRIED = (ccxt.NetworkError, ccxt.InvalidNonce)  # the server's or the network's trouble
RATE_LIMITED = (ccxt.DDoSProtection, ccxt.RateLimitExceeded)  # 418 / 429


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


def retry_after_s(headers: dict | None) -> float | None:
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
    # ccxt's rate limiter may queue a request for most of a minute: a cycle must not hang on it.
    left = policy.budget_s - (policy.clock() - started)
    try:
        return await asyncio.wait_for(call(), timeout=max(left, 0.001))
    except asyncio.TimeoutError:
        raise ccxt.RequestTimeout(f"{what}: no answer within the cycle budget") from None


def retried(error: Exception, venue: Venue | None) -> bool:
    """True for a read worth retrying: the network's or the server's trouble, by ccxt's class
    or by the venue's own code (a venue's 'internal error' may reach us as a plain
    ExchangeError)."""
    if isinstance(error, RETRIED):
        return True
    return isinstance(error, ccxt.BaseError) and isinstance(translate(error, venue),
                                                            TransientExchangeError)


def _give_up(error: Exception, what: str, venue: Venue | None) -> Exception:
    """Our exchange error for a ccxt error that is not (or no longer) retried."""
    if not retried(error, venue):
        return translate(error, venue)
    log.warning("market_data_gave_up", what=what, error=type(error).__name__,
                reason=network_reason(error))
    translated = translate(error, venue)
    if not isinstance(translated, TransientExchangeError):  # pragma: no cover - NetworkError
        return PermanentExchangeError(str(translated))
    return translated


async def with_retry(call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str,
                     pause: SharedPause | None = None, venue: Venue | None = None) -> T:
    """Run `call`, retrying transient ccxt errors; raise Transient/PermanentExchangeError."""
    pause = pause or SharedPause(policy.clock)
    started = policy.clock()

    async def attempt() -> T:
        await _after_pause(pause, policy, started, what)
        return await _within_budget(call, policy, started, what)

    def failed(failure: Failure) -> None:
        if failure.hinted or isinstance(failure.error, RATE_LIMITED) or isinstance(
                translate(failure.error, venue), RateLimited):
            # Slow every caller down, not just this one (a 429/418 is per IP).
            pause.pause(failure.delay_s)
        if not failure.final:
            log.warning("market_data_retry", what=what, attempt=failure.attempt,
                        error=type(failure.error).__name__, reason=network_reason(failure.error),
                        delay_s=round(failure.delay_s, 3))

    try:
        return await retry(attempt, backoff=policy.backoff,
                           retry_on=lambda e: retried(e, venue), attempts=policy.attempts,
                           budget_s=policy.budget_s, on_failure=failed, sleep=policy.sleep,
                           clock=policy.clock)
    except ccxt.BaseError as e:
        raise _give_up(e, what, venue) from e
