"""KuCoin Futures behaviour that ccxt's unified methods leave to the caller, over the generic
classes.

What differs, and why:
- candles come from /api/v1/kline/query by explicit from/to windows: ccxt computes the window
  on the HOST clock, and KuCoin leaves out the minutes nothing traded, so a window can come
  back short without being the end of the history; the next window is asked until the page is
  whole (or the present, or the listing, is reached). Gaps are never filled with made-up rows;
- every request stays on the classic futures account: ccxt would otherwise ask the spot host
  whether the account is unified or high-frequency, read currencies and margin symbols there;
- ccxt sends `leverage: 1` on every order and no margin mode: both are sent as configured (an
  order must carry the symbol's margin mode, 330005 otherwise);
- stops and targets are separate reduce-only stop orders whose `stop` direction follows the
  closing side (ccxt's attached SL/TP sends down=stop, up=target whatever the side);
- a stop on the wrong side of the market is not refused by KuCoin, it fires: the last price
  is read first and such a stop is refused here as WOULD_TRIGGER_IMMEDIATELY;
- a clientOid is refused again only while its order is active, with a parameter error whose
  message names it: read as DUPLICATE_CLIENT_ID;
- an unknown clientOid answers data: null (not an error): read as 'not found';
- a waiting stop order reads isActive=false (ccxt: closed): its status comes from `status`;
  it is looked up and cancelled through the stop-order list (by clientOid, then order id);
- a 429 carries gw-ratelimit-reset (ms), not Retry-After: read as the wait;
- leverage tiers come from the contract's risk limits (ccxt's fetch_leverage_tiers is UTA-only);
- trade amounts are lots: the realised PnL is scaled by the contract's multiplier.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import structlog

from domain.timeframe import timeframe_ms

from .ccxt_fills import CcxtTrade
from .ccxt_lean import ccxt
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .errors import PermanentExchangeError, Rejected, reason_of
from .kucoin import DUPLICATE_CLIENT_OID_MARK, GRANULARITY, crossed, stop_direction
from .ohlcv import Rows, ohlcv_rows
from .port import Direction, MarketRules, OrderIntent, OrderResult, OrderStatus
from .tagging import with_retry_after
from .venue import Reason

log = structlog.get_logger(__name__)

# Windows walked past empty stretches for one page at most: 50 x 200 intervals (a week of 1m
# candles). A longer silence reads as the end of the history, and is logged.
MAX_WINDOWS = 50
LAST_PRICE = "TP"  # stops trigger on the last trade price, the price checked before sending


@cache
def exchange_class() -> type:
    """kucoinfutures (errors tagged with Retry-After) kept on the classic futures account, with
    a duplicate clientOid read as ccxt's DuplicateOrderId."""
    base: Any = with_retry_after("kucoinfutures")

    class KucoinFutures(base):
        def describe(self) -> Any:
            # Currencies live on the spot host and are not needed: markets name the coins.
            return self.deep_extend(super().describe(), {"has": {"fetchCurrencies": False}})

        async def fetch_markets(self, params: Any = None) -> Any:
            # Margin symbols (spot host, signed) are asked whenever keys are set: not needed.
            return await super().fetch_markets({**(params or {}), "marginables": False})

        def handle_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            try:
                if isinstance(response, dict) and DUPLICATE_CLIENT_OID_MARK in \
                        str(response.get("msg") or "").lower().replace(" ", ""):
                    raise ccxt.DuplicateOrderId(f"{self.id} {body}")
                return super().handle_errors(code, reason, url, method, headers, body,
                                             response, request_headers, request_body)
            except ccxt.BaseError as e:
                if getattr(e, "retry_after_s", None) is None:
                    e.retry_after_s = reset_s(headers)
                raise

    return KucoinFutures


