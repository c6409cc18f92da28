"""The daemon's waits: start-up retries for the exchange as long as it takes (the watchdog fed,
a stop ending them at once), the watchdog's own loop, and the state DB guard."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from domain.backoff import Backoff, Failure, Sleep, Stopped, retry, sleep_unless
from exchanges.reasons import network_reason
from store import Store

from .sdnotify import SystemdNotifier
from .trading_start import transient

log = structlog.get_logger(__name__)
T = TypeVar("T")
DATA_RETRY_MAX_S = 60.0
# 1 s, 2 s, 4 s ... then every minute.
STARTUP_BACKOFF = Backoff(base_s=1.0, factor=2.0, cap_s=DATA_RETRY_MAX_S)


class NoMarketData(Exception):
    """A catch-up round fetched nothing because the exchange was unreachable (the reason)."""


class StartupWaits:
    """The daemon's start-up retries, bound to its systemd notifier, stop event and sleep."""

    def __init__(self, systemd: SystemdNotifier, stop: asyncio.Event, sleep: Sleep) -> None:
        self.systemd, self.stop, self.sleep = systemd, stop, sleep

    async def retry_forever(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Call fn until it succeeds (transient failures) or the daemon is asked to stop."""

        def on_failure(failure: Failure) -> None:
            log.warning("retrying", what=what, error=str(failure.error),
                        reason=network_reason(failure.error), in_s=failure.delay_s)

        return await self.until_stopped(what, fn, transient, on_failure)

    async def until_stopped(self, what: str, fn: Callable[[], Awaitable[T]],
                            retry_on: Callable[[Exception], bool],
                            on_failure: Callable[[Failure], None]) -> T:
        """Retry fn with the start-up backoff, feeding the watchdog while it waits; a stop
        cancels the start-up at once."""

        def failed(failure: Failure) -> None:
            self.systemd.watchdog()  # a start-up waiting for hours is not a hung daemon
            on_failure(failure)

        try:
            return await retry(fn, backoff=STARTUP_BACKOFF, retry_on=retry_on, stop=self.stop,
                               on_failure=failed, sleep=self.sleep)
        except Stopped:
            raise asyncio.CancelledError(f"stopped while waiting for {what}") from None


async def feed_watchdog(systemd: SystemdNotifier, stop: asyncio.Event, sleep: Sleep) -> None:
    """Feed systemd's watchdog three times per its interval until `stop` is set."""
    interval = (systemd.watchdog_s or 30.0) / 3
    while not stop.is_set():
        systemd.watchdog()
        await sleep_unless(interval, stop, sleep=sleep)


async def guard_state_db(store: Store, interval_s: float, stop: asyncio.Event,
                         sleep: Sleep) -> bool:
    """Check every `interval_s` that the state DB file is still the one opened: True (after
    logging why) once it was deleted or replaced, False when `stop` ended the watch. The daemon
    would otherwise keep recording into a file nobody can open again."""
    while not await sleep_unless(interval_s, stop, sleep=sleep):
        problem = store.replaced()
        if problem is not None:
            log.error("state_db_vanished", problem=problem,
                      consequence="stopping; the next start begins with an empty state DB "
                                  "(detectors warm up again, recent alerts may repeat)")
            return True
    return False
