"""The daemon's scheduler: one job per timeframe after each candle close, and reconciliation.

Whose clock: a candle closes on the venue's clock, and the daemon already asks the venue
which candles have closed (`server_time_ms`). On a real venue that clock is the host's
(within the venue's offset), so the jobs fire on the host clock, as APScheduler's triggers
compute them. A replay venue (exchanges/replay_clock.py) runs history's clock `speed` times
faster, so its data instance carries that clock (`venue_clock`), and each timeframe's trigger
is then wrapped in VenueTimeTrigger: the same trigger computes the next close in venue time,
which is mapped to the host time at which the venue's clock shows it. The scheduler itself,
its misfire grace, coalescing and max_instances, stay on the host clock, so nothing changes
for a real venue (no clock: no wrapper). Reconciliation compares the daemon's records with
what the trading venue holds, which changes in host time: it stays every RECONCILE_EVERY_S
host seconds. Once the replay has no more history, a trigger has no next fire time and
APScheduler drops its job.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import Settings

from .slots import UTC, trigger_for

log = structlog.get_logger(__name__)
RECONCILE_EVERY_S = 60.0
REMEMBERED = 16  # fire times a trigger maps back exactly (APScheduler asks about the last few)


class VenueClock(Protocol):
    """A venue's clock that runs apart from the host's (exchanges.replay_clock.ReplayClock)."""

    def now_s(self) -> float:
        """The venue's clock now, in seconds."""

    def venue_at(self, wall_s: float) -> float:
        """Venue ms at host time `wall_s`."""

    def wall_at(self, venue_ms: float) -> float | None:
        """Host seconds at which the venue shows `venue_ms`; None when it never will."""


class VenueTimeTrigger(BaseTrigger):
    """`inner` computed on the venue's clock, fired at the matching host time."""

    def __init__(self, inner: BaseTrigger, clock: VenueClock) -> None:
        self.inner, self.clock = inner, clock
        # The fire times returned lately, host -> venue: APScheduler passes one back as
        # `previous_fire_time`, and mapping it back exactly keeps a close from firing twice.
        self._returned: dict[datetime, datetime] = {}
        self._ended = False

    def _venue(self, wall: datetime) -> datetime:
        known = self._returned.get(wall)
        if known is not None:
            return known
        # Whole ms: a candle close (plus FETCH_DELAY_S) is one, and rounding keeps the µs of a
        # host datetime from landing a hair before the close it stands for.
        return datetime.fromtimestamp(round(self.clock.venue_at(wall.timestamp())) / 1000, UTC)

    def get_next_fire_time(self, previous_fire_time, now):
        """The inner trigger's next fire time on the venue's clock, as host time."""
        previous = None if previous_fire_time is None else self._venue(previous_fire_time)
        venue_next = self.inner.get_next_fire_time(previous, self._venue(now))
        if venue_next is None:
            return None
        wall_s = self.clock.wall_at(venue_next.timestamp() * 1000)
        if wall_s is None:  # past the end of the replay: the venue will never show this time
            if not self._ended:
                self._ended = True
                log.warning("venue_history_ended", job=str(self.inner),
                            note="no later candle: the daemon idles until stopped")
            return None
        fire = datetime.fromtimestamp(wall_s, UTC)
        if len(self._returned) >= REMEMBERED:
            self._returned.pop(next(iter(self._returned)))
        self._returned[fire] = venue_next
        return fire

    def __str__(self) -> str:
        return f"venue_time[{self.inner}]"


def start_scheduler(settings: Settings, job: Callable[[str], Awaitable[None]],
                    reconcile: Callable[[], Awaitable[None]], clock: VenueClock | None = None
                    ) -> AsyncIOScheduler:
    """One job per timeframe, fired FETCH_DELAY_S after each candle close (UTC, on `clock`
    when the venue has its own), and the reconciliation every RECONCILE_EVERY_S; started."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    for tf in settings.timeframes:
        trigger: BaseTrigger = trigger_for(tf, settings.fetch_delay_s)
        if clock is not None:
            trigger = VenueTimeTrigger(trigger, clock)
        scheduler.add_job(job, trigger, args=[tf], id=f"timeframe-{tf}", name=f"candles {tf}",
                          max_instances=1, coalesce=True,
                          misfire_grace_time=settings.misfire_grace_s)
    scheduler.add_job(reconcile, IntervalTrigger(seconds=RECONCILE_EVERY_S, timezone=UTC),
                      id="reconcile", name="reconcile", max_instances=1, coalesce=True,
                      misfire_grace_time=settings.misfire_grace_s)
    scheduler.start()
    return scheduler
