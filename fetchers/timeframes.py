"""Which of a venue's native timeframes each timeframe is built from (the grammar: timeframe.py).

A venue's native timeframes (its market data's `native_timeframes`) are fetched as they are.
Any other whole number of minutes or hours shorter than a day (10m, 25m, 90m, 7h, 8h on a venue
without 8h, ...) and 1d on a venue without UTC day candles are built from the largest intraday
native timeframe that divides them, in buckets aligned to 00:00 UTC (see `fetchers.aggregate`).
3d and 1w, when the venue lacks them, are built from the largest native timeframe of a day or
less that divides them, on the epoch grid (3d: from 1970-01-01, as venues that serve 3d do)
or from Monday 00:00 UTC (1w). 1M follows the calendar and must be native.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from domain.timeframe import DAY_MS, Timeframe

# The name market data and scan use for the length of a timeframe.
from domain.timeframe import timeframe_ms as parse_timeframe  # noqa: F401

WEEK_ORIGIN_MS = 4 * DAY_MS  # 1970-01-05, the first Monday: weeks open on Mondays


def _ms(tf: str) -> int:
    return Timeframe.parse(tf).ms


def intraday(native: Sequence[str]) -> tuple[str, ...]:
    """The native timeframes shorter than a day that divide it (bucket bases that never
    straddle midnight)."""
    return tuple(tf for tf in native if _ms(tf) < DAY_MS and DAY_MS % _ms(tf) == 0)


@dataclass(frozen=True)
class Plan:
    """How to get one timeframe: fetch `base` candles and group them into `bucket_ms` buckets."""

    timeframe: str
    bucket_ms: int
    base: str
    base_ms: int
    native: bool  # True when the base candles are the answer (bucket_ms == base_ms)
    nominal: bool = False  # True for 1M: bucket_ms is 30 days, real months vary
    origin_ms: int = 0  # where multi-day buckets start counting (weeks: a Monday)

    def __post_init__(self) -> None:
        if self.base_ms != _ms(self.base):
            raise ValueError(f"plan {self.timeframe!r}: base {self.base!r} with {self.base_ms} ms "
                             "is not that timeframe")
        if self.native != (self.bucket_ms == self.base_ms):
            raise ValueError(f"plan {self.timeframe!r}: native={self.native} but bucket "
                             f"{self.bucket_ms} ms vs base {self.base_ms} ms")
        if not self.native and (self.base_ms > DAY_MS or self.bucket_ms % self.base_ms
                                or (self.bucket_ms > DAY_MS and self.bucket_ms % DAY_MS)):
            raise ValueError(f"plan {self.timeframe!r}: a {self.bucket_ms} ms bucket cannot be "
                             f"built from {self.base!r}")

    @property
    def straight(self) -> bool:
        """True when the venue's own candles are passed through on their own grid (native
        timeframes of a day or more): no day-aligned base series is built for it."""
        return self.native and self.base_ms >= DAY_MS


def plan(timeframe: str, native: Sequence[str]) -> Plan:
    """The Plan for a timeframe over a venue's `native` timeframes: natives pass through,
    others use their largest native divisor."""
    return _plan(timeframe, tuple(native))


@functools.lru_cache(maxsize=1024)
def _plan(timeframe: str, native: tuple[str, ...]) -> Plan:
    # Every poll of every series asks: the answer depends on the two arguments only.
    ms = _ms(timeframe)
    if timeframe in native:
        return Plan(timeframe, ms, timeframe, ms, native=True, nominal=timeframe == "1M")
    if timeframe == "1M":
        raise ValueError("1M (calendar months) needs the venue's own monthly candles")
    bases = intraday(native) + (("1d",) if ms > DAY_MS and "1d" in native else ())
    candidates = [tf for tf in bases if ms % _ms(tf) == 0]
    if not candidates:
        raise ValueError(f"timeframe {timeframe!r} cannot be built from {', '.join(native)}")
    base = max(candidates, key=_ms)
    origin = WEEK_ORIGIN_MS if timeframe == "1w" else 0
    # '60m' or '120m' land here too: same length as a native one, so they pass through as it.
    return Plan(timeframe, ms, base, _ms(base), native=ms == _ms(base), origin_ms=origin)
