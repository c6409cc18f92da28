"""Retries and waits for every package: capped exponential delays with optional jitter, a
Retry-After hint that overrides them, stop conditions, and an injectable clock and sleep.

Why our own module and not tenacity: what we need is small and exact, and tenacity's general
machinery bends around it rather than fitting it.
- A Retry-After must be waited exactly, neither shortened by jitter nor stretched by backoff;
  tenacity has no notion of a hint carried by the error, so it would take a custom `wait` that
  re-reads the exception from the retry state: about as much code as the loop below.
- "Retry until the daemon stops" needs the sleep itself to end early on an asyncio.Event, and
  a stop to be told apart from giving up; tenacity checks its stop conditions only between
  sleeps, so it would take an event-racing custom sleep plus a stop condition reading the
  same event, and a shutdown still surfaces as an ordinary RetryError.
- A budget that refuses a wait which would overrun it (instead of sleeping and then noticing)
  and a fake clock for both the sleep and the budget are a few lines here.
- It would be one more pinned dependency for about 150 lines of stdlib code, in a project that
  pins every runtime dependency and asks each to earn its place.
This module imports nothing of ours, so every package may use it without breaking layering.
"""
from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Jitter(enum.Enum):
    """How a computed delay is spread, so that callers that failed together do not retry
    together."""

    NONE = "none"                  # exactly the capped exponential delay
    FULL = "full"                  # uniform in [0, delay]
    EQUAL = "equal"                # uniform in [delay / 2, delay]
    DECORRELATED = "decorrelated"  # uniform in [base, 3 x previous delay], capped


@dataclass(frozen=True)
class Backoff:
    """Capped exponential delays: base x factor^(n-1) seconds before retry n, at most cap."""

    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    jitter: Jitter = Jitter.NONE
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < 0 or self.factor < 1:
            raise ValueError("backoff needs base_s >= 0, cap_s >= 0 and factor >= 1")

    def ceiling(self, attempt: int) -> float:
        """The delay after failed attempt `attempt` (1-based) before any jitter."""
        try:
            grown = self.base_s * self.factor ** max(attempt - 1, 0)
        except OverflowError:  # thousands of failures: long past the cap
            grown = float("inf")
        return min(self.cap_s, grown)

    def delay(self, attempt: int, previous: float | None = None) -> float:
        """The (jittered) delay after failed attempt `attempt`; `previous` feeds decorrelated."""
        ceiling = self.ceiling(attempt)
        if self.jitter is Jitter.FULL:
            return ceiling * self.rng.random()
        if self.jitter is Jitter.EQUAL:
            return ceiling * (0.5 + 0.5 * self.rng.random())
        if self.jitter is Jitter.DECORRELATED:
            upper = max(self.base_s, 3 * (previous if previous is not None else self.base_s))
            return min(self.cap_s, self.rng.uniform(self.base_s, upper))
        return ceiling


@dataclass(frozen=True)
class Failure:
    """One failed attempt as the retry loop saw it; `final` when no retry follows."""

    attempt: int
    error: Exception
    delay_s: float
    elapsed_s: float
    hinted: bool  # delay_s is the error's own Retry-After
    final: bool


class Stopped(Exception):
    """The stop event was set while retrying; the last error is the __cause__."""


def retry_after_s(error: BaseException) -> float | None:
    """The default hint: an error's `retry_after_s` attribute (seconds), when it has one."""
    value = getattr(error, "retry_after_s", None)
    return None if value is None else max(0.0, float(value))


async def sleep_unless(seconds: float, *events: asyncio.Event, sleep: Sleep = asyncio.sleep
                       ) -> bool:
    """Wait `seconds`, or less when one of `events` is set: True when an event ended it."""
    if any(e.is_set() for e in events):
        return True
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(sleep(seconds))]
    waiters += [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
    return any(e.is_set() for e in events)


async def retry(call: Callable[[], Awaitable[T]], *, backoff: Backoff,
                retry_on: Callable[[Exception], bool], attempts: int | None = None,
                budget_s: float | None = None, deadline: float | None = None,
                stop: asyncio.Event | None = None,
                hint: Callable[[Exception], float | None] = retry_after_s,
                on_failure: Callable[[Failure], None] | None = None,
                sleep: Sleep = asyncio.sleep, clock: Clock = time.monotonic) -> T:
    """Await `call()` until it succeeds; retry the errors `retry_on` accepts, after a delay.

    The delay is the error's hint (Retry-After) when it has one, else the backoff's. It gives
    up, re-raising the last error, after `attempts` tries or when the next wait would end past
    `budget_s` from the start or past `deadline` (on `clock`). A set `stop` ends it at once
    with Stopped. Errors `retry_on` refuses propagate unchanged; nothing is retried on
    cancellation.
    """
    start = clock()
    limit = min(start + budget_s if budget_s is not None else float("inf"),
                deadline if deadline is not None else float("inf"))
    attempt, previous = 0, None
    last: Exception | None = None
    while True:
        attempt += 1
        try:
            return await call()
        except Exception as error:
            last = error  # `error` is unbound once the except block ends
            if not retry_on(error):
                raise
            hinted = hint(error)
            delay = hinted if hinted is not None else backoff.delay(attempt, previous)
            previous = delay
            now = clock()
            final = ((attempts is not None and attempt >= attempts) or now + delay > limit
                     or (stop is not None and stop.is_set()))
            if on_failure is not None:
                on_failure(Failure(attempt, error, delay, now - start, hinted is not None, final))
            if stop is not None and stop.is_set():
                raise Stopped(f"stopped after attempt {attempt}") from error
            if final:
                raise
        if stop is None:
            await sleep(delay)
        elif await sleep_unless(delay, stop, sleep=sleep):
            raise Stopped(f"stopped while waiting to retry attempt {attempt + 1}") from last
