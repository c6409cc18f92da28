"""Batch detection over a whole history: a vectorised path that equals the streaming detector."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import EventColumns
from .detector import StructureDetector
from .event import Event, check_parameters

COLUMNS = ("timestamp", "open", "high", "low", "close")
Bars = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # ts, o, h, l, c


def candle_arrays(df: pd.DataFrame) -> Bars:
    """The five input columns as numpy arrays, validated for what the detector assumes."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return checked_bars((df["timestamp"].to_numpy(dtype=np.int64),
                         *(df[k].to_numpy(dtype=np.float64) for k in COLUMNS[1:])))


def checked_bars(bars: tuple[np.ndarray, ...]) -> Bars:
    """Five arrays (timestamp, open, high, low, close) as int64/float64, validated as
    candle_arrays() validates a DataFrame's columns."""
    ts = np.asarray(bars[0], dtype=np.int64)
    o, h, l, c = (np.asarray(x, dtype=np.float64) for x in bars[1:5])
    if len(ts) > 1:
        bad = np.flatnonzero(np.diff(ts) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise ValueError(f"row {i}: timestamp {ts[i]} is not after the previous {ts[i - 1]}")
    finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c)
    if not finite.all():
        raise ValueError(f"row {int(np.flatnonzero(~finite)[0])}: a price is not a finite number")
    return ts, o, h, l, c


def _rolling(x: np.ndarray, width: int, op) -> np.ndarray:
    """out[i] = op over x[i : i + width] (len(x) - width + 1 values)."""
    m = len(x) - width + 1
    out = x[:m].copy()
    for k in range(1, width):
        op(out, x[k:k + m], out=out)
    return out


def pivot_rows(x: np.ndarray, left: int, right: int, high: bool) -> np.ndarray:
    """Bar indices of the pivot highs (or lows) that get confirmed inside the data."""
    n = len(x)
    if n < left + right + 1:
        return np.empty(0, dtype=np.int64)
    op = np.maximum if high else np.minimum
    centre = x[left:n - right]
    left_roll = _rolling(x, left, op)
    right_roll = left_roll if right == left else _rolling(x, right, op)
    left_ext = left_roll[: n - right - left]
    right_ext = right_roll[left + 1: n - right + 1]
    if high:
        mask = (centre > left_ext) & (centre >= right_ext)
    else:
        mask = (centre < left_ext) & (centre <= right_ext)
    return np.flatnonzero(mask) + left


def _breaks(piv: np.ndarray, right: int, level_src: np.ndarray, price: np.ndarray,
            bullish: bool) -> tuple[np.ndarray, np.ndarray]:
    """(pivot index, break bar) of each pivot that gets broken while it is the active one.

    A pivot confirmed at bar c = p + R is active for breaks on bars c+1 .. c_next, where c_next
    is the confirmation bar of the next pivot on its side; those windows tile the bars, so one
    pass finds the first crossing inside each window.
    """
    n = len(price)
    marks = np.zeros(n + 1, dtype=np.int64)
    marks[piv + right + 1] = 1  # confirmations are distinct, +1 keeps it <= n
    # Per bar: 1 + the active pivot's position in piv, 0 before the first; the level that is
    # not there yet is infinitely far, so nothing crosses it.
    seg = np.cumsum(marks[:n])
    levels = np.empty(len(piv) + 1)
    levels[0] = np.inf if bullish else -np.inf
    levels[1:] = level_src[piv]
    crossed = (price > levels[seg]) if bullish else (price < levels[seg])
    bars = np.flatnonzero(crossed)
    if bars.size == 0:
        return np.empty(0, dtype=np.int64), bars
    segs = seg[bars]
    first = np.ones(bars.size, dtype=bool)
    first[1:] = segs[1:] != segs[:-1]
    return piv[segs[first] - 1], bars[first]


