"""Small dataclasses the brokers return, the broker protocol, and trading's own errors."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

import pandas as pd

from store.orders import Direction, OrderStatus


class LiveTradingRefused(Exception):
    """Live trading was asked for without CONFIRM_LIVE_TRADING=yes."""


class PositionModeError(Exception):
    """The account is in hedge (dual-side) mode; the daemon needs one-way mode."""


@dataclass(frozen=True)
class MarketRules:
    """What the exchange accepts for one symbol: step, minimums, tick and leverage brackets."""

    symbol: str
    step: float
    min_qty: float
    min_notional: float
    tick: float
    max_market_qty: Optional[float] = None
    brackets: tuple[tuple[float, float], ...] = ()   # (notional cap, max leverage), ascending

    def max_notional(self, leverage: int) -> Optional[float]:
        """The largest position notional allowed at `leverage`, or None when unknown."""
        caps = [cap for cap, max_lev in self.brackets if max_lev >= leverage]
        return max(caps) if caps else (None if not self.brackets else 0.0)


@dataclass(frozen=True)
class OrderResult:
    """One order as the exchange reports it."""

    symbol: str
    client_id: str
    exchange_id: Optional[str]
    status: OrderStatus  # open | filled | canceled | expired | rejected
    filled: float
    average: Optional[float]
    side: Optional[str] = None       # buy | sell (protective orders: the closing side)
    trigger: Optional[float] = None  # a stop's or target's trigger price
    kind: Optional[str] = None       # stop | target for conditional orders


@dataclass(frozen=True)
class ExchangePosition:
    """An open position as the exchange reports it (one-way mode)."""

    symbol: str
    direction: Direction
    quantity: float
    entry_price: float


@dataclass(frozen=True)
class ExitFill:
    """How a position was closed: average price, quantity, realised PnL (before fees) and the
    USDT commissions of its entry and exit trades (None when unknown, e.g. paid in BNB)."""

    price: float
    quantity: float
    pnl: float
    fees: Optional[float] = None


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


def fill_price(result: OrderResult) -> Optional[float]:
    """The average price of a filled order (see filled()); None when it did not fill."""
    return result.average if filled(result) else None


def ended_unfilled(result: OrderResult) -> bool:
    """True when the order is over without any fill: nothing was opened, nothing will be."""
    return result.status in ENDED and not result.filled


# Final statuses of an order the exchange knows, other than filled.
ENDED = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


class Broker(Protocol):
    """What PositionManager needs from an exchange: the Binance adapter or the paper broker."""

    mode: str  # paper | demo | live
    slippage_bps: float  # what a market entry is expected to lose to slippage (paper only)

    async def start(self, symbols: list[str]) -> None:
        """Prepare the account for trading `symbols`."""

    def rules(self, symbol: str) -> MarketRules:
        """Trading rules of `symbol` (after start)."""

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order carrying `client_id`."""

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A closePosition STOP_MARKET (kind 'stop') or TAKE_PROFIT_MARKET ('target')."""

    async def find_order(self, symbol: str, client_id: str, conditional: bool
                         ) -> Optional[OrderResult]:
        """The order with `client_id`, or None when the exchange says it does not exist."""

    async def cancel_protective(self, symbol: str, client_id: str) -> None:
        """Cancel a conditional order (gone already is fine)."""

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting conditional order on the account."""

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions by symbol."""

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> Optional[ExitFill]:
        """The fills that closed a `direction` position opened at `since_ms`."""

    async def check(self) -> list[tuple[str, bool, str]]:
        """(name, ok, detail) lines for `main.py check`."""

    def on_candles(self, symbol: str, candles: pd.DataFrame) -> None:
        """Later candles (the paper broker triggers stops/targets on them)."""

    async def close(self) -> None:
        """Release the HTTP session."""
