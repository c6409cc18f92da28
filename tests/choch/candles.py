"""Seeded synthetic candles for detector tests: coarse prices so that ties are common."""
from __future__ import annotations

import numpy as np
import pandas as pd


def random_candles(seed: int, n: int, tick: float = 1.0, gaps: bool = False) -> pd.DataFrame:
    """A random walk of valid OHLC bars on a coarse price grid (many equal highs and lows)."""
    rng = np.random.default_rng(seed)
    mid = 100 + np.cumsum(rng.normal(0, 1, n))
    q = lambda x: np.round(x / tick) * tick  # noqa: E731 - coarse grid makes ties frequent
    o = q(mid + rng.normal(0, 1, n))
    c = q(mid + rng.normal(0, 1, n))
    h = np.maximum(o, c) + q(np.abs(rng.normal(0, 1, n)))
    l = np.minimum(o, c) - q(np.abs(rng.normal(0, 1, n)))
    steps = rng.choice([1, 1, 1, 1, 2, 5], n) if gaps else np.ones(n, dtype=int)
    ts = 1_700_000_000_000 + np.cumsum(steps) * 60_000
    return pd.DataFrame({"timestamp": ts, "open": o, "high": h, "low": l, "close": c})


def frame(rows, start=0, step=60_000) -> pd.DataFrame:
    """Candles from (open, high, low, close) tuples at a regular spacing."""
    o, h, l, c = zip(*rows)
    return pd.DataFrame({"timestamp": [start + i * step for i in range(len(rows))],
                         "open": o, "high": h, "low": l, "close": c})
