"""Build a venue's market-data or trading instance by name (imports only that venue's code)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .options import MarketDataConfig, TradingConfig
from .venue import Venue

if TYPE_CHECKING:  # a venue's module imports its own base: the replay venue's is not ccxt's
    from .ccxt_trading import CcxtTrading
    from .port import MarketData


def _client(venue: Venue) -> Any:
    """The venue's client module (exchanges.<venue>_client)."""
    return importlib.import_module(venue.client_module)


def market_data(config: MarketDataConfig, venue: Venue, **options: Any) -> MarketData:
    """The data instance of `venue`; no request is sent yet."""
    instance: MarketData = _client(venue).MarketData(config, venue, **options)
    return instance


def trading(config: TradingConfig, venue: Venue, **options: Any) -> CcxtTrading:
    """The trading instance of `venue`; no request is sent yet."""
    instance: CcxtTrading = _client(venue).Trading(config, venue, **options)
    return instance
