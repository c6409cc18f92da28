"""ccxt's unified OHLCV rows read into arrays, and ms timestamps for people (pure)."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from .retry import MalformedResponse

# (open times, (n, 5) OHLCV, close times) of one answer.
Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


def utc_text(ms: int) -> str:
    """'2026-02-10 12:00' for a ms timestamp."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def ohlcv_rows(payload: object, tf_ms: int) -> Rows:
    """ccxt's unified OHLCV rows ([ms, o, h, l, c, v]) -> (open, ohlcv, close = open + tf - 1)."""
    if not isinstance(payload, list):
        raise MalformedResponse(f"ohlcv: expected a list, got {type(payload).__name__}")
    if not payload:
        return np.empty(0, dtype=np.int64), np.empty((0, 5)), np.empty(0, dtype=np.int64)
    try:
        ts = np.array([r[0] for r in payload], dtype=np.int64)
        values = np.array([r[1:6] for r in payload], dtype=np.float64)
    except (TypeError, ValueError, IndexError) as e:
        raise MalformedResponse(f"ohlcv: a row is not [ms, o, h, l, c, v] ({e})") from None
    if values.ndim != 2 or values.shape[1] != 5:
        raise MalformedResponse("ohlcv: a row has fewer than 6 fields")
    return ts, values, ts + tf_ms - 1
