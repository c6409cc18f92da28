"""BingX USDT-M perpetual swaps over the generic classes: what ccxt's unified methods leave to the
caller.

- candles: ccxt sends startTime = since - 1; a page's start goes on the grid first, so its
  first row is the candle opening there (BingX's bound read inclusively or not);
- markets: ccxt also loads spot and coin-M markets outside its sandbox; only the USDT-M swap
  contracts are asked for (one request, the same in demo and live);
- ccxt sends the client id as `clientOrderID`; the documented field `clientOrderId` is sent
  (BingX stores it lower-cased: our ids already are);
- every order is one-way: positionSide BOTH (ccxt's default without `hedged`), reduceOnly on
  closes; a hedge-mode account is refused at start;
- stops and targets are reduce-only STOP_MARKET / TAKE_PROFIT_MARKET orders of the position's
  size, triggered by the mark price. BingX keeps no client id on them: they are found and
  cancelled by BingX's order id recorded at placement (the base class) and read back nameless;
  after a lost state DB, the position's entry (GET /trade/allOrders, its id read again by
  orderId where the listing leaves it out) is what proves the position the daemon's;
- pending stops (or targets) may not add up to more than the position: placing one first
  cancels the waiting ones of the same kind and side on the symbol (replace = cancel first), so
  an adopted position, or a re-placed stop, never fails on a stop already covering it;
- lookups by client id go without `orderId` (ccxt would send the text 'None'); no `trigger`
  parameter is sent (BingX's order endpoints take none);
- positions: one-way rows say positionSide BOTH with a signed positionAmt (LONG/SHORT read as
  well);
- 100421 (stale timestamp, ccxt's BadSymbol) is a clock error: resynced and resent once;
- exit fills: BingX's fill rows carry no side, so the exit is recorded at its order's price.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import Any

import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from .bingx import ONE_WAY, STALE_TIMESTAMP, kind_of, swap_id
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import RECENT_ORDERS, CcxtTrading
from .errors import (
    PermanentExchangeError,
    TransientExchangeError,
    reason_of,
    venue_code,
)
from .ohlcv import Rows
from .port import Direction, ExchangePosition, ExitFill, OrderResult, OrderStatus
from .tagging import with_retry_after
from .venue import Reason

log = structlog.get_logger(__name__)

HEDGE_WHERE = " (Perpetual Futures > Preferences > Position Mode: One-way)"
NO_CURRENCIES = {"fetchCurrencies": False}  # load_markets would read the private coin list


@cache
def swap_client(ccxt_id: str) -> type:
    """ccxt's BingX class loading USDT-M swaps only and sending the documented clientOrderId."""
    base: Any = with_retry_after(ccxt_id)

    class SwapOnly(base):
        async def fetch_markets(self, params: Any = None) -> Any:
            return await self.fetch_swap_markets(params or {})

        def create_order_request(self, *args: Any, **kwargs: Any) -> Any:
            request = super().create_order_request(*args, **kwargs)
            if "clientOrderID" in request:
                request["clientOrderId"] = request.pop("clientOrderID")
            return request

    SwapOnly.__name__ = SwapOnly.__qualname__ = base.__name__
    return SwapOnly


MARKET_DATA_PER_S = 20  # public REST requests a second per IP (BingX's rate-limit docs)


class BingxMarketData(CcxtMarketData):
    """BingX swap candles and tickers from the USDT-M contracts only."""

    def _client_class(self) -> type:
        return swap_client(self.venue.ccxt_id)

    def _client_config(self) -> dict[str, Any]:
        # BingX documents 20 market-data requests a second per IP; ccxt paces 10.
        return {**super()._client_config(), "has": NO_CURRENCIES,
                "rateLimit": 1000 / MARKET_DATA_PER_S}

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        """ccxt sends startTime = since - 1: `since` goes on the grid first, so the first row
        is the candle opening at it whether BingX reads startTime inclusively or not."""
        if since is not None:
            since += (-since) % timeframe_ms(timeframe)
        return await super()._rows(symbol, timeframe, since=since, until=until, limit=limit)


