"""Raw Binance kline rows -> a clean candle frame: typed, sorted, deduplicated, sanity-checked."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .retry import MalformedResponse

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
FRAME = COLUMNS + ("close_time",)


def empty_frame(with_close_time: bool = False) -> pd.DataFrame:
    """A zero-row candle frame with the right dtypes."""
    cols = FRAME if with_close_time else COLUMNS
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("timestamp", "close_time")
                                      else "float64") for c in cols})


def parse_klines(payload: object) -> pd.DataFrame:
    """Binance /fapi/v1/klines rows (12 fields, prices as strings) -> FRAME columns.

    Anything that is not a list of such rows is a malformed answer (transient: retried).
    """
    if not isinstance(payload, list):
        raise MalformedResponse(f"klines: expected a JSON list, got {type(payload).__name__}")
    if not payload:
        return empty_frame(with_close_time=True)
    try:
        ts = np.array([int(r[0]) for r in payload], dtype=np.int64)
        close_time = np.array([int(r[6]) for r in payload], dtype=np.int64)
        values = np.array([[float(r[i]) for i in range(1, 6)] for r in payload],
                          dtype=np.float64)
    except (TypeError, ValueError, IndexError, KeyError) as e:
        raise MalformedResponse(f"klines: a row is not a Binance kline ({e})") from None
    frame = pd.DataFrame(values, columns=list(COLUMNS[1:]))
    frame.insert(0, "timestamp", ts)
    frame["close_time"] = close_time
    return frame


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Sorted by open time, one row per open time (the later row of a duplicate wins)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    return (frame.sort_values("timestamp", kind="stable")
            .drop_duplicates("timestamp", keep="last").reset_index(drop=True))


def insane(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of candles that break OHLC sanity (never fed to the detector)."""
    o, h, l, c, v = (frame[k].to_numpy(dtype=np.float64) for k in COLUMNS[1:])
    finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c) & np.isfinite(v)
    with np.errstate(invalid="ignore"):
        ok = (finite & (l > 0) & (h >= np.maximum(o, c)) & (l <= np.minimum(o, c))
              & (h >= l) & (v >= 0))
    return ~ok
