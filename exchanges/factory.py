"""Build a venue's market-data or trading instance by name (imports only that venue's code)."""
from __future__ import annotations

import importlib
from typing import Any, Optional

from config import Settings

from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .registry import get_venue
from .venue import Venue


def _client(venue: Venue) -> Any:
    """The venue's client module (exchanges.<venue>_client)."""
    return importlib.import_module(venue.client_module)


def market_data(settings: Settings, venue: Optional[Venue] = None,
                **options: Any) -> CcxtMarketData:
    """The data instance of `venue` (default: DATA_EXCHANGE); no request is sent yet."""
    venue = venue or get_venue(settings.data_exchange)
    instance: CcxtMarketData = _client(venue).MarketData(settings, venue, **options)
    return instance


def trading(settings: Settings, venue: Optional[Venue] = None, **options: Any) -> CcxtTrading:
    """The trading instance of `venue` (default: TRADING_EXCHANGE); no request is sent yet."""
    venue = venue or get_venue(settings.trading_exchange)
    instance: CcxtTrading = _client(venue).Trading(settings, venue, **options)
    return instance