class BingxTrading(CcxtTrading):
    """BingX USDT-M swaps: one-way orders, nameless stops found by BingX's order id."""

    fills_in_answer = False  # the create answer holds only the ids

    one_way_where = HEDGE_WHERE

    def _client_class(self) -> type:
        return swap_client(self.venue.ccxt_id)

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        return {**super()._client_config(timeout_s, rate_limit), "has": NO_CURRENCIES}

    def _is_clock_error(self, error: Exception) -> bool:
        """ccxt's InvalidNonce, or 100421 (which ccxt raises as BadSymbol)."""
        return super()._is_clock_error(error) or \
            venue_code(error, self.venue.error_code_keys) == STALE_TIMESTAMP

    async def _prepare(self, symbol: str) -> None:
        """Margin mode, then the one-way (BOTH) leverage; 'already so' counts as success."""
        s = self.venue.ccxt_symbol(symbol)
        mode, leverage = self.config.margin_mode, self.config.leverage
        try:
            await self._unless_unchanged(lambda: self.exchange.set_margin_mode(mode, s))
        except PermanentExchangeError as e:
            # BingX keeps the mode while the contract has a position or open orders.
            raise PermanentExchangeError(
                f"{self.venue.label} refused {mode} margin on {swap_id(symbol)} ({e}); close "
                f"its position and orders, or set MARGIN_MODE to the mode it has, and restart",
                e.code) from e
        await self._unless_unchanged(lambda: self.exchange.set_leverage(
            leverage, s, {"side": ONE_WAY}))
        log.info("symbol_prepared", venue=self.venue.name, symbol=symbol, margin_mode=mode,
                 leverage=leverage)

    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        params = super()._entry_params(client_id, reduce_only)
        params["positionSide"] = ONE_WAY
        return params

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        """A reduce-only STOP_MARKET / TAKE_PROFIT_MARKET on the mark price; no client id (BingX
        keeps it on LIMIT/MARKET orders only)."""
        level = "stopLossPrice" if kind == "stop" else "takeProfitPrice"
        return {level: trigger, "reduceOnly": True, "positionSide": ONE_WAY,
                "workingType": "MARK_PRICE"}

    async def _protective_amount(self, symbol: str) -> float | None:
        held = (await self.positions([symbol])).get(symbol)
        return held.quantity if held else None

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """Cancel the waiting orders of this kind and side on the symbol (pending stops may not
        exceed the position), then place; the answer names only the order."""
        for o in await self.open_protective():
            if o.symbol == symbol and o.kind == kind and o.side == side and o.exchange_id:
                log.warning("protective_replaced", symbol=symbol, kind=kind,
                            order_id=o.exchange_id, trigger=o.trigger)
                await self._cancel(o.exchange_id, symbol)
        placed = await super().protective_order(symbol, side, kind, trigger, client_id)
        return dataclasses.replace(placed, side=side, kind=kind, trigger=trigger)

    async def _fetch_order(self, order_id: str | None, symbol: str,
                           params: dict[str, Any]) -> OrderResult | None:
        """GET /trade/order by orderId, or by clientOrderId alone; None when BingX says it does
        not exist."""
        request: dict[str, Any] = {"symbol": swap_id(symbol)}
        if order_id is not None:
            request["orderId"] = order_id
        elif params.get("clientOrderId"):
            request["clientOrderId"] = params["clientOrderId"]
        try:
            raw = await self._call(lambda: self.exchange.swapV2PrivateGetTradeOrder(request),
                                   read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is Reason.NOT_FOUND:
                return None
            raise
        data = raw.get("data") or {}
        order = data.get("order", data) if isinstance(data, Mapping) else {}
        if not order:
            return None
        market = self.exchange.market(self.venue.ccxt_symbol(symbol))
        return self._order(self.exchange.parse_order(order, market), symbol)

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a stop or target by BingX's order id; already gone is fine."""
        if not exchange_id:
            raise TransientExchangeError(f"{client_id}: no venue order id to cancel it by")
        await self._cancel(exchange_id, symbol)

    async def _cancel(self, order_id: str, symbol: str) -> None:
        try:
            await self._call(lambda: self.exchange.cancel_order(
                order_id, self.venue.ccxt_symbol(symbol)), read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is not Reason.NOT_FOUND:
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting stop and target of the account (one openOrders request)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(None), read=True)
        out = [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]
        return [o for o in out if o.kind]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        return kind_of((o.get("info") or {}).get("type"))

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        """Our OrderResult; a stop or target is nameless (BingX keeps no client id on it, and
        none is made up here: the trading layer names it by the venue id it recorded)."""
        result = super()._order(o, symbol)
        return dataclasses.replace(result, client_id="") if result.kind else result

    async def recent_entries(self, symbol: str) -> list[OrderResult]:
        """The symbol's last filled orders, newest first (GET /trade/allOrders, whose `limit`
        ccxt does not send); the newest of each side read again by its id when the listing
        leaves its clientOrderId out (the documented listing has none)."""
        raw = await self._call(lambda: self.exchange.swapV2PrivateGetTradeAllOrders(
            {"symbol": swap_id(symbol), "limit": RECENT_ORDERS}), read=True)
        data = raw.get("data") or {}
        rows = data.get("orders") or [] if isinstance(data, Mapping) else []
        rows = sorted(rows, key=lambda r: int(r.get("updateTime") or r.get("time") or 0),
                      reverse=True)
        market = self.exchange.market(self.venue.ccxt_symbol(symbol))
        found = [self._order(self.exchange.parse_order(r, market), symbol) for r in rows]
        out, named = [], set()
        for o in found:
            if o.status is not OrderStatus.FILLED:
                continue
            if not o.client_id and not o.kind and o.side not in named and o.exchange_id:
                o = await self._fetch_order(o.exchange_id, symbol, {}) or o
            named.add(o.side)
            out.append(o)
        return out

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open one-way positions by our symbol: BOTH with a signed amount (or LONG/SHORT)."""
        rows = await self._call(lambda: self.exchange.fetch_positions(None), read=True)
        out = {}
        for p in rows:
            info = p.get("info") or {}
            amount = float(info.get("positionAmt") or p.get("contracts") or 0)
            if not amount:
                continue
            side = str(info.get("positionSide") or "").upper()
            short = side == "SHORT" or (side != "LONG" and amount < 0)
            symbol = self.venue.our_symbol(p["symbol"])
            out[symbol] = ExchangePosition(symbol, Direction.SHORT if short else Direction.LONG,
                                           abs(amount), float(p.get("entryPrice") or 0))
        return out

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """None: BingX's fill rows carry no side, so a closing trade cannot be told apart."""
        return None

    async def _margin_mode_line(self) -> CheckLine:
        return CheckLine("margin mode", True, f"{self.config.margin_mode} x{self.config.leverage}"
                                              ", set per contract at start (positionSide BOTH)")


MarketData = BingxMarketData
Trading = BingxTrading
