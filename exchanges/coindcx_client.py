"""CoinDCX Futures' MarketData and Trading, as exchanges/factory.py imports them.

Both implement the port's Protocols themselves over CoinDCX's own HTTP API (aiohttp), since
ccxt does not speak CoinDCX futures: exchanges/coindcx_data.py (candles, clock, pairs) and
exchanges/coindcx_trading.py (orders without client ids, whole-position TP/SL).
"""
from __future__ import annotations

from .coindcx_data import MarketData
from .coindcx_trading import Trading

__all__ = ["MarketData", "Trading"]
