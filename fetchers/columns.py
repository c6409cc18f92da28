"""The columns of a candle frame: one definition for every reader, builder and writer of candles.

Defined in exchanges.candles (pure pandas: `scan --csv` reads candle files through this without
loading the exchange code, since the exchanges package imports nothing on its own).
"""
from __future__ import annotations

from exchanges.candles import COLUMNS, empty_frame

__all__ = ["COLUMNS", "empty_frame"]
