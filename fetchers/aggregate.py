"""Build any timeframe from closed native candles (pure: no I/O, no clock).

Alignment (as TradingView does it): buckets restart at 00:00 UTC every day. A bucket of length L
starts at midnight + k*L; when L does not divide 24h, the day's last bucket is cut at the next
midnight and is shorter. 25m: 00:00, 00:25, ..., 23:20, 23:45 (23:45-24:00, 15 min), then 00:00
again. Buckets of several whole days (3d, 1w built on a venue without them) follow one another
from an origin instead: the epoch for 3d, a Monday for 1w.
A bucket is emitted once closed: its end (next start, or midnight when cut) <= `closed_until_ms`,
the close time (open + base length) of the newest closed base candle.
Gaps: a closed bucket missing some base candles is still emitted, built from those present (open
of the first, close of the last, highest high, lowest low, summed volume); `bars` < `expected_bars`
tells the caller. A bucket with no base candle at all yields no row (no synthetic candle).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.candles import Candles
from domain.timeframe import DAY_MS

from .columns import COLUMNS
from .timeframes import Plan

OUTPUT = COLUMNS + ("bars", "expected_bars")


def _check_bucket(bucket_ms: int) -> None:
    if not (0 < bucket_ms <= DAY_MS or bucket_ms % DAY_MS == 0 and bucket_ms > 0):
        raise ValueError(f"bucket length {bucket_ms} ms must be in (0, {DAY_MS}] (at most a "
                         "day) or a whole number of days")


def bucket_start(ts_ms: int, bucket_ms: int, origin_ms: int = 0) -> int:
    """Open time of the bucket that contains ts_ms (day-aligned; multi-day: from origin_ms)."""
    _check_bucket(bucket_ms)
    if bucket_ms > DAY_MS:
        return ts_ms - (ts_ms - origin_ms) % bucket_ms
    into_day = ts_ms % DAY_MS
    return ts_ms - into_day + into_day // bucket_ms * bucket_ms


def bucket_end(start_ms: int, bucket_ms: int) -> int:
    """Exclusive end of the bucket opening at start_ms: the next start, or the next midnight."""
    _check_bucket(bucket_ms)
    if bucket_ms > DAY_MS:
        return start_ms + bucket_ms
    return min(start_ms + bucket_ms, start_ms - start_ms % DAY_MS + DAY_MS)


def bucket_starts(ts_ms: np.ndarray, bucket_ms: int, origin_ms: int = 0) -> np.ndarray:
    """Vectorised bucket_start over an int64 array of ms timestamps."""
    _check_bucket(bucket_ms)
    ts = np.asarray(ts_ms, dtype=np.int64)
    if bucket_ms > DAY_MS:
        return ts - (ts - origin_ms) % bucket_ms
    into_day = ts % DAY_MS
    return ts - into_day + into_day // bucket_ms * bucket_ms


def bucket_ends(starts_ms: np.ndarray, bucket_ms: int) -> np.ndarray:
    """Vectorised bucket_end over an int64 array of bucket open times."""
    _check_bucket(bucket_ms)
    starts = np.asarray(starts_ms, dtype=np.int64)
    if bucket_ms > DAY_MS:
        return starts + bucket_ms
    return np.minimum(starts + bucket_ms, starts - starts % DAY_MS + DAY_MS)


def _candle_ends(ts: np.ndarray, plan: Plan) -> np.ndarray:
    """Close time of each native candle; 1M candles end at the first of the next month."""
    if plan.nominal:
        month = ts.astype("datetime64[ms]").astype("datetime64[M]")
        return (month + 1).astype("datetime64[ms]").astype(np.int64)
    return ts + plan.base_ms


def _checked(ts: np.ndarray, plan: Plan) -> np.ndarray:
    """The base open times, checked for what grouping by position relies on."""
    bad = np.flatnonzero(np.diff(ts) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(f"base row {i}: timestamp {ts[i]} is not after the previous {ts[i - 1]}")
    if not plan.native:
        off = np.flatnonzero(ts % plan.base_ms)
        if off.size:
            i = int(off[0])
            raise ValueError(f"base row {i}: timestamp {ts[i]} is not on the {plan.base} grid")
    return ts


def aggregate(base: pd.DataFrame, plan: Plan, closed_until_ms: int) -> pd.DataFrame:
    """Closed `plan` candles from closed base candles, oldest first, with the OUTPUT columns."""
    missing = [c for c in COLUMNS if c not in base.columns]
    if missing:
        raise ValueError(f"base candles: missing column(s) {', '.join(missing)}")
    columns = Candles.of(base[list(COLUMNS)])
    _checked(columns.ts, plan)
    return aggregate_columns(columns, plan, closed_until_ms).frame()


def aggregate_columns(base: Candles, plan: Plan, closed_until_ms: int) -> Candles:
    """aggregate() on columns (in time order, one per open time, as Candles come): the result
    always carries bars and expected bars."""
    ts = base.ts
    closed_until_ms = int(closed_until_ms)
    if plan.native:
        # Pass-through: same rows and values, minus any candle that ends after closed_until_ms,
        # plus bars/expected_bars = 1 so every plan returns the same columns. Ends grow with
        # open times, so the closed candles are a prefix.
        n = int(_candle_ends(ts, plan).searchsorted(closed_until_ms, side="right"))
        one = np.ones(n, dtype=np.int64)
        return base.rows(0, n).with_counts(one, one)
    _checked(ts, plan)
    if ts.size == 0:
        return _empty()
    starts = bucket_starts(ts, plan.bucket_ms, plan.origin_ms)
    # Plain array calls, not np.r_ or column_stack: a close builds hundreds of one-bucket
    # series, where numpy's helper layers cost more than the arithmetic.
    change = np.empty(ts.size, dtype=bool)
    change[0] = True
    np.not_equal(starts[1:], starts[:-1], out=change[1:])
    first = np.flatnonzero(change)
    open_ms = starts[first]
    end_ms = bucket_ends(open_ms, plan.bucket_ms)
    # Ends grow with starts, so the closed buckets are a prefix; cut before reducing.
    n = int(end_ms.searchsorted(closed_until_ms, side="right"))
    if n == 0:
        return _empty()
    rows = int(first[n]) if n < first.size else ts.size
    first, open_ms, end_ms = first[:n], open_ms[:n], end_ms[:n]
    o, h, l, c, v = base.ohlcv[:rows].T
    bars = np.empty(n, dtype=np.int64)
    bars[:-1] = first[1:] - first[:-1]
    bars[-1] = rows - first[-1]
    ohlcv = np.empty((n, 5))
    ohlcv[:, 0] = o[first]
    ohlcv[:, 1] = np.maximum.reduceat(h, first)
    ohlcv[:, 2] = np.minimum.reduceat(l, first)
    ohlcv[:, 3] = c[first + bars - 1]
    ohlcv[:, 4] = np.add.reduceat(v, first)
    return Candles(open_ms.astype(np.int64), ohlcv, bars,
                   ((end_ms - open_ms) // plan.base_ms).astype(np.int64))


def _empty() -> Candles:
    none = np.empty(0, dtype=np.int64)
    return Candles.empty().with_counts(none, none)
