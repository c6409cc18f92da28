"""PaperBroker: an in-process simulated exchange. Fills at the last price, stops/targets on candles."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Optional

import pandas as pd
import structlog

from exchanges.errors import PermanentExchangeError
from store import Store

from .ledger import position_intents
from .models import (Direction, ExchangePosition, ExitFill, MarketRules, OrderResult, OrderStatus,
                     direction_of, side_for)

log = structlog.get_logger(__name__)

# Paper trading has no exchange filters; these keep sizes sensible and the code paths identical.
PAPER_RULES = dict(step=0.001, min_qty=0.001, min_notional=5.0, tick=0.01)


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

    def __init__(self, store: Store, *, step: float | None = None) -> None:
        self.store = store
        self.prices: dict[str, float] = {}
        self.last_ts: dict[str, int] = {}
        self.book: dict[str, ExchangePosition] = {}
        self.conditionals: dict[str, _Conditional] = {}
        self.orders: dict[str, OrderResult] = {}
        self.exits: dict[str, list[tuple[str, float, float, float]]] = {}  # side, price, qty, pnl
        self._ids = itertools.count(1)
        self._rules = {**PAPER_RULES, **({"step": step} if step else {})}

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
        return MarketRules(symbol, **self._rules)

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """Fill at once at the last candle close seen (or `ref_price` before any candle)."""
        if client_id in self.orders:  # the same id twice is the same order, as on Binance
            return self.orders[client_id]
        price = self.prices.get(symbol) or ref_price
        if price is None:
            raise PermanentExchangeError(f"paper broker has no price for {symbol}")
        self.prices.setdefault(symbol, price)
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
            pnl = (price - pos.entry_price) * closed * pos.direction.sign
            self.exits.setdefault(symbol, []).append((side, price, closed, pnl))
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

    async def find_order(self, symbol: str, client_id: str, conditional: bool
                         ) -> Optional[OrderResult]:
        """An order by client id, or None."""
        if conditional:
            c = self.conditionals.get(client_id)
            return OrderResult(symbol, client_id, None, c.status, 0.0, None) if c else None
        return self.orders.get(client_id)

    async def cancel_protective(self, symbol: str, client_id: str) -> None:
        """Cancel a waiting stop/target."""
        c = self.conditionals.get(client_id)
        if c and c.status == OrderStatus.OPEN:
            c.status = OrderStatus.CANCELED

    async def open_protective(self) -> list[OrderResult]:
        """Waiting stops and targets."""
        return [OrderResult(c.symbol, c.client_id, None, OrderStatus.OPEN, 0.0, None, c.side,
                            c.trigger, c.kind)
                for c in self.conditionals.values() if c.status == OrderStatus.OPEN]

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """The simulated book."""
        return dict(self.book)

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> Optional[ExitFill]:
        """The simulated exit of the last position on `symbol`."""
        exits = self.exits.pop(symbol, [])
        if not exits:
            return None
        qty = sum(e[2] for e in exits)
        return ExitFill(sum(e[1] * e[2] for e in exits) / qty, qty, sum(e[3] for e in exits))

    async def check(self) -> list[tuple[str, bool, str]]:
        """Nothing to authenticate."""
        return [("trading", True, "paper broker (ENABLE_TRADING=0): no exchange account used")]

    def on_candles(self, symbol: str, candles: pd.DataFrame) -> None:
        """Trigger stops/targets on candles newer than the last one seen, then move the price.

        A stop and a target inside the same candle count as the stop (the conservative reading);
        a candle opening beyond a level fills at its open (a gap), as a market stop would.
        """
        last = self.last_ts.get(symbol)
        for row in candles.itertuples(index=False):
            ts = int(row.timestamp)
            if last is not None and ts <= last:
                continue
            waiting = [c for c in self.conditionals.values()
                       if c.symbol == symbol and c.status == OrderStatus.OPEN]
            pos = self.book.get(symbol)
            if pos and waiting:
                for c in sorted(waiting, key=lambda c: c.kind != "stop"):
                    price = self._touch(c, pos.direction, row)
                    if price is not None:
                        c.status = OrderStatus.FILLED
                        self._fill(symbol, c.side, pos.quantity, price, reduce_only=True)
                        log.info("paper_exit", symbol=symbol, kind=c.kind, price=price)
                        break
            self.prices[symbol] = float(row.close)
            last = ts
        if last is not None:
            self.last_ts[symbol] = last

    @staticmethod
    def _touch(c: _Conditional, direction: Direction, row) -> Optional[float]:
        """The fill price when candle `row` reaches the level, else None."""
        o, h, low = float(row.open), float(row.high), float(row.low)
        # A long's stop and a short's target are reached by a falling price.
        falls = (c.kind == "stop") == (direction == Direction.LONG)
        if falls and low <= c.trigger:
            return min(o, c.trigger)
        if not falls and h >= c.trigger:
            return max(o, c.trigger)
        return None

    async def close(self) -> None:
        """Nothing to release."""
