"""Raw Binance kline rows -> a clean candle frame: typed, sorted, deduplicated, sanity-checked.

Built on numpy first and turned into a DataFrame once: a cycle handles hundreds of small
answers, and pandas' per-call overhead, not the data, is what costs time there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import COLUMNS, empty_frame  # noqa: F401 - empty_frame: binance.py's import
from .retry import MalformedResponse


def to_frame(ts: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Open times and an (n, 5) OHLCV array -> a candle frame."""
    data = {"timestamp": ts}
    data.update({c: values[:, i] for i, c in enumerate(COLUMNS[1:])})
    return pd.DataFrame(data)


def parse_klines(payload: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binance /fapi/v1/klines rows (12 fields, prices as strings) -> (open, ohlcv, close).

    Anything that is not a list of such rows is a malformed answer (transient: retried).
    """
    if not isinstance(payload, list):
        raise MalformedResponse(f"klines: expected a JSON list, got {type(payload).__name__}")
    if not payload:
        return (np.empty(0, dtype=np.int64), np.empty((0, 5)), np.empty(0, dtype=np.int64))
    try:
        ts = np.array([r[0] for r in payload], dtype=np.int64)
        close_time = np.array([r[6] for r in payload], dtype=np.int64)
        values = np.array([r[1:6] for r in payload], dtype=np.float64)
    except (TypeError, ValueError, IndexError, KeyError) as e:
        raise MalformedResponse(f"klines: a row is not a Binance kline ({e})") from None
    if values.ndim != 2 or values.shape[1] != 5:
        raise MalformedResponse("klines: a row has fewer than 6 fields")
    return ts, values, close_time


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by open time, one row per open time (the later row of a duplicate wins)."""
    ts = frame["timestamp"].to_numpy()
    if ts.size < 2 or bool((ts[1:] > ts[:-1]).all()):
        return frame  # the usual case: Binance sends sorted, unique rows; no copy
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


def since_slice(frame: pd.DataFrame, since_ms: int | None = None,
                until_ms: int | None = None) -> pd.DataFrame:
    """Rows of a sorted frame with since_ms <= timestamp < until_ms (a slice, not a mask)."""
    ts = frame["timestamp"].to_numpy()
    lo = 0 if since_ms is None else int(np.searchsorted(ts, since_ms, side="left"))
    hi = ts.size if until_ms is None else int(np.searchsorted(ts, until_ms, side="left"))
    if lo == 0 and hi == ts.size:
        return frame
    return frame.iloc[lo:hi].reset_index(drop=True)
