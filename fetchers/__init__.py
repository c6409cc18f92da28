"""Market data: Binance fetcher, timeframe adapter, candle files."""
from __future__ import annotations

import importlib

# Imported on first use, so `fetchers.csv_files` or `fetchers.timeframes` do not pull in ccxt.
_LAZY = {"BinanceFetcher": ".binance", "TimeframeAdapter": ".adapter", "RetryPolicy": ".retry",
         "fetch_history": ".history"}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    """Resolve the public names lazily (PEP 562)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