def _range_extreme(values: np.ndarray, start: np.ndarray, stop: np.ndarray, op) -> np.ndarray:
    """op.reduce over values[start[i] : stop[i]] for each i (ranges may overlap)."""
    if start.size == 0:
        return np.empty(0, dtype=np.float64)
    padded = np.append(values, values[-1])  # so that stop == len(values) is a valid index
    idx = np.empty(2 * start.size, dtype=np.int64)
    idx[0::2] = start
    idx[1::2] = stop
    return op.reduceat(padded, idx)[0::2]


def _spacing(ts: np.ndarray, timeframe_ms: int | None) -> np.ndarray:
    """Bar length used for `confirmed_at` at each bar: fixed, or the smallest step so far."""
    if timeframe_ms is not None:
        return np.full(len(ts), timeframe_ms, dtype=np.int64)
    out = np.zeros(len(ts), dtype=np.int64)
    if len(ts) > 1:
        out[1:] = np.minimum.accumulate(np.diff(ts))
    return out


def scan(df: pd.DataFrame, left: int = 5, right: int = 5, break_on: str = "close",
         timeframe_ms: int | None = None) -> list[Event]:
    """All events over a DataFrame of closed candles (columns timestamp, open, high, low, close)."""
    return scan_columns(df, left, right, break_on, timeframe_ms).to_events()


def scan_columns(df: pd.DataFrame, left: int = 5, right: int = 5, break_on: str = "close",
                 timeframe_ms: int | None = None) -> EventColumns:
    """scan() as columns, without building an object per event."""
    check_parameters(left, right, break_on)
    return scan_arrays(candle_arrays(df), left, right, break_on, timeframe_ms)


def scan_arrays(bars: Bars, left: int, right: int, break_on: str,
                timeframe_ms: int | None) -> EventColumns:
    """scan_columns() over the validated columns of candle_arrays()."""
    check_parameters(left, right, break_on)
    ts, o, h, l, c = bars
    wick = break_on == "wick"
    ph = pivot_rows(h, left, right, high=True)
    pl = pivot_rows(l, left, right, high=False)
    hp, hb = _breaks(ph, right, h, h if wick else c, bullish=True)
    lp, lb = _breaks(pl, right, l, l if wick else c, bullish=False)
    hx = _range_extreme(l, hp + 1, hb + 1, np.minimum)
    lx = _range_extreme(h, lp + 1, lb + 1, np.maximum)

    piv = np.concatenate([hp, lp])
    brk = np.concatenate([hb, lb])
    bull = np.concatenate([np.ones(hb.size, bool), np.zeros(lb.size, bool)])
    level = np.concatenate([h[hp], l[lp]])
    extreme = np.concatenate([hx, lx])
    # Two breaks on one bar (wick only): bearish first on an up bar, else bullish first.
    bear_first = c[brk] >= o[brk]
    rank = np.where(bull, bear_first, ~bear_first).astype(np.int8)
    order = np.lexsort((rank, brk))
    piv, brk, bull = piv[order], brk[order], bull[order]
    choch = np.zeros(brk.size, dtype=bool)
    choch[1:] = bull[1:] != bull[:-1]
    tf = _spacing(ts, timeframe_ms)
    at = ts[brk]
    return EventColumns(choch, bull, level[order], ts[piv], at, at + tf[brk], extreme[order],
                        c[brk], brk)


def pivots(df: pd.DataFrame, left: int = 5, right: int = 5) -> tuple[list[int], list[int]]:
    """Row positions of the pivot highs and lows confirmed inside `df` (for charts)."""
    check_parameters(left, right, "close")
    _, _, h, l, _ = candle_arrays(df)
    return (pivot_rows(h, left, right, high=True).tolist(),
            pivot_rows(l, left, right, high=False).tolist())


def scan_streaming(df: pd.DataFrame, left: int = 5, right: int = 5, break_on: str = "close",
                   timeframe_ms: int | None = None) -> list[Event]:
    """The reference path: feed every row to a StructureDetector (what the daemon does)."""
    ts, o, h, l, c = candle_arrays(df)
    det = StructureDetector(left, right, break_on, timeframe_ms)
    return det.update_many(zip(ts.tolist(), o.tolist(), h.tolist(), l.tolist(), c.tolist(),
                               strict=True))
