"""Long candle series for the benchmarks, built from the shared real ones."""
from __future__ import annotations

import numpy as np
import pandas as pd

PRICES = ["open", "high", "low", "close"]


def chained(series: list[pd.DataFrame], bars: int, start_ms: int, step_ms: int) -> pd.DataFrame:
    """`bars` real candles: series chained (cycled as needed), each rebased to continue the last."""
    chunks, have, prev_close, k = [], 0, None, 0
    while have < bars:
        chunk = series[k % len(series)].iloc[: bars - have].copy()
        if prev_close is not None:
            # Scale prices so this chunk opens where the previous one closed: no artificial jump,
            # and the relative shape of every real candle is kept.
            chunk[PRICES] *= prev_close / chunk["open"].iat[0]
        prev_close = float(chunk["close"].iat[-1])
        chunks.append(chunk)
        have, k = have + len(chunk), k + 1
    df = pd.concat(chunks, ignore_index=True)  # RangeIndex: smc indexes its Series by position
    # One regular grid: the real gaps and mixed intervals would break the spacing.
    df.insert(0, "timestamp", start_ms + step_ms * np.arange(len(df), dtype=np.int64))
    return df
