"""Order helpers over the port's values; the port's names re-exported for trading's callers."""
from __future__ import annotations

from domain.trade import Direction, OrderStatus
from exchanges.port import (
    Balance,
    ExchangePosition,
    ExitFill,
    LiveTradingRefused,
    MarketRules,
    OrderIntent,
    OrderResult,
    PositionModeError,
    Trading,
)

# The broker PositionManager trades through: a venue's trading instance or the paper broker.
Broker = Trading

__all__ = ["Balance", "Broker", "Direction", "ENDED", "ExchangePosition", "ExitFill",
           "LiveTradingRefused", "MarketRules", "OrderIntent", "OrderResult", "OrderStatus",
           "PositionModeError", "direction_of", "ended_unfilled", "filled", "side_for"]


def side_for(direction: Direction, closing: bool = False) -> str:
    """'buy' to open a long or close a short, 'sell' otherwise."""
    return "buy" if (direction == Direction.LONG) != closing else "sell"


def direction_of(side: str) -> Direction:
    """The position a 'buy' opens (long) or a 'sell' opens (short)."""
    return Direction.LONG if side == "buy" else Direction.SHORT


def filled(result: OrderResult) -> bool:
    """True when the order filled at a known price, wholly or in part before it ended."""
    if result.status == OrderStatus.FILLED:
        return bool(result.average)
    return result.status in ENDED and result.filled > 0 and bool(result.average)


def fill_price(result: OrderResult) -> float | None:
    """The average price of a filled order (see filled()); None when it did not fill."""
    return result.average if filled(result) else None


def ended_unfilled(result: OrderResult) -> bool:
    """True when the order is over without any fill: nothing was opened, nothing will be."""
    return result.status in ENDED and not result.filled


# Final statuses of an order the exchange knows, other than filled.
ENDED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
