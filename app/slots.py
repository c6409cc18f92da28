"""When candles close: the scheduler's triggers and the candle a job must find.

Intraday timeframes are aligned to 00:00 UTC (fetchers.aggregate); 1d at midnight, 1w on Monday
00:00 UTC (Binance's weeks), 1M on the 1st. 3d candles follow a grid of Binance's own, so their
job fires daily at midnight and takes whatever candle has closed (no waiting for one). Native
timeframes that a cron expression can state get APScheduler's CronTrigger; the others (25m, 7h,
3d, ...) get CandleCloseTrigger, which computes the same closes directly.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from domain.timeframe import DAY_MS, WEEK_MS, Timeframe, timeframe_ms
from fetchers.aggregate import bucket_end, bucket_start

UTC = UTC


def candle_open_before(timeframe: str, close_ms: int) -> int:
    """Open time of the candle of `timeframe` that closes at (or contains) close_ms - 1."""
    t = close_ms - 1
    if timeframe == "1M":
        d = datetime.fromtimestamp(t / 1000, UTC)
        return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)
    if timeframe == "1w":
        monday_epoch = 4 * DAY_MS  # 1970-01-05 was a Monday
        return t - (t - monday_epoch) % WEEK_MS
    if timeframe == "3d":
        return t - t % DAY_MS  # not Binance's 3d grid: only the daily firing relies on it
    return bucket_start(t, timeframe_ms(timeframe))


def last_close(timeframe: str, now_ms: int) -> int:
    """The most recent candle close at or before now_ms."""
    start = candle_open_before(timeframe, now_ms + 1)
    if candle_end(timeframe, start) <= now_ms:
        return candle_end(timeframe, start)
    return start


def candle_end(timeframe: str, open_ms: int) -> int:
    """Close time (exclusive end) of the candle opening at open_ms."""
    if timeframe == "1M":
        d = datetime.fromtimestamp(open_ms / 1000, UTC)
        nxt = datetime(d.year + d.month // 12, d.month % 12 + 1, 1, tzinfo=UTC)
        return int(nxt.timestamp() * 1000)
    if timeframe == "1w":
        return open_ms + timeframe_ms(timeframe)
    if timeframe == "3d":
        return open_ms + DAY_MS
    return bucket_end(open_ms, timeframe_ms(timeframe))


class CandleCloseTrigger(BaseTrigger):
    """Fires `delay_s` after every close of `timeframe` (UTC), for timeframes cron cannot say."""

    def __init__(self, timeframe: str, delay_s: float = 0.0) -> None:
        timeframe_ms(timeframe)
        self.timeframe = timeframe
        self.delay_ms = int(round(delay_s * 1000))

    def get_next_fire_time(self, previous_fire_time, now):
        """The first close + delay strictly after the previous fire time (or at/after now)."""
        ref = previous_fire_time or now
        ref_ms = int(ref.timestamp() * 1000) - self.delay_ms
        close = last_close(self.timeframe, ref_ms)
        if previous_fire_time is not None or close < ref_ms:
            close = candle_end(self.timeframe, candle_open_before(self.timeframe, close + 1))
        return datetime.fromtimestamp((close + self.delay_ms) / 1000, UTC)

    def __str__(self) -> str:
        return f"candle_close[{self.timeframe}+{self.delay_ms}ms]"


def trigger_for(timeframe: str, delay_s: float) -> CronTrigger | CandleCloseTrigger:
    """An APScheduler trigger firing `delay_s` after each close of `timeframe`, in UTC."""
    second = int(math.floor(delay_s))
    whole = delay_s == second
    tf = Timeframe.parse(timeframe)
    n, unit = tf.count, tf.unit
    cron: dict[str, str | int] | None = None
    if unit == "m" and 60 % n == 0:
        cron = dict(minute=f"*/{n}")
    elif unit == "h" and 24 % n == 0:
        cron = dict(hour=f"*/{n}", minute=0)
    elif timeframe in ("1d", "3d"):
        cron = dict(hour=0, minute=0)
    elif timeframe == "1w":
        cron = dict(day_of_week="mon", hour=0, minute=0)
    elif timeframe == "1M":
        cron = dict(day=1, hour=0, minute=0)
    if cron is not None and whole:
        return CronTrigger(second=second, timezone=UTC, **cron)
    return CandleCloseTrigger(timeframe, delay_s)


def knows_grid(timeframe: str) -> bool:
    """True when the open time of the candle a job must find is known (not for 3d)."""
    return timeframe != "3d"


def utc_ms(dt: datetime) -> int:
    """A timezone-aware datetime as epoch ms."""
    return int(dt.timestamp() * 1000)


def fire_times(trigger, start: datetime, count: int) -> list[datetime]:
    """The next `count` fire times of a trigger from `start` (used by the tests)."""
    out, prev, now = [], None, start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(prev, now)
        out.append(nxt)
        prev, now = nxt, nxt + timedelta(microseconds=1)
    return out
