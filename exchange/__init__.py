"""What both Binance instances (data and trading) share: endpoint overrides and error classes."""
from .ccxt_lean import ccxt, ccxt_async  # noqa: F401 - first, before anything imports ccxt
from .errors import ExchangeUnavailable, PermanentExchangeError, TransientExchangeError, translate
from .urls import override_hosts

__all__ = ["ExchangeUnavailable", "PermanentExchangeError", "TransientExchangeError",
           "override_hosts", "translate"]
