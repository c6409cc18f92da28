"""Order execution: position manager, paper broker, and the venue broker from the registry."""
from __future__ import annotations

from .client_ids import client_id
from .manager import PositionManager
from .models import (
                     Broker,
                     ExchangePosition,
                     ExitFill,
                     LiveTradingRefused,
                     MarketRules,
                     OrderResult,
                     PositionModeError,
)
from .paper import PaperBroker

__all__ = ["Broker", "ExchangePosition", "ExitFill", "LiveTradingRefused", "MarketRules",
           "OrderResult", "PaperBroker", "PositionManager", "PositionModeError", "client_id"]
