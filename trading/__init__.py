"""Order execution: Binance futures adapter, position manager, paper broker."""
from __future__ import annotations

from config import Settings
from store import Store

from .binance_adapter import BinanceFuturesAdapter
from .client_ids import client_id
from .manager import PositionManager
from .models import (Broker, ExchangePosition, ExitFill, LiveTradingRefused, MarketRules,
                     OrderResult, PositionModeError)
from .paper import PaperBroker


def make_broker(settings: Settings, store: Store, **adapter_options) -> Broker:
    """The paper broker when ENABLE_TRADING=0, else the Binance adapter (demo or confirmed
    live)."""
    if not settings.enable_trading:
        return PaperBroker(store, fee_rate=settings.paper_fee_rate,
                           slippage_bps=settings.paper_slippage_bps)
    return BinanceFuturesAdapter(settings, **adapter_options)


__all__ = ["BinanceFuturesAdapter", "Broker", "ExchangePosition", "ExitFill",
           "LiveTradingRefused", "MarketRules", "OrderResult", "PaperBroker", "PositionManager",
           "PositionModeError", "client_id", "make_broker"]
