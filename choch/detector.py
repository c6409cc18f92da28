"""Streaming CHoCH/BOS detector: one closed bar in, the events it causes out."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .event import BEARISH, BOS, BULLISH, CHOCH, Event, check_parameters

STATE_VERSION = 1


class Bar(NamedTuple):
    """One closed candle: open time `ts` (ms, UTC) and its prices."""

    ts: int
    open: float
    high: float
    low: float
    close: float


class _Level:
    """The active (newest confirmed) pivot on one side and what its break needs."""

    __slots__ = ("price", "time", "armed", "extreme")

    def __init__(self, price: float, time: int, armed: bool, extreme: float) -> None:
        self.price = price
        self.time = time
        self.armed = armed
        # Lowest low (for a high) or highest high (for a low) since the pivot bar: the stop
        # reference.
        self.extreme = extreme

    def to_state(self) -> list[Any]:
        return [self.price, self.time, self.armed, self.extreme]


def _as_bar(bar: Any) -> tuple[Any, ...]:
    """Accept a Bar/tuple (ts, open, high, low, close) or a mapping with `ts` or `timestamp`."""
    if isinstance(bar, tuple):
        return bar
    if isinstance(bar, Mapping):
        ts = bar["ts"] if "ts" in bar else bar["timestamp"]
        return (ts, bar["open"], bar["high"], bar["low"], bar["close"])
    raise TypeError(f"a bar must be a tuple or a mapping, got {type(bar).__name__}")


class StructureDetector:
    """Pure, streaming market-structure detector for one symbol and timeframe (docs/choch-spec.md).

    Feed closed bars oldest first with `update`; bars must have strictly increasing open times.
    `timeframe_ms` fixes the bar length used for `confirmed_at`; when omitted it is the smallest
    spacing seen so far, which is what `choch.scan` uses too, so both agree bar for bar.
    """

    def __init__(self, left: int = 5, right: int = 5, break_on: str = "close",
                 timeframe_ms: int | None = None) -> None:
        check_parameters(left, right, break_on)
        if timeframe_ms is not None and (not isinstance(timeframe_ms, int) or timeframe_ms <= 0):
            raise ValueError(f"timeframe_ms must be a positive integer, got {timeframe_ms!r}")
        self.left = left
        self.right = right
        self.break_on = break_on
        self.timeframe_ms = timeframe_ms
        self._wick = break_on == "wick"
        self._span = left + right + 1
        self.bars_seen = 0
        self.last_ts: int | None = None
        self._spacing: int | None = None  # smallest open-time step seen so far
        self.trend: str | None = None
        self._ts: list[int] = []
        self._highs: list[float] = []
        self._lows: list[float] = []
        self._high: _Level | None = None
        self._low: _Level | None = None

    # -- the algorithm -------------------------------------------------------------------------

    def update(self, bar: Any) -> list[Event]:
        """Process one closed bar and return the events it causes (usually none)."""
        ts, open_, high, low, close = _as_bar(bar)[:5]
        ts = int(ts)  # numpy ints are not JSON-serialisable; the event carries a plain int
        self._advance(ts)
        # Breaks first, against the levels as they stood after the previous bar.
        events = self._breaks(ts, open_, high, low, close)
        self._confirm_pivots(ts, high, low)
        return events

    def _advance(self, ts: int) -> None:
        """Count the bar, refusing one that is not after the previous, and track the spacing."""
        last = self.last_ts
        if last is not None:
            step = ts - last
            if step <= 0:
                raise ValueError(f"bar open time {ts} is not after the previous bar's {last}")
            if self._spacing is None or step < self._spacing:
                self._spacing = step
        self.last_ts = ts
        self.bars_seen += 1

    def _breaks(self, ts: int, open_: float, high: float, low: float,
                close: float) -> list[Event]:
        """The breaks of the armed active levels by this bar, in order (the spec's step 1)."""
        broken: list[tuple[_Level, str]] = []
        hi = self._high
        if hi is not None and hi.armed:
            if low < hi.extreme:
                hi.extreme = low
            if (high if self._wick else close) > hi.price:
                broken.append((hi, BULLISH))
        lo = self._low
        if lo is not None and lo.armed:
            if high > lo.extreme:
                lo.extreme = high
            if (low if self._wick else close) < lo.price:
                broken.append((lo, BEARISH))
        if not broken:
            return []
        if len(broken) == 2 and close >= open_:  # both: the candle's colour says which first
            broken.reverse()
        return [self._break_event(level, direction, ts, close) for level, direction in broken]

    def _break_event(self, level: _Level, direction: str, ts: int, close: float) -> Event:
        """Disarm the broken level and name the break: CHoCH against the trend, else BOS."""
        level.armed = False
        kind = CHOCH if self.trend is not None and self.trend != direction else BOS
        self.trend = direction
        tf = self.timeframe_ms or self._spacing or 0
        return Event(kind, direction, level.price, level.time, ts, ts + tf, level.extreme, close)

    def _confirm_pivots(self, ts: int, high: float, low: float) -> None:
        """Confirm the pivot candidate R bars back (the spec's step 2): a new armed active level."""
        highs = self._highs
        lows = self._lows
        self._ts.append(ts)
        highs.append(high)
        lows.append(low)
        if len(highs) > self._span:
            del self._ts[0], highs[0], lows[0]
        if len(highs) < self._span:
            return
        L = self.left
        ph = highs[L]
        if ph > max(highs[:L]) and ph >= max(highs[L + 1:]):
            self._high = _Level(ph, self._ts[L], True, min(lows[L + 1:]))
        pl = lows[L]
        if pl < min(lows[:L]) and pl <= min(lows[L + 1:]):
            self._low = _Level(pl, self._ts[L], True, max(highs[L + 1:]))

    def update_many(self, bars: Iterable[Any]) -> list[Event]:
        """Process bars in order and return all their events."""
        out: list[Event] = []
        for bar in bars:
            out.extend(self.update(bar))
        return out

    # -- restart-safe state --------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot from which `from_state` continues exactly here."""
        return {
            "version": STATE_VERSION,
            "left": self.left,
            "right": self.right,
            "break_on": self.break_on,
            "timeframe_ms": self.timeframe_ms,
            "bars_seen": self.bars_seen,
            "last_ts": self.last_ts,
            "spacing": self._spacing,
            "trend": self.trend,
            "ts": list(self._ts),
            "highs": list(self._highs),
            "lows": list(self._lows),
            "active_high": self._high.to_state() if self._high else None,
            "active_low": self._low.to_state() if self._low else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StructureDetector:
        """Rebuild a detector from `to_state()` output (after a restart)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {state.get('version')!r}")
        det = cls(state["left"], state["right"], state["break_on"], state["timeframe_ms"])
        det.bars_seen = int(state["bars_seen"])
        det.last_ts = state["last_ts"]
        det._spacing = state["spacing"]
        det.trend = state["trend"]
        det._ts = [int(x) for x in state["ts"]]
        det._highs = [float(x) for x in state["highs"]]
        det._lows = [float(x) for x in state["lows"]]
        if not len(det._ts) == len(det._highs) == len(det._lows) <= det._span:
            raise ValueError("corrupt detector state: bar buffers disagree")
        det._high = _Level(*state["active_high"]) if state["active_high"] else None
        det._low = _Level(*state["active_low"]) if state["active_low"] else None
        return det

    def __repr__(self) -> str:
        return (f"StructureDetector(left={self.left}, right={self.right}, "
                f"break_on={self.break_on!r}, bars_seen={self.bars_seen}, trend={self.trend!r})")
