"""PaperBroker: an in-process simulated exchange on the backtest's trade rules (trading/rules.py).

Market orders fill at the last candle close worsened by slippage; stops and targets are decided
on later candles by the same function as the backtest (stop first, inclusive, a gap through the
stop exits at the open, a target fills at its price); fees and PnL come from the same formulas.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import pandas as pd
import structlog

from domain.candles import Candles
from domain.checks import CheckLine
from exchanges.errors import PermanentExchangeError
from store import Store

from . import rules as trade_rules
from .ledger import position_intents
from .models import (
    Direction,
    ExchangePosition,
    ExitFill,
    MarketRules,
    OrderIntent,
    OrderResult,
    OrderStatus,
    direction_of,
    side_for,
)

log = structlog.get_logger(__name__)

# Paper trading has no exchange filters; these keep sizes sensible and the code paths identical.
# The tick is the finest any Binance USD-M symbol uses, so a stop or target is never moved by
# more than float noise (a 0.01 tick would move a sub-dollar coin's stop past its entry).
PAPER_RULES = MarketRules("", step=0.001, min_qty=0.001, min_notional=5.0, tick=1e-8)


@dataclass
class _Conditional:
    symbol: str
    side: str
    kind: str            # stop | target
    trigger: float
    client_id: str
    status: OrderStatus = OrderStatus.OPEN


class PaperBroker:
    """Simulated fills: market orders at the last known price; stops/targets on later candles.

    Positions and PnL live in the state DB (written by PositionManager); on start the book is
    rebuilt from the open paper positions there, so a restart loses nothing.
    """

    mode = "paper"

    def __init__(self, store: Store, *, step: float | None = None, fee_rate: float = 0.0,
                 slippage_bps: float = 0.0) -> None:
        self.store = store
        self.fee_rate, self.slippage_bps = fee_rate, slippage_bps
        self.client_id_room = 32  # no venue: the ids' own length
        self.conditional_ids = True
        self.prices: dict[str, float] = {}
        self.last_ts: dict[str, int] = {}
        self.book: dict[str, ExchangePosition] = {}
        self.conditionals: dict[str, _Conditional] = {}
        self.orders: dict[str, OrderResult] = {}
        # side, price, qty, pnl before fees, fees
        self.exits: dict[str, list[tuple[str, float, float, float, float]]] = {}
        self._ids = itertools.count(1)
        self._rules = replace(PAPER_RULES, step=step) if step else PAPER_RULES

    async def start(self, symbols: list[str]) -> None:
        """Rebuild the book and the protective orders from the open paper positions."""
        for p in self.store.open_positions("paper"):
            self.book[p.symbol] = ExchangePosition(p.symbol, p.direction, p.quantity,
                                                   p.entry_price)
            self.prices.setdefault(p.symbol, p.entry_price)
            close_side = side_for(p.direction, closing=True)
            for kind, level in (("stop", p.stop), ("target", p.target)):
                # The order the manager last placed keeps its id: a lookup must find it here.
                intents = [i for i in position_intents(self.store, p, kind)
                           if i.status == OrderStatus.OPEN]
                if level is not None and intents:
                    cid = intents[-1].client_id
                    self.conditionals[cid] = _Conditional(p.symbol, close_side, kind, level, cid)

    def rules(self, symbol: str) -> MarketRules:
        """Permissive, fixed rules (no exchange to ask)."""
        return replace(self._rules, symbol=symbol)

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """Fill at once at the last candle close seen (or `ref_price` before any candle), worsened
        by the slippage: a buy pays more, a sell gets less (the backtest's entry rule)."""
        if client_id in self.orders:  # the same id twice is the same order, as on Binance
            return self.orders[client_id]
        last = self.prices.get(symbol) or ref_price
        if last is None:
            raise PermanentExchangeError(f"paper broker has no price for {symbol}")
        self.prices.setdefault(symbol, last)
        price = trade_rules.entry_price(last, direction_of(side), self.slippage_bps)
        self._fill(symbol, side, quantity, price, reduce_only)
        result = OrderResult(symbol, client_id, f"paper-{next(self._ids)}", OrderStatus.FILLED,
                             quantity, price)
        self.orders[client_id] = result
        return result

    def _fill(self, symbol: str, side: str, quantity: float, price: float,
              reduce_only: bool) -> None:
        pos = self.book.get(symbol)
        direction = direction_of(side)
        if pos and pos.direction != direction:
            closed = min(pos.quantity, quantity)
            held = pos.direction
            pnl = trade_rules.pnl(held, pos.entry_price, price, closed, 0.0)
            fee = trade_rules.fees(self.fee_rate, pos.entry_price, price, closed)
            self.exits.setdefault(symbol, []).append((side, price, closed, pnl, fee))
            rest = pos.quantity - closed
            self.book.pop(symbol)
            if rest > 1e-12:
                self.book[symbol] = ExchangePosition(symbol, pos.direction, rest, pos.entry_price)
            elif not reduce_only and quantity - closed > 1e-12:
                self.book[symbol] = ExchangePosition(symbol, direction, quantity - closed, price)
        elif not reduce_only:
            if pos:
                total = pos.quantity + quantity
                entry = (pos.entry_price * pos.quantity + price * quantity) / total
                self.book[symbol] = ExchangePosition(symbol, direction, total, entry)
            else:
                self.book[symbol] = ExchangePosition(symbol, direction, quantity, price)

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """Remember a stop/target; it fills when a later candle reaches it."""
        self.conditionals[client_id] = _Conditional(symbol, side, kind, trigger, client_id)
        return OrderResult(symbol, client_id, f"paper-{next(self._ids)}", OrderStatus.OPEN, 0.0,
                           None)

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """An order by client id, or None."""
        if conditional:
            c = self.conditionals.get(client_id)
            return OrderResult(symbol, client_id, None, c.status, 0.0, None) if c else None
        return self.orders.get(client_id)

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a waiting stop/target."""
        c = self.conditionals.get(client_id)
        if c and c.status == OrderStatus.OPEN:
            c.status = OrderStatus.CANCELED

    async def open_protective(self) -> list[OrderResult]:
        """Waiting stops and targets."""
        return [OrderResult(c.symbol, c.client_id, None, OrderStatus.OPEN, 0.0, None, c.side,
                            c.trigger, c.kind)
                for c in self.conditionals.values() if c.status == OrderStatus.OPEN]

    async def recent_entries(self, symbol: str) -> list[OrderResult]:
        """The symbol's filled orders, newest first."""
        return [o for o in reversed(self.orders.values())
                if o.symbol == symbol and o.status == OrderStatus.FILLED]

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """The simulated book."""
        return dict(self.book)

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """The simulated exit of the last position on `symbol`, with its fees (both legs)."""
        exits = self.exits.pop(symbol, [])
        if not exits:
            return None
        qty = sum(e[2] for e in exits)
        if len(exits) == 1:  # one fill: its own figures, not an average that could round
            _, price, qty, pnl, fee = exits[0]
            return ExitFill(price, qty, pnl, fee)
        return ExitFill(sum(e[1] * e[2] for e in exits) / qty, qty, sum(e[3] for e in exits),
                        sum(e[4] for e in exits))

    async def check(self) -> list[CheckLine]:
        """Nothing to authenticate."""
        return [CheckLine("trading", True,
                          "paper broker (ENABLE_TRADING=0): no exchange account used")]

    def on_candles(self, symbol: str, candles: Candles | pd.DataFrame) -> None:
        """Trigger stops/targets on candles newer than the last one seen, then move the price.

        The backtest's exit rule decides (trading.rules.exit_on_candle): stop first (a candle
        touching both exits at the stop), inclusive comparisons, a gap through the stop exits at
        the open, stop exits slipped, a target fills exactly at its price.
        """
        last = self.last_ts.get(symbol)
        for ts, o, h, lo, c, _ in Candles.of(candles).tuples():
            if last is not None and ts <= last:
                continue
            self._exit_on(symbol, o, h, lo)
            self.prices[symbol] = c
            last = ts
        if last is not None:
            self.last_ts[symbol] = last

    def _exit_on(self, symbol: str, open_: float, high: float, low: float) -> None:
        """Fill the stop or target that candle `row` reaches, if any."""
        pos = self.book.get(symbol)
        if pos is None:
            return
        levels = self._levels(symbol, pos)
        if levels is None:
            return
        position, orders = levels
        hit = trade_rules.exit_on_candle(position, open_, high, low, self.slippage_bps)
        if hit is None:
            return
        kind, price = hit
        order = orders[kind]
        order.status = OrderStatus.FILLED
        self._fill(symbol, order.side, pos.quantity, price, reduce_only=True)
        log.info("paper_exit", symbol=symbol, kind=kind, price=price)

    def _levels(self, symbol: str, pos: ExchangePosition
                ) -> tuple[trade_rules.Position, dict[str, _Conditional]] | None:
        """The position as the trade rules see it, and the waiting order behind each level.

        A missing level never triggers; of several waiting orders of one kind the one a moving
        price reaches first counts, as on an exchange."""
        long = pos.direction == Direction.LONG
        first = {"stop": max if long else min, "target": min if long else max}
        orders: dict[str, _Conditional] = {}
        for c in self.conditionals.values():
            if c.symbol == symbol and c.status == OrderStatus.OPEN and c.kind in first:
                held = orders.get(c.kind)
                if held is None or first[c.kind](c.trigger, held.trigger) != held.trigger:
                    orders[c.kind] = c
        if not orders:
            return None
        never_low, never_high = -math.inf, math.inf
        stop = orders["stop"].trigger if "stop" in orders else (never_low if long else never_high)
        target = orders["target"].trigger if "target" in orders else (
            never_high if long else never_low)
        return trade_rules.Position(pos.direction, 0, 0, pos.entry_price, stop, target,
                                    pos.quantity), orders

    async def close(self) -> None:
        """Nothing to release."""
