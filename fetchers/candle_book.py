"""CandleBook: the closed native candles of each streamed (symbol, timeframe), pure.

Two sources fill it: the stream (one closed candle at a time, with the venue's closed flag) and
REST answers (every closed candle from a start). It keeps, per series, the range of open times
it holds without a hole (`first`..`last`): a stream candle extends that range only when it is
the very next one, so a candle missed while a socket was down, stalled or reconnecting leaves
a hole that only REST can fill; until then the book does not answer past the hole. A forming
update is never stored: a newer candle's open only proves that the previous one has closed,
and its final values are then read over REST. Duplicates and out-of-order updates change
nothing: a closed candle is stored once, by open time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from domain.candles import Candles
from exchanges.candles import sane_row
from exchanges.stream import KlineUpdate

KEEP = 1500  # closed candles kept per series: more than any since a slot asks for


class Outcome(StrEnum):
    """What one stream update did to the book."""

    CLOSED = "closed"        # the next closed candle: the series is current up to it
    AHEAD = "ahead"          # a closed candle after a hole: REST must fill the hole first
    PROVEN = "proven"        # a newer open proved a close the stream never flagged
    IGNORED = "ignored"      # a duplicate, an old or forming update, or an insane candle


@dataclass
class _Series:
    tf_ms: int
    rows: dict[int, tuple[float, float, float, float, float]] = field(default_factory=dict)
    first: int | None = None  # the range held without a hole (inclusive open times)
    last: int | None = None
    proven: int = -1  # the newest open a forming update proved closed (reported once)

    def extend(self) -> None:
        """Grow `last` over stream candles stored ahead that are now next in line."""
        if self.last is None:
            return
        while self.last + self.tf_ms in self.rows:
            self.last += self.tf_ms

    def trim(self, keep: int) -> None:
        if len(self.rows) <= keep:
            return
        for ts in sorted(self.rows)[:len(self.rows) - keep]:
            del self.rows[ts]
        oldest = min(self.rows)
        if self.first is not None and self.first < oldest:
            self.first = oldest
        if self.last is not None and self.first is not None and self.last < self.first:
            self.first = self.last = None


class CandleBook:
    """Closed native candles per (symbol, timeframe), from the stream and from REST."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._series: dict[tuple[str, str], _Series] = {}

    def _get(self, symbol: str, timeframe: str, tf_ms: int) -> _Series:
        key = (symbol, timeframe)
        if key not in self._series:
            self._series[key] = _Series(tf_ms)
        return self._series[key]

    def accept(self, update: KlineUpdate, tf_ms: int) -> Outcome:
        """One stream update (any order, any number of times)."""
        s = self._get(update.symbol, update.timeframe, tf_ms)
        o = update.open_ms
        if not update.closed:
            before = o - tf_ms
            settled = (s.last is not None and before <= s.last) or before in s.rows
            if settled or before <= s.proven or s.last is None:
                return Outcome.IGNORED
            s.proven = before
            return Outcome.PROVEN
        if o in s.rows or (s.first is not None and s.first <= o <= (s.last or o)):
            return Outcome.IGNORED
        values = (update.open, update.high, update.low, update.close, update.volume)
        if not sane_row(*values):
            return Outcome.IGNORED  # REST reads it (and refetches or drops it, as always)
        if s.last is not None and o < s.last:
            return Outcome.IGNORED  # older than what the range holds: REST already had it
        s.rows[o] = values
        nxt = s.last is not None and o == s.last + tf_ms
        s.extend()
        s.trim(self.keep)
        return Outcome.CLOSED if nxt else Outcome.AHEAD

    def record(self, symbol: str, timeframe: str, tf_ms: int, frame: pd.DataFrame,
               since_ms: int | None) -> None:
        """A REST answer: every closed candle from since_ms (or its first row) to its last."""
        if frame.empty:
            return
        s = self._get(symbol, timeframe, tf_ms)
        ts = frame["timestamp"].to_numpy(dtype=np.int64)
        values = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=float)
        for t, row in zip(ts.tolist(), values.tolist(), strict=True):
            s.rows[t] = tuple(row)
        lo = int(ts[0]) if since_ms is None else min(int(since_ms), int(ts[0]))
        hi = int(ts[-1])
        touches = (s.first is not None and s.last is not None
                   and lo <= s.last + tf_ms and hi >= s.first - tf_ms)
        if touches:
            s.first, s.last = min(lo, s.first), max(hi, s.last)  # type: ignore[type-var]
        elif s.last is None or hi >= s.last:
            s.first, s.last = lo, hi
        s.extend()
        s.trim(self.keep)

    def last(self, symbol: str, timeframe: str) -> int | None:
        """The newest open time held without a hole, or None."""
        s = self._series.get((symbol, timeframe))
        return None if s is None else s.last

    def columns(self, symbol: str, timeframe: str, since_ms: int | None, limit: int | None,
                newest_open: int) -> Candles | None:
        """The closed candles asked for, when the book holds all of them up to newest_open (the
        newest candle closed now); None when REST must be asked."""
        s = self._series.get((symbol, timeframe))
        if s is None or s.first is None or s.last is None or s.last < newest_open:
            return None
        if since_ms is None:
            n = limit or 0
            start = s.last - (n - 1) * s.tf_ms
            if n < 1 or start < s.first:
                return None
        else:
            if since_ms < s.first:
                return None
            # The first open time at or after since_ms: streamed candles lie on the epoch grid.
            start = -(-since_ms // s.tf_ms) * s.tf_ms
        # Walked on the grid, not sorted: first..last has no hole the stream left (a candle
        # the venue itself never had, as in a REST answer, is simply absent).
        rows = s.rows
        stamps = [t for t in range(start, s.last + 1, s.tf_ms) if t in rows]
        if since_ms is not None and limit is not None:
            stamps = stamps[:limit]
        if not stamps:
            return Candles.empty()
        return Candles(np.array(stamps, dtype=np.int64),
                       np.array([rows[t] for t in stamps], dtype=float))
