"""Candle rows -> a clean candle frame: typed, sorted, deduplicated, sanity-checked (no ccxt).

Built on numpy first and turned into a DataFrame once: a cycle handles hundreds of small
answers, and pandas' per-call overhead, not the data, is what costs time there.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def empty_frame() -> pd.DataFrame:
    """A zero-row candle frame with the right dtypes (timestamp int64 ms, the rest float64)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "timestamp" else "float64")
                         for c in COLUMNS})


def to_frame(ts: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Open times and an (n, 5) OHLCV array -> a candle frame."""
    data = {"timestamp": ts}
    data.update({c: values[:, i] for i, c in enumerate(COLUMNS[1:])})
    return pd.DataFrame(data)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by open time, one row per open time (the later row of a duplicate wins)."""
    ts = frame["timestamp"].to_numpy()
    if ts.size < 2 or bool((ts[1:] > ts[:-1]).all()):
        return frame  # the usual case: venues send sorted, unique rows; no copy
    return (frame.sort_values("timestamp", kind="stable")
            .drop_duplicates("timestamp", keep="last").reset_index(drop=True))


def insane(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the (n, 5) OHLCV rows that break OHLC sanity (never fed on)."""
    o, h, l, c, v = values.T
    with np.errstate(invalid="ignore"):
        ok = (np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c) & np.isfinite(v)
              & (l > 0) & (h >= np.maximum(o, c)) & (l <= np.minimum(o, c)) & (h >= l)
              & (v >= 0))
    return ~ok


def sane_row(o: float, h: float, l: float, c: float, v: float) -> bool:
    """`insane` for one candle, in plain Python (a stream handles them one at a time)."""
    return (math.isfinite(o) and math.isfinite(h) and math.isfinite(l) and math.isfinite(c)
            and math.isfinite(v) and l > 0 and h >= max(o, c) and l <= min(o, c) and h >= l
            and v >= 0)


def since_slice(frame: pd.DataFrame, since_ms: int | None = None,
                until_ms: int | None = None) -> pd.DataFrame:
    """Rows of a sorted frame with since_ms <= timestamp < until_ms (a slice, not a mask)."""
    ts = frame["timestamp"].to_numpy()
    lo = 0 if since_ms is None else int(np.searchsorted(ts, since_ms, side="left"))
    hi = ts.size if until_ms is None else int(np.searchsorted(ts, until_ms, side="left"))
    if lo == 0 and hi == ts.size:
        return frame
    return frame.iloc[lo:hi].reset_index(drop=True)
