"""Bitget USDT-M futures behaviour that ccxt's unified methods get wrong or leave open.

Market data:
- candles come from the raw mix endpoints: Bitget anchors a page at endTime (the newest `limit`
  rows at or before it), and ccxt picks the endpoint and the window by the HOST clock, which
  cuts the start of a forward page once the history endpoint (200 rows at most) is chosen;
  here the window is set from the page asked and the endpoint judged on the venue's clock;
- spot and perpetual share the id BTCUSDT: every request names productType USDT-FUTURES, and
  markets load from the USDT-FUTURES contracts only (ccxt asks six product types at once and
  one failing fails the load; the spot coin list is not read);
- a forward range from before the listing starts at the listing (an anchored page reaching
  before it comes back short, which reads as the end of the history);
- paced at the documented 20 requests/s per IP.
Trading:
- demo is the production host with demo keys and PAPTRADING: 1 (ccxt's sandbox mode sends it);
- the classic (v2 mix) account API only: ccxt's per-call probe for a unified account is off,
  and a unified account's refusal (40085) stops the start as a key/account problem;
- ccxt cannot read the position mode and would set it: the account's posMode is read at start
  and a hedge-mode account (which refuses one-way orders, 40774) is refused with one line;
- orders carry the configured margin mode (ccxt sends crossed unless told); the symbol's margin
  mode and leverage are set at start only where the account row differs, since a margin-mode
  change is refused while a position or order is open (then one line says what to change);
- place-order answers only the ids: a market order is looked up at once for its fill;
- stops and targets are position TP/SL orders (pos_loss / pos_profit, the whole position,
  holdSide buy/sell in one-way mode) carrying our clientOid; the order detail endpoint never
  returns them, so they are found by listing the pending (then the history) profit_loss plan
  orders, and cancelled by orderId with their own planType (cancel-plan-order defaults to
  normal_plan), confirmed by listing again (a refusal comes back in failureList under 00000);
- a duplicate clientOid is 40786, which ccxt leaves a plain ExchangeError: the code table reads
  it as DUPLICATE_CLIENT_ID.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import partial
from typing import Any

import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from .bitget import (
    CANDLE_REQUESTS_PER_S,
    GRANULARITY,
    HEDGE_MODE,
    MARGIN_COIN,
    PRODUCT_TYPE,
    page_window,
    recent_edge,
)
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .errors import (
    PermanentExchangeError,
    TransientExchangeError,
    reason_of,
)
from .ohlcv import Rows, ohlcv_rows
from .port import OrderIntent, OrderResult, PositionModeError
from .retry import MalformedResponse
from .venue import Reason

log = structlog.get_logger(__name__)

PROFIT_LOSS = "profit_loss"  # the plan-order family holding position TP/SL orders
STOP_PLANS = frozenset({"pos_loss", "loss_plan"})
TARGET_PLANS = frozenset({"pos_profit", "profit_plan"})
MARGIN_MODES = {"crossed": "cross", "isolated": "isolated"}


def candle_rows(payload: Any) -> list[list[float]]:
    """Bitget's candle answer -> ccxt-style rows [ms, o, h, l, c, base volume], oldest first."""
    if payload == "":
        return []  # a symbol listed a moment ago answers an empty body
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, list):
        raise MalformedResponse("candles: no data list in the answer")
    try:
        rows = [[int(r[0]), *(float(x) for x in r[1:6])] for r in data]
    except (TypeError, ValueError, IndexError) as e:
        raise MalformedResponse(f"candles: a row is not [ms, o, h, l, c, v, ...] ({e})") from None
    return sorted(rows, key=lambda r: r[0])


def _lean(config: dict[str, Any]) -> dict[str, Any]:
    """ccxt's config without the spot coin list load_markets would read (not needed)."""
    return {**config, "has": {"fetchCurrencies": False}}


