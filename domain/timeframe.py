"""The timeframe grammar, parsed once into a value every layer may use (stdlib only).

A timeframe is a whole number followed by a unit: m (minutes) or h (hours) shorter than a day
(1439m or 23h at most), or one of the long timeframes 1d, 3d, 1w and 1M (a calendar month, 30
days nominally). Case matters: 'M' is a month and 'm' a minute. The text doubles as a label in
logs, alerts and state keys, so each timeframe has one spelling (no leading zeros).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
MONTH_MS = 30 * DAY_MS  # nominal only: a calendar month lasts 28 to 31 days

# Days, weeks and months exist only as these: their candles follow the venue's own calendar.
LONG = ("1d", "3d", "1w", "1M")
UNIT_MS = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": WEEK_MS, "M": MONTH_MS}
_PATTERN = re.compile(r"([0-9]+)([A-Za-z])")
_FORMAT = "a whole number followed by m, h, d, w or M (month), like '25m' or '4h'"


@dataclass(frozen=True)
class Timeframe:
    """One valid timeframe: its text ('25m'), length in ms, unit letter and count."""

    text: str
    count: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """'25m' -> Timeframe; ValueError (saying what is allowed) for anything unsupported."""
        if not isinstance(text, str):
            raise TypeError(f"timeframe must be a string, not {type(text).__name__}")
        match = _PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(f"timeframe {text!r} is not {_FORMAT}")
        digits, unit = match.groups()
        if unit not in UNIT_MS:
            # '1H' or '1D' are not guessed at: 'M' and 'm' mean different things.
            raise ValueError(f"timeframe {text!r}: unknown unit {unit!r}; expected {_FORMAT}")
        if int(digits) == 0:
            raise ValueError(f"timeframe {text!r}: the length must be at least 1")
        if digits.startswith("0"):
            raise ValueError(f"timeframe {text!r}: write the length without leading zeros")
        tf = cls(text, int(digits), unit)
        if unit in "dwM" and text not in LONG:
            raise ValueError(f"timeframe {text!r}: days, weeks and months are supported only as "
                             "1d, 3d, 1w and 1M")
        if unit in "mh" and tf.ms >= DAY_MS:
            raise ValueError(f"timeframe {text!r}: minute and hour timeframes must be shorter "
                             "than a day (1439m or 23h at most); use 1d, 3d, 1w or 1M beyond that")
        return tf

    @property
    def ms(self) -> int:
        """Length in ms (1M: 30 days, nominal)."""
        return self.count * UNIT_MS[self.unit]

    @property
    def is_native_long(self) -> bool:
        """True for 1d, 3d, 1w and 1M: candles on the venue's calendar, never built by us."""
        return self.unit in "dwM"

    def __str__(self) -> str:
        return self.text


def timeframe_ms(text: str) -> int:
    """Length of a timeframe in ms ('25m' -> 1_500_000); ValueError for anything unsupported."""
    if isinstance(text, str):
        return _known_ms(text)
    return Timeframe.parse(text).ms  # raises, saying what is allowed


@functools.lru_cache(maxsize=256)
def _known_ms(text: str) -> int:
    # A stream's close asks this a few times per series: parsed once per timeframe.
    return Timeframe.parse(text).ms
