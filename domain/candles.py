"""Candles: closed candles as numpy columns, for the live path that handles one or two at a time.

A pandas frame costs tens of microseconds per operation whatever its size; a close of 600
streamed series would spend most of its time there. The live path (the stream's book, the
timeframe adapter, the detector's feed, the paper broker) passes these columns instead and
builds a frame only where one is read: an alert's chart, a file, a REST answer.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

PRICES = ("open", "high", "low", "close", "volume")
COLUMNS = ("timestamp",) + PRICES


@dataclass(frozen=True, slots=True)
class Candles:
    """Open times (int64 ms, ascending, unique), OHLCV rows and, when built from a smaller
    timeframe, the base candles each holds (`bars`) out of those it should (`expected`)."""

    ts: np.ndarray
    ohlcv: np.ndarray  # (n, 5) float64: open, high, low, close, volume
    bars: np.ndarray | None = None
    expected: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ts.size)

    @classmethod
    def empty(cls) -> Candles:
        return cls(np.empty(0, dtype=np.int64), np.empty((0, 5), dtype=np.float64))

    @classmethod
    def of(cls, candles: Any) -> Candles:
        """These columns, from Candles or from a candle frame (columns by name)."""
        if isinstance(candles, Candles):
            return candles
        ts = candles["timestamp"].to_numpy(dtype=np.int64)
        ohlcv = np.column_stack([candles[c].to_numpy(dtype=np.float64) for c in PRICES]) \
            if len(ts) else np.empty((0, 5), dtype=np.float64)
        if "bars" in candles.columns and "expected_bars" in candles.columns:
            return cls(ts, ohlcv, candles["bars"].to_numpy(dtype=np.int64),
                       candles["expected_bars"].to_numpy(dtype=np.int64))
        return cls(ts, ohlcv)

    def frame(self) -> Any:
        """A candle frame (timestamp, OHLCV, and bars/expected_bars when known)."""
        import pandas as pd

        data: dict[str, np.ndarray] = {"timestamp": self.ts}
        data.update({c: self.ohlcv[:, i] for i, c in enumerate(PRICES)})
        if self.bars is not None and self.expected is not None:
            data.update(bars=self.bars, expected_bars=self.expected)
        return pd.DataFrame(data)

    def rows(self, lo: int = 0, hi: int | None = None) -> Candles:
        """Rows lo..hi (positions), as views."""
        cut = slice(lo, hi)
        return Candles(self.ts[cut], self.ohlcv[cut],
                       None if self.bars is None else self.bars[cut],
                       None if self.expected is None else self.expected[cut])

    def between(self, since_ms: int | None = None, until_ms: int | None = None) -> Candles:
        """The candles with since_ms <= open time < until_ms."""
        lo = 0 if since_ms is None else int(np.searchsorted(self.ts, since_ms, side="left"))
        hi = self.ts.size if until_ms is None else int(np.searchsorted(self.ts, until_ms,
                                                                        side="left"))
        return self if lo == 0 and hi == self.ts.size else self.rows(lo, hi)

    def tail(self, n: int) -> Candles:
        """The last n candles."""
        return self if self.ts.size <= n else self.rows(self.ts.size - n)

    def with_counts(self, bars: np.ndarray, expected: np.ndarray) -> Candles:
        return Candles(self.ts, self.ohlcv, bars, expected)

    def tuples(self) -> Iterator[tuple[int, float, float, float, float, float]]:
        """(open time, open, high, low, close, volume) per candle, as Python numbers."""
        return zip(self.ts.tolist(), *self.ohlcv.T.tolist(), strict=True)

    @property
    def last_ts(self) -> int | None:
        return int(self.ts[-1]) if self.ts.size else None


def joined(before: Candles, after: Candles, keep: int) -> Candles:
    """The last `keep` candles of before + after, one per open time (after's wins), in order."""
    if not len(before):
        return after.tail(keep)
    if not len(after):
        return before.tail(keep)
    if int(before.ts[-1]) < int(after.ts[0]):  # the usual case: newer candles appended
        both = concat(before.tail(keep), after)
    else:
        both = concat(before, after)
        # The last occurrence of each open time, in time order (a stable sort keeps after's
        # copy behind before's, and the reversed unique picks it).
        order = np.argsort(both.ts, kind="stable")
        ts = both.ts[order]
        last = np.r_[ts[1:] != ts[:-1], True]
        pick = order[last]
        both = Candles(both.ts[pick], both.ohlcv[pick],
                       None if both.bars is None else both.bars[pick],
                       None if both.expected is None else both.expected[pick])
    return both.tail(keep)


def concat(a: Candles, b: Candles) -> Candles:
    """a's rows then b's (counts kept only when both have them)."""
    counts = a.bars is not None and b.bars is not None and a.expected is not None \
        and b.expected is not None
    return Candles(np.concatenate([a.ts, b.ts]), np.concatenate([a.ohlcv, b.ohlcv]),
                   np.concatenate([a.bars, b.bars]) if counts else None,
                   np.concatenate([a.expected, b.expected]) if counts else None)
