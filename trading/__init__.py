"""Order execution: position manager, paper broker, and the venue broker from the registry."""
from __future__ import annotations

from typing import Any

from config import Settings
from store import Store

from .client_ids import client_id
from .manager import PositionManager
from .models import (Broker, ExchangePosition, ExitFill, LiveTradingRefused, MarketRules,
                     OrderResult, PositionModeError)
from .paper import PaperBroker


def make_broker(settings: Settings, store: Store, **adapter_options: Any) -> Broker:
    """The paper broker when ENABLE_TRADING=0, else TRADING_EXCHANGE's trading instance (demo,
    or confirmed live)."""
    if not settings.enable_trading:
        return PaperBroker(store, fee_rate=settings.paper_fee_rate,
                           slippage_bps=settings.paper_slippage_bps)
    from exchanges import factory  # ccxt only when a venue is traded on

    return factory.trading(settings, **adapter_options)


__all__ = ["Broker", "ExchangePosition", "ExitFill", "LiveTradingRefused", "MarketRules",
           "OrderResult", "PaperBroker", "PositionManager", "PositionModeError", "client_id",
           "make_broker"]
