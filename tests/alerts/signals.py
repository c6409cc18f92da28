"""Synthetic candles and signal payloads for the alerts tests (seeded, no shared data needed)."""
from __future__ import annotations

import numpy as np
import pandas as pd

import choch
from alerts import signal_payload

TF_MS = 15 * 60_000


def candles(n: int = 400, seed: int = 1, start_ms: int = 1_779_000_000_000) -> pd.DataFrame:
    """A seeded random walk of 15m candles."""
    rng = np.random.default_rng(seed)
    close = np.cumsum(rng.normal(0, 50, n)) + 60_000
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 40, n)
    low = np.minimum(open_, close) - rng.uniform(0, 40, n)
    return pd.DataFrame({"timestamp": start_ms + np.arange(n, dtype=np.int64) * TF_MS,
                         "open": open_, "high": high, "low": low, "close": close})


DF = candles()
EVENTS = choch.scan(DF, 5, 5, timeframe_ms=TF_MS)


def payload(i: int = -1, symbol: str = "BTC/USDT", mode: str = "paper",
            confirmed_at_ms: int | None = None) -> dict:
    """The outbox payload of the i-th event, optionally re-timed to close at `confirmed_at_ms`."""
    p = signal_payload(symbol, "15m", EVENTS[i], mode, "L5R5close", DF, 5, 5)
    if confirmed_at_ms is not None:
        p["event"]["confirmed_at"] = confirmed_at_ms
    return p
