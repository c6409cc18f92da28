"""Which native Binance USD-M timeframe each timeframe is built from (the grammar: timeframe.py).

Native timeframes (`NATIVE`) are fetched as they are. Any other whole number of minutes or hours
shorter than a day (10m, 25m, 90m, 7h, ...) is built from the largest intraday native timeframe
that divides it, in buckets aligned to 00:00 UTC (see `fetchers.aggregate`). The long timeframes
(1d, 3d, 1w, 1M) are all native.
"""
from __future__ import annotations

from dataclasses import dataclass

from timeframe import DAY_MS, Timeframe
# binance.py's name for the length of a timeframe.
from timeframe import timeframe_ms as parse_timeframe  # noqa: F401

NATIVE = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
          "1d", "3d", "1w", "1M")
# Every one of these divides 24h, so a bucket built from them never straddles midnight.
INTRADAY = NATIVE[:11]


_NATIVE_MS = {tf: Timeframe.parse(tf).ms for tf in NATIVE}


@dataclass(frozen=True)
class Plan:
    """How to get one timeframe: fetch `base` candles and group them into `bucket_ms` buckets."""

    timeframe: str
    bucket_ms: int
    base: str
    base_ms: int
    native: bool  # True when the base candles are the answer (bucket_ms == base_ms)
    nominal: bool = False  # True for 1M: bucket_ms is 30 days, real months vary

    def __post_init__(self) -> None:
        if self.base not in NATIVE or self.base_ms != _NATIVE_MS[self.base]:
            raise ValueError(f"plan {self.timeframe!r}: base {self.base!r} with {self.base_ms} ms "
                             "is not a native timeframe")
        if self.native != (self.bucket_ms == self.base_ms):
            raise ValueError(f"plan {self.timeframe!r}: native={self.native} but bucket "
                             f"{self.bucket_ms} ms vs base {self.base_ms} ms")
        if not self.native and (self.base not in INTRADAY or self.bucket_ms >= DAY_MS
                                or self.bucket_ms % self.base_ms):
            raise ValueError(f"plan {self.timeframe!r}: a {self.bucket_ms} ms bucket cannot be "
                             f"built from {self.base!r}")


def plan(timeframe: str) -> Plan:
    """The Plan for a timeframe: natives pass through, others use their largest native divisor."""
    ms = Timeframe.parse(timeframe).ms
    if timeframe in NATIVE:
        return Plan(timeframe, ms, timeframe, ms, native=True, nominal=timeframe == "1M")
    # 1m divides every whole number of minutes, so there is always a candidate.
    base = max((tf for tf in INTRADAY if ms % _NATIVE_MS[tf] == 0), key=_NATIVE_MS.__getitem__)
    base_ms = _NATIVE_MS[base]
    # '60m' or '120m' land here too: same length as a native one, so they pass through as it.
    return Plan(timeframe, ms, base, base_ms, native=ms == base_ms)
