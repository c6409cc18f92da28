"""Bybit behaviour that the generic ccxt classes do not cover.

Market data needs nothing of its own: ccxt's fetch_ohlcv pages /v5/market/kline and the
forming candle is dropped by the venue's clock. Trading differs where Bybit or ccxt does:
- a lookup by client id: ccxt's fetch_order(None, symbol, {orderLinkId}) sends orderId=None,
  which Bybit matches first, so it finds nothing; the open-order list by orderLinkId is asked
  instead, then the order history, since /v5/order/realtime may not hold closed orders after a
  Bybit service restart;
- a duplicate orderLinkId (110072), even of a filled order, is a refusal by reason
  DUPLICATE_CLIENT_ID: the order desk looks the id up (ours, or another daemon's entry);
- stops and targets are reduce-only conditional market orders (triggerDirection says which way
  the price must cross), closeOnTrigger so that margin held elsewhere never blocks them;
- a refused stop or target answers 10001 (ccxt: BadRequest) or 110092/110093: read by code
  as 'would trigger at once';
- leverage tiers come per symbol: ccxt's fetch_leverage_tiers pages every linear risk limit;
- the position mode cannot be read through ccxt: one-way is asked for at start instead.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.checks import CheckLine

from .bybit import STOP_REFUSED_CODES
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .errors import Rejected
from .port import OrderIntent, OrderResult
from .venue import Reason

# Bybit's triggerDirection for a closing order: a long's stop falls to its trigger, its target
# rises to it; a short's the other way round.
_DIRECTION = {("sell", "stop"): "descending", ("sell", "target"): "ascending",
              ("buy", "stop"): "ascending", ("buy", "target"): "descending"}
ONE_WAY = 0  # positionIdx of a one-way position


class BybitMarketData(CcxtMarketData):
    """Bybit candles, time and universe over ccxt's unified methods (nothing differs)."""


class BybitTrading(CcxtTrading):
    """Bybit USDT perpetuals: lookups over open orders and history, conditional stops."""

    one_way_where = " (Derivatives > Position Mode)"

    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        params = super()._entry_params(client_id, reduce_only)
        params["positionIdx"] = ONE_WAY
        return params

    @staticmethod
    def _conditional_params(side: str, kind: str, trigger: float, client_id: str
                            ) -> dict[str, Any]:
        """create_order params of a reduce-only conditional stop or target closing by `side`."""
        return {"triggerPrice": trigger, "triggerDirection": _DIRECTION[(side, kind)],
                "triggerBy": "MarkPrice", "reduceOnly": True, "closeOnTrigger": True,
                "positionIdx": ONE_WAY, "clientOrderId": client_id}

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A reduce-only conditional market order sized to the position, closing at `trigger`."""
        amount = await self._protective_amount(symbol)
        if amount is None:
            raise Rejected(f"no {symbol} position to protect", reason=Reason.REDUCE_ONLY_REJECTED)
        params = self._conditional_params(side, kind, trigger, client_id)

        try:
            o = await self._call(lambda: self.exchange.create_order(
                self.venue.ccxt_symbol(symbol), "market", side, amount, None, params),
                read=False)
        except Rejected as e:
            if e.code in STOP_REFUSED_CODES:
                raise Rejected(str(e), e.code, e.retry_after_s,
                               Reason.WOULD_TRIGGER_IMMEDIATELY) from e
            raise
        return self._order(o, symbol)

    def _lookup_params(self, client_id: str, conditional: bool) -> dict[str, Any]:
        # The orderLinkId alone: unique on the account, whatever the order's kind.
        return {"orderLinkId": client_id}

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """The order holding `client_id`: in the open-order list (which also returns a closed
        one when asked by id), else in the order history; None when neither has it."""
        ccxt_symbol = self.venue.ccxt_symbol(symbol)
        params = self._lookup_params(client_id, conditional)
        for fetch in (self.exchange.fetch_open_orders,
                      self.exchange.fetch_canceled_and_closed_orders):
            for o in await self._call(self._by_link_id(fetch, ccxt_symbol, params), read=True):
                if o.get("clientOrderId") == client_id:
                    return self._order(o, symbol)
        return None

    @staticmethod
    def _by_link_id(fetch: Callable[..., Awaitable[list[dict[str, Any]]]], ccxt_symbol: str,
                    params: dict[str, Any]) -> Callable[[], Awaitable[list[dict[str, Any]]]]:
        """One order-list call, ready to be (re)tried."""
        return lambda: fetch(ccxt_symbol, None, None, dict(params))

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting conditional order on the account, over all pages (50 a page)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True, "paginate": True}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]

    async def _leverage_tiers(self, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Each symbol's risk limits, one request per symbol."""
        return await self._tiers_one_by_one(symbols)

    async def _position_mode_line(self) -> CheckLine:
        return CheckLine("position mode", True, "one-way asked for at start (Bybit does not "
                                                "report it through ccxt)")


MarketData = BybitMarketData
Trading = BybitTrading
