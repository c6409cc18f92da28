"""The port: what the daemon needs of a venue, in two Protocols, and the small values crossing it.

Only these dataclasses (never raw ccxt dicts) cross the port. Quantities are in the base asset
(BTC for BTC/USDT) on every venue: a venue that counts in contracts converts at its boundary.
Symbols are our unified 'BASE/USDT'. Direction and OrderStatus are the store's value enums
(pure, no I/O), shared so that an order's state is written as the venue reported it.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from domain.candles import Candles
from domain.checks import CheckLine
from domain.trade import Direction, OrderStatus

from .venue import Venue

__all__ = ["Balance", "Direction", "ExchangePosition", "ExitFill", "LiveTradingRefused",
           "MarketData", "MarketRules", "OrderIntent", "OrderResult", "OrderStatus",
           "PositionModeError", "Trading", "VenueTrading"]


class LiveTradingRefused(Exception):
    """Live trading was asked for without CONFIRM_LIVE_TRADING=yes."""


class PositionModeError(Exception):
    """The account is in hedge (dual-side) mode; the daemon needs one-way mode."""


@dataclass(frozen=True)
class MarketRules:
    """What the venue accepts for one symbol: step, minimums, tick and leverage brackets.

    `step` and `min_qty` are in the base asset; `contract_size` is the base quantity of one
    contract on venues that count in contracts (1 elsewhere)."""

    symbol: str
    step: float
    min_qty: float
    min_notional: float
    tick: float
    max_market_qty: float | None = None
    brackets: tuple[tuple[float, float], ...] = ()   # (notional cap, max leverage), ascending
    contract_size: float = 1.0

    def max_notional(self, leverage: int) -> float | None:
        """The largest position notional allowed at `leverage`, or None when unknown."""
        caps = [cap for cap, max_lev in self.brackets if max_lev >= leverage]
        return max(caps) if caps else (None if not self.brackets else 0.0)


@dataclass(frozen=True)
class OrderResult:
    """One order as the venue reports it."""

    symbol: str
    client_id: str
    exchange_id: str | None
    status: OrderStatus  # open | filled | canceled | expired | rejected
    filled: float
    average: float | None
    side: str | None = None       # buy | sell (protective orders: the closing side)
    trigger: float | None = None  # a stop's or target's trigger price
    kind: str | None = None       # stop | target for conditional orders


@dataclass(frozen=True)
class OrderIntent:
    """An order as the daemon wrote it down before sending: what a venue that cannot find the
    order by our client id looks it up by (its own order id, or side, size, trigger and time)."""

    client_id: str
    symbol: str
    side: str | None           # buy | sell
    quantity: float | None     # base units (None: the position's size)
    created_ms: int            # written before the order was sent
    exchange_id: str | None = None  # the venue's order id, once an answer or lookup gave it
    kind: str | None = None    # stop | target for conditional orders
    trigger: float | None = None


@dataclass(frozen=True)
class ExchangePosition:
    """An open position as the venue reports it (one-way mode)."""

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
    fees: float | None = None


@dataclass(frozen=True)
class Balance:
    """The account's settlement-asset balance."""

    asset: str
    total: float
    free: float


class MarketData(Protocol):
    """The data instance: markets, server time and closed native candles of one venue."""

    venue: Venue

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        """The timeframes the venue serves itself (ccxt's names)."""

    async def start(self) -> None:
        """Build the exchange client (no request yet)."""

    async def perpetuals(self) -> dict[str, str]:
        """Our symbol -> the venue's id of every tradable perpetual (markets reloaded)."""

    async def quote_volumes(self) -> dict[str, float]:
        """Our symbol -> 24h quote volume (ranks SYMBOLS=ALL)."""

    async def server_time_ms(self) -> int:
        """The venue's clock now."""

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed candles of a native timeframe, oldest first (never the forming one)."""

    async def check(self, watched: Callable[[], Awaitable[list[str]]] | None = None
                    ) -> list[CheckLine]:
        """The `main.py check` lines of this instance (`watched`: the watch list's source)."""

    async def close(self) -> None:
        """Release the HTTP session."""

    async def __aenter__(self) -> MarketData:
        """Started (`start`) for an `async with`."""

    async def __aexit__(self, *exc: object) -> None:
        """Closed (`close`) at the end of the `async with`."""


class Trading(Protocol):
    """What PositionManager needs of a venue (or of the paper broker)."""

    mode: str  # paper | demo | live
    slippage_bps: float  # what a market entry is expected to lose to slippage (paper only)
    client_id_room: int  # characters a client id may take on the venue (after its prefix)
    conditional_ids: bool  # the venue keeps our client id on stops and targets too

    async def start(self, symbols: list[str]) -> None:
        """Prepare the account for `symbols`: position mode, margin mode, leverage, rules."""

    def rules(self, symbol: str) -> MarketRules:
        """Trading rules of `symbol` (after start)."""

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order carrying `client_id` (deterministic: never blindly retried)."""

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """The position's stop (kind 'stop') or take-profit ('target') on the venue: attached
        to the position where the venue supports it, else a reduce-only conditional order."""

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """The order with `client_id`, or None when the venue says it does not exist (`intent`
        is what was written before sending, for venues that find orders another way)."""

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a stop or target (gone already is fine); `exchange_id` is the venue's id of
        it when known (venues that do not keep our id on conditional orders need it)."""

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting stop and target on the account."""

    async def recent_entries(self, symbol: str) -> list[OrderResult]:
        """The symbol's recently filled market orders, newest first: where stops carry no
        client id, the entry's id is what proves a position the daemon's."""

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions by symbol."""

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """The fills (price, PnL, fees) that closed a `direction` position opened at since_ms."""

    async def check(self) -> list[CheckLine]:
        """(name, ok, detail) lines for `main.py check`."""

    def on_candles(self, symbol: str, candles: Candles | pd.DataFrame) -> None:
        """Later candles (the paper broker triggers stops/targets on them)."""

    async def close(self) -> None:
        """Release the HTTP session."""


class VenueTrading(Trading, Protocol):
    """A real venue's trading instance: the Trading port plus what only a venue has."""

    venue: Venue

    async def balance(self) -> Balance:
        """The settlement asset's total and free balance."""
