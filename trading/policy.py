"""What the position manager is told: the trade rules and limits, as one typed value."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TradingPolicy:
    """Which signals to trade, how big, what to do on the opposite one, and the daily limits."""

    venue: str                              # the trading venue: positions and orders are its
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    trade_on: tuple[str, ...] = ("CHOCH",)
    on_opposite: str = "reverse"            # reverse | close | ignore
    risk_reward: float = 2.0
    position_size: float = 100.0            # USDT of margin per position
    leverage: int = 20
    max_open_positions: int = 3
    max_daily_trades: int = 10
    max_daily_loss: float = 0.0             # USDT of realised loss per UTC day; 0 = no limit