def reset_s(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds until KuCoin's rate-limit window resets (gw-ratelimit-reset, in ms): its 429s
    carry no Retry-After."""
    for key, value in (headers or {}).items():
        if key.lower() == "gw-ratelimit-reset":
            try:
                return max(0.0, float(value) / 1000)
            except (TypeError, ValueError):
                return None
    return None


def _merge(chunks: list[Rows], newest: bool, limit: int) -> Rows:
    """Windows' rows as one page, oldest first, without repeats: the oldest `limit` (forward)
    or the newest `limit` (backward)."""
    ts = np.concatenate([c[0] for c in chunks])
    values = np.concatenate([c[1] for c in chunks])
    close = np.concatenate([c[2] for c in chunks])
    ts, first = np.unique(ts, return_index=True)
    values, close = values[first], close[first]
    keep = slice(-limit, None) if newest else slice(0, limit)
    return ts[keep], values[keep], close[keep]


class KucoinMarketData(CcxtMarketData):
    """KuCoin Futures candles by explicit windows on the venue's clock, walking past gaps."""

    def _client_class(self) -> type:
        return exchange_class()

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        """A page of `limit` candles from `since` (or up to `until`): windows of `limit`
        intervals, the next one asked while a window came back short."""
        markets = await self._markets()
        market = markets[self.venue.ccxt_symbol(symbol)]
        tf_ms = timeframe_ms(timeframe)
        now = await self.server_time_ms()
        listed = int(market.get("created") or 0)
        chunks: list[Rows] = []
        got = 0
        if since is not None:
            start = since + (-since) % tf_ms
            for _ in range(MAX_WINDOWS):
                end = start + limit * tf_ms - 1
                chunks.append(await self._window(market["id"], timeframe, tf_ms, start, end))
                got += chunks[-1][0].size
                if got >= limit or end >= now:
                    break
                start = end + 1
            else:
                log.warning("candles_silence", symbol=symbol, tf=timeframe, since=since)
            return _merge(chunks, newest=False, limit=limit)
        end = until if until is not None else now
        for _ in range(MAX_WINDOWS):
            start = end - end % tf_ms - (limit - 1) * tf_ms
            chunks.insert(0, await self._window(market["id"], timeframe, tf_ms, start, end))
            got += chunks[0][0].size
            if got >= limit or start <= listed:
                break
            end = start - 1
        else:
            log.warning("candles_silence", symbol=symbol, tf=timeframe, until=until)
        return _merge(chunks, newest=True, limit=limit)

    async def _window(self, contract: str, timeframe: str, tf_ms: int, start: int, end: int
                      ) -> Rows:
        """One /api/v1/kline/query answer: candles opening in [start, end], oldest first."""
        # from one ms before the first open time and `end` off the grid: the same candles
        # whether the bounds are inclusive or not (the docs do not say).
        request = {"symbol": contract, "granularity": GRANULARITY[timeframe], "from": start - 1,
                   "to": end}

        async def call() -> Rows:
            answer = await self.exchange.futuresPublicGetKlineQuery(request)
            rows = answer.get("data") if isinstance(answer, dict) else None
            ts, values, close = ohlcv_rows(rows if rows is not None else [], tf_ms)
            inside = (ts >= start) & (ts <= end)
            order = np.argsort(ts[inside], kind="stable")
            return ts[inside][order], values[inside][order], close[inside][order]

        return await self._read(call, f"candles {contract} {timeframe}")


class KucoinTrading(CcxtTrading):
    """KuCoin Futures USDT-M: lots, margin mode and leverage per order, separate stop orders."""

    one_way_where = " (Futures > Settings > Position Mode: One-way)"

    def _client_class(self) -> type:
        return exchange_class()

    async def _leverage_tiers(self, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Each contract's risk limits (/api/v1/contracts/risk-limit/{symbol})."""
        return await self._tiers_one_by_one(symbols, optional=True)

    async def _prepare(self, symbol: str) -> None:
        """The symbol's margin mode; cross leverage is the account's per symbol, isolated
        leverage travels on every order."""
        s = self.venue.ccxt_symbol(symbol)
        mode, leverage = self.config.margin_mode, self.config.leverage
        try:
            await self._unless_unchanged(lambda: self.exchange.set_margin_mode(mode, s))
        except PermanentExchangeError as e:
            held = await self._call(lambda: self.exchange.fetch_margin_mode(s), read=True)
            current = str(held.get("marginMode") or "?")
            if current == mode:
                raise
            raise Rejected(f"KuCoin Futures {symbol} is in {current} margin and cannot switch "
                           f"to {mode} while it holds a position or orders: close them, or set "
                           f"MARGIN_MODE={current}, and restart", e.code,
                           reason=Reason.INVALID_ORDER) from e
        if mode == "cross":
            await self._unless_unchanged(lambda: self.exchange.set_leverage(leverage, s))
        log.info("symbol_prepared", venue=self.venue.name, symbol=symbol, margin_mode=mode,
                 leverage=leverage)

    def _market_rules(self, symbol: str, tiers: list[dict[str, Any]]) -> MarketRules:
        # Risk limits without a leverage cap (isolated tiers name none) give no bracket.
        usable = [t for t in tiers if t.get("maxNotional") and t.get("maxLeverage")]
        return super()._market_rules(symbol, usable)

    def _order_params(self, client_id: str) -> dict[str, Any]:
        """What every order carries: our id, the configured leverage and margin mode."""
        return {"clientOid": self._ids.wire(client_id), "leverage": self.config.leverage,
                "marginMode": self.config.margin_mode.upper()}

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        params = super()._protective_params(kind, trigger, client_id)
        params.pop("clientOrderId", None)
        params.update(self._order_params(client_id))
        return params

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A reduce-only stop order of the position's size, its direction set by the closing
        side; refused here when the last price has already crossed it (KuCoin would fire it)."""
        amount = await self._protective_amount(symbol)
        if amount is None:
            raise Rejected(f"no {symbol} position to protect", reason=Reason.REDUCE_ONLY_REJECTED)
        s = self.venue.ccxt_symbol(symbol)
        ticker = await self._call(lambda: self.exchange.fetch_ticker(s), read=True)
        last = float(ticker.get("last") or 0)
        if last and crossed(side, kind, trigger, last):
            raise Rejected(f"{symbol} {kind} at {trigger:g} is already crossed (last {last:g}): "
                           "KuCoin would trigger it at once",
                           reason=Reason.WOULD_TRIGGER_IMMEDIATELY)
        params = self._protective_params(kind, trigger, client_id)
        params["stop"] = stop_direction(side, kind)  # ccxt's own pick is overridden here
        params["stopPriceType"] = LAST_PRICE
        o = await self._call(lambda: self.exchange.create_order(
            s, "market", side, amount, None, params), read=False)
        placed = self._order(o, symbol)
        return dataclasses.replace(placed, side=placed.side or side, kind=placed.kind or kind,
                                   trigger=placed.trigger or trigger)

    def _lookup_params(self, client_id: str, conditional: bool) -> dict[str, Any]:
        # One lookup for orders and stop orders alike (no 'trigger' flag on KuCoin's endpoint).
        return {"clientOid": self._ids.wire(client_id)}

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """The order holding `client_id`: a stop or target first in the untriggered stop-order
        list (where KuCoin documents them), then by clientOid (triggered ones are orders);
        None when KuCoin answers no order (data: null)."""
        if conditional:
            waiting = await self._waiting_stops(symbol, client_id)
            if waiting:
                return waiting[0]
        params = self._lookup_params(client_id, conditional)
        try:
            o = await self._call(lambda: self.exchange.fetch_order(
                None, self.venue.ccxt_symbol(symbol), params), read=True)
        except Rejected as e:
            if reason_of(e) is Reason.NOT_FOUND:
                return None
            raise
        if not o.get("info") or o.get("id") is None:
            return None
        return self._order(o, symbol)

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a waiting stop order by its order id (as recorded, else found in the stop-order
        list by our clientOid: the documented cancel for stop orders); else by clientOid; gone
        is fine."""
        s, wired = self.venue.ccxt_symbol(symbol), self._ids.wire(client_id)
        ids = [exchange_id] if exchange_id else [
            o.exchange_id for o in await self._waiting_stops(symbol, client_id) if o.exchange_id]
        try:
            if ids:
                await self._call(lambda: self.exchange.cancel_order(ids[0], s), read=True)
            else:
                await self._call(lambda: self.exchange.cancel_order(
                    None, s, {"clientOid": wired}), read=True)
        except Rejected as e:
            if reason_of(e) is not Reason.NOT_FOUND:
                raise

    async def _waiting_stops(self, symbol: str, client_id: str) -> list[OrderResult]:
        """The untriggered stop orders of `symbol` holding `client_id` (/api/v1/stopOrders)."""
        s, wired = self.venue.ccxt_symbol(symbol), self._ids.wire(client_id)
        waiting = await self._call(lambda: self.exchange.fetch_open_orders(
            s, None, None, {"trigger": True}), read=True)
        return [dataclasses.replace(self._order(o, symbol), status=OrderStatus.OPEN)
                for o in waiting if o.get("clientOrderId") == wired and o.get("id")]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        """'stop' or 'target' of a stop order, from its side and direction."""
        info = o.get("info") or {}
        stop = info.get("stop")
        if stop not in ("up", "down"):
            return None
        return "stop" if stop_direction(str(info.get("side")), "stop") == stop else "target"

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        """Our OrderResult; the status from KuCoin's own `status` (a waiting stop order reads
        isActive=false, which ccxt takes for closed)."""
        result = super()._order(o, symbol)
        info = o.get("info") or {}
        status = info.get("status")
        if status == "done" or (info.get("cancelExist") and status != "open"):
            filled = float(info.get("filledSize") or info.get("dealSize") or 0) > 0
            done = OrderStatus.FILLED if filled and not info.get("cancelExist") \
                else OrderStatus.CANCELED
            return dataclasses.replace(result, status=done)
        if status == "open" or (info.get("stop") and info.get("stopTriggered") is False):
            return dataclasses.replace(result, status=OrderStatus.OPEN)
        return result

    async def open_protective(self) -> list[OrderResult]:
        """Every untriggered stop order on the account (/api/v1/stopOrders): waiting, whatever
        isActive says."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True}), read=True)
        return [dataclasses.replace(self._order(o, self.venue.our_symbol(o["symbol"])),
                                    status=OrderStatus.OPEN) for o in orders]

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """The generic PnL is per lot (ccxt's trade amounts are lots): times the multiplier."""
        if not closing:
            return 0.0
        size = float(self.exchange.market(closing[0]["symbol"]).get("contractSize") or 1.0)
        return super()._trade_pnl(closing, entry, direction) * size


MarketData = KucoinMarketData
Trading = KucoinTrading