def usdt_futures_only(base: type) -> type:
    """ccxt's class asking /mix/market/contracts for USDT-FUTURES only: its load_markets asks
    all six product types at once, and one of them failing would fail the whole load."""

    class UsdtFuturesOnly(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # ccxt binds its implicit endpoints on the instance: wrap this one there.
            contracts = self.publicMixGetV2MixMarketContracts  # type: ignore[has-type]

            async def usdt_only(params: dict[str, Any] | None = None) -> Any:
                params = params or {}
                if str(params.get("productType", "")).upper() != PRODUCT_TYPE:
                    return {"code": "00000", "msg": "success", "data": []}
                return await contracts(params)

            self.publicMixGetV2MixMarketContracts = usdt_only

    return UsdtFuturesOnly


class BitgetMarketData(CcxtMarketData):
    """Bitget USDT-M candles from the endpoint that holds the page, on the venue's clock."""

    def _client_class(self) -> type:
        return usdt_futures_only(super()._client_class())

    def _client_config(self) -> dict[str, Any]:
        # Candles and tickers: 20 requests/s per IP (contract Get-Candle-Data); ccxt's throttle
        # spaces this instance's requests 1000/20 ms apart (each endpoint costs 1).
        return {**_lean(super()._client_config()), "rateLimit": 1000 / CANDLE_REQUESTS_PER_S}

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        await self._markets()
        tf_ms = timeframe_ms(timeframe)
        now = await self.server_time_ms()
        market = self.exchange.market(self.venue.ccxt_symbol(symbol))
        if since is not None and market.get("created"):
            # A page anchored before the listing would come back short and read as the end
            # of the history: start it at the listing instead.
            since = max(since, int(market["created"]))
        oldest, end = page_window(tf_ms, since=since, until=until, limit=limit, now_ms=now)
        request = {"symbol": market["id"],
                   "productType": PRODUCT_TYPE, "granularity": GRANULARITY[timeframe],
                   "endTime": str(end), "limit": str(limit)}
        recent = oldest >= recent_edge(now, timeframe)
        fetch = (self.exchange.publicMixGetV2MixMarketCandles if recent
                 else self.exchange.publicMixGetV2MixMarketHistoryCandles)

        async def call() -> Rows:
            return ohlcv_rows(candle_rows(await fetch(dict(request))), tf_ms)

        return await self._read(call, f"candles {symbol} {timeframe}")


def _number(value: Any) -> float | None:
    """A number of the account row, None when absent or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _kind(info: Mapping[str, Any]) -> str | None:
    """'stop' or 'target' of a TP/SL plan order from its planType."""
    plan = info.get("planType")
    return "stop" if plan in STOP_PLANS else "target" if plan in TARGET_PLANS else None


class BitgetTrading(CcxtTrading):
    """Bitget USDT-M futures: one-way check, margin mode per order, position TP/SL orders."""

    fills_in_answer = False  # the create answer holds only the ids

    one_way_where = " (Futures > Preferences > Position mode: One-way)"

    def _client_class(self) -> type:
        return usdt_futures_only(super()._client_class())

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        return _lean(super()._client_config(timeout_s, rate_limit))

    async def _account(self, symbol: str) -> Mapping[str, Any]:
        """The futures account row of `symbol`: posMode, marginMode, leverage."""
        request = {"symbol": self._market(symbol)["id"], "productType": PRODUCT_TYPE,
                   "marginCoin": MARGIN_COIN}
        answer = await self._call(
            lambda: self.exchange.privateMixGetV2MixAccountAccount(dict(request)), read=True)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        if not isinstance(data, Mapping):
            raise MalformedResponse("account: no data in the answer")
        return data

    def _hedge_refusal(self) -> str:
        return (f"the {self.venue.label} account is in hedge mode, which refuses one-way "
                f"orders (40774): switch Position mode to One-way{self.one_way_where} and "
                "restart")

    async def _require_one_way(self, symbols: list[str]) -> None:
        """Read the account's position mode; refuse hedge mode (never switched behind the
        owner's back)."""
        if not symbols:
            return
        account = await self._account(symbols[0])
        if account.get("posMode") == HEDGE_MODE:
            raise PositionModeError(self._hedge_refusal())

    async def _prepare(self, symbol: str) -> None:
        """Margin mode and leverage as configured, each set only when the account row says
        otherwise (Bitget refuses a margin-mode change while a position or order is open)."""
        s = self.venue.ccxt_symbol(symbol)
        account = await self._account(symbol)
        mode = self.config.margin_mode
        wire = "crossed" if mode == "cross" else "isolated"
        if account.get("marginMode") != wire:
            try:
                await self._unless_unchanged(lambda: self.exchange.set_margin_mode(mode, s))
            except PermanentExchangeError as e:
                raise PermanentExchangeError(
                    f"{symbol} on {self.venue.label} is in {account.get('marginMode')} margin "
                    f"and cannot switch to {wire} now ({e}): close its position and orders, or "
                    f"set MARGIN_MODE to match", e.code) from e
        held = account.get("crossedMarginLeverage" if wire == "crossed"
                           else "isolatedLongLever")
        if _number(held) != float(self.config.leverage):
            await self._unless_unchanged(lambda: self.exchange.set_leverage(
                self.config.leverage, s))
        log.info("symbol_prepared", venue=self.venue.name, symbol=symbol, margin_mode=mode,
                 leverage=self.config.leverage)

    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        params = super()._entry_params(client_id, reduce_only)
        params["marginMode"] = self.config.margin_mode  # ccxt would send crossed
        return params

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        # ccxt: stopLossPrice -> place-tpsl-order planType pos_loss, takeProfitPrice ->
        # pos_profit, holdSide from the closing side in one-way mode.
        params = super()._protective_params(kind, trigger, client_id)
        params.pop("reduceOnly", None)  # a position TP/SL closes the position by definition
        return params

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A position stop or target; the answer names only the ids."""
        placed = await super().protective_order(symbol, side, kind, trigger, client_id)
        return dataclasses.replace(placed, side=placed.side or side, kind=placed.kind or kind,
                                   trigger=placed.trigger or trigger)

    async def _plans(self, symbol: str | None, client_id: str | None, *, history: bool
                     ) -> list[Mapping[str, Any]]:
        """Raw TP/SL plan orders: pending ones, or the history's."""
        request: dict[str, Any] = {"productType": PRODUCT_TYPE, "planType": PROFIT_LOSS}
        if symbol is not None:
            request["symbol"] = self._market(symbol)["id"]
        if client_id is not None:
            request["clientOid"] = self._ids.wire(client_id)
        fetch = (self.exchange.privateMixGetV2MixOrderOrdersPlanHistory if history
                 else self.exchange.privateMixGetV2MixOrderOrdersPlanPending)
        answer = await self._call(lambda: fetch(dict(request)), read=True)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        rows = (data or {}).get("entrustedList") if isinstance(data, Mapping) else None
        rows = rows or []
        if client_id is not None:
            rows = [r for r in rows if r.get("clientOid") == self._ids.wire(client_id)]
        return rows

    def _plan_order(self, row: Mapping[str, Any]) -> OrderResult:
        # The plan lists may write the id in lower case ('btcusdt', as their documentation
        # shows): read as the perpetual's id, never the spot pair's.
        market_id = str(row.get("symbol") or "").upper()
        market = self.exchange.safe_market(market_id, None, None, "swap")
        o = self.exchange.parse_order({**row, "symbol": market_id}, market)
        return self._order(o, self.venue.our_symbol(o["symbol"]))

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """An order by client id: the order detail for market orders; TP/SL plan orders
        (which the detail never returns) from the pending list, then the history."""
        if not conditional:
            return await super().find_order(symbol, client_id, conditional, intent)
        for history in (False, True):
            rows = await self._plans(symbol, client_id, history=history)
            if rows:
                return self._plan_order(rows[0])
        return None

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a pending TP/SL by client id, named with its own planType (the endpoint's
        default, normal_plan, would miss it); gone is fine, one still pending is not."""
        cancel = self.exchange.privateMixPostV2MixOrderCancelPlanOrder
        for row in await self._plans(symbol, client_id, history=False):
            request = {"symbol": self._market(symbol)["id"], "productType": PRODUCT_TYPE,
                       "marginCoin": MARGIN_COIN, "planType": row.get("planType"),
                       "orderIdList": [{"orderId": str(row.get("orderId"))}]}
            try:
                await self._call(partial(cancel, request), read=True)
            except PermanentExchangeError as e:
                if reason_of(e) is not Reason.NOT_FOUND:
                    raise
        # A refusal comes back as failureList under code 00000: ask again rather than trust it.
        if await self._plans(symbol, client_id, history=False):
            raise TransientExchangeError(f"{client_id} is still pending after its cancel")

    async def open_protective(self) -> list[OrderResult]:
        """Every pending TP/SL plan order of the USDT-M account (one request)."""
        return [self._plan_order(r) for r in await self._plans(None, None, history=False)]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        return _kind(o.get("info") or {}) or super()._kind(o)

    async def _position_mode_line(self) -> CheckLine:
        hedged = (await self._checked_account()).get("posMode") == HEDGE_MODE
        return CheckLine("position mode", not hedged,
                         self._hedge_refusal() if hedged else "one-way")

    async def _margin_mode_line(self) -> CheckLine:
        account = await self._checked_account()
        mode = MARGIN_MODES.get(str(account.get("marginMode")), str(account.get("marginMode")))
        return CheckLine("margin mode", True, f"{mode} on BTCUSDT; {self.config.margin_mode} is "
                         "set per symbol at start (refused while a position or order is open)")

    async def _checked_account(self) -> Mapping[str, Any]:
        """The account row `check` reads (markets loaded first: check runs before start)."""
        await self._call(self.exchange.load_markets, read=True)
        return await self._account("BTC/USDT")


MarketData = BitgetMarketData
Trading = BitgetTrading
