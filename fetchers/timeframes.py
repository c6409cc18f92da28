"""Timeframe names, their lengths, and which native Binance USD-M timeframe each is built from.

Native timeframes (`NATIVE`) are fetched as they are. Any other whole number of minutes or hours
shorter than a day (10m, 25m, 90m, 7h, ...) is built from the largest intraday native timeframe
that divides it, in buckets aligned to 00:00 UTC (see `fetchers.aggregate`). Days, weeks and
months exist only in their native forms: 1d, 3d, 1w and 1M (a calendar month, 30 days nominally).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
MONTH_MS = 30 * DAY_MS  # nominal only: a calendar month lasts 28 to 31 days

NATIVE = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
          "1d", "3d", "1w", "1M")
# Every one of these divides 24h, so a bucket built from them never straddles midnight.
INTRADAY = NATIVE[:11]

_UNIT_MS = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": WEEK_MS, "M": MONTH_MS}
_PATTERN = re.compile(r"([0-9]+)([A-Za-z])")
_FORMAT = "a whole number followed by m, h, d, w or M (month), like '25m' or '4h'"


def parse_timeframe(text: str) -> int:
    """Length of a timeframe in ms ('25m' -> 1_500_000); ValueError for anything unsupported."""
    if not isinstance(text, str):
        raise TypeError(f"timeframe must be a string, not {type(text).__name__}")
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"timeframe {text!r} is not {_FORMAT}")
    digits, unit = match.groups()
    if unit not in _UNIT_MS:
        # Case matters: 'M' is a month and 'm' a minute, so '1H' or '1D' are not guessed at.
        raise ValueError(f"timeframe {text!r}: unknown unit {unit!r}; expected {_FORMAT}")
    if int(digits) == 0:
        raise ValueError(f"timeframe {text!r}: the length must be at least 1")
    if digits.startswith("0"):
        # The text doubles as a label (logs, alerts, state keys): keep one spelling per timeframe.
        raise ValueError(f"timeframe {text!r}: write the length without leading zeros")
    ms = int(digits) * _UNIT_MS[unit]
    if unit in "dwM":
        if text not in NATIVE:
            raise ValueError(f"timeframe {text!r}: days, weeks and months are supported only as "
                             "the native 1d, 3d, 1w and 1M")
        return ms
    if ms >= DAY_MS:
        raise ValueError(f"timeframe {text!r}: minute and hour timeframes must be shorter than a "
                         "day (1439m or 23h at most); use 1d, 3d, 1w or 1M beyond that")
    return ms


_NATIVE_MS = {tf: parse_timeframe(tf) for tf in NATIVE}


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
    ms = parse_timeframe(timeframe)
    if timeframe in NATIVE:
        return Plan(timeframe, ms, timeframe, ms, native=True, nominal=timeframe == "1M")
    # 1m divides every whole number of minutes, so there is always a candidate.
    base = max((tf for tf in INTRADAY if ms % _NATIVE_MS[tf] == 0), key=_NATIVE_MS.__getitem__)
    base_ms = _NATIVE_MS[base]
    # '60m' or '120m' land here too: same length as a native one, so they pass through as it.
    return Plan(timeframe, ms, base, base_ms, native=ms == base_ms)
