"""The columns of a candle frame: one definition for every reader, builder and writer of candles.

No ccxt here: `scan --csv` reads candle files through this without loading the exchange code.
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def empty_frame() -> pd.DataFrame:
    """A zero-row candle frame with the right dtypes (timestamp int64 ms, the rest float64)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "timestamp" else "float64")
                         for c in COLUMNS})
