"""CcxtTrading: one venue's trading instance over ccxt's unified methods, returning our values.

Reads are retried by the shared backoff utility (a Retry-After is waited exactly); writes are
sent once: an ambiguous failure is resolved by the caller asking for the client id. A venue
whose behaviour differs subclasses this and overrides the hooks (`_entry_params`,
`_protective_params`, `_lookup_params`, `_market_rules`, `_order`, `_trade_pnl`, ...).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pandas as pd
import structlog

from domain.candles import Candles

from .ccxt_account import CcxtAccount
from .ccxt_fills import STATUS, number
from .errors import ExchangeUnavailable, PermanentExchangeError, TransientExchangeError, reason_of
from .port import (
    MarketRules,
    OrderIntent,
    OrderResult,
    OrderStatus,
    PositionModeError,
)
from .venue import OrderLookup, Reason, SlTpStyle, TradingSpec, Venue

log = structlog.get_logger(__name__)
RECENT_ORDERS = 20  # closed orders read to find a position's entry by its client id


class CcxtTrading(CcxtAccount):
    """One venue's futures account through ccxt (demo by default; live only when confirmed)."""

    fills_in_answer = True  # the create answer says whether a market order filled
    # The margin mode is set by the leverage call, not a call of its own (OKX: the mode travels
    # on every order; Gate: cross is leverage 0 + cross_leverage_limit).
    mode_with_leverage = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent: set[str] = set()  # market orders' client ids sent by this process

    def _require_implemented(self, venue: Venue, spec: TradingSpec) -> None:
        """The lookups and protection this class implements: by client id (or, where the venue
        keeps none on an order, by its own order id) and separate conditional orders."""
        if spec.lookup is OrderLookup.INTENT_MATCH and \
                type(self).find_order is CcxtTrading.find_order:
            raise TypeError(f"{venue.label} finds orders by {spec.lookup.value}: its trading "
                            "class must implement find_order")
        if spec.sltp_style is SlTpStyle.ATTACHED and \
                type(self).protective_order is CcxtTrading.protective_order:
            # ccxt has no unified call for a position's own stop: the venue module says how.
            raise TypeError(f"{venue.label} attaches stops and targets: its trading class must "
                            "implement protective_order (and its lookups)")

    # -- start ------------------------------------------------------------------------------------
    async def start(self, symbols: list[str]) -> None:
        """Load markets, sync the clock, require one-way mode, set margin mode and leverage."""
        await self._call(self.exchange.load_markets, read=True)
        await self._resync()
        await self._require_one_way(symbols)
        tiers = await self._leverage_tiers(symbols)
        for symbol in symbols:
            self._rules[symbol] = self._market_rules(symbol, tiers.get(symbol, []))
            if symbol not in self._prepared:
                await self._prepare(symbol)
                self._prepared.add(symbol)

    async def _require_one_way(self, symbols: list[str]) -> None:
        """Refuse a hedge-mode account: the daemon trades one position per symbol. A venue
        that cannot tell its mode is asked to be one-way ('already so' is fine)."""
        first = self.venue.ccxt_symbol(symbols[0]) if symbols else None
        if not self.exchange.has.get("fetchPositionMode"):
            await self._unless_unchanged(lambda: self.exchange.set_position_mode(False, first))
            return
        mode = await self._call(lambda: self.exchange.fetch_position_mode(first), read=True)
        if mode.get("hedged"):
            raise PositionModeError(f"the {self.venue.label} account is in Hedge Mode; switch "
                                    f"Position Mode to One-way{self.one_way_where} and restart")

    async def _leverage_tiers(self, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Our symbol -> ccxt's leverage tiers, when the venue tells them ({} otherwise)."""
        if not self.exchange.has.get("fetchLeverageTiers"):
            return {}
        tiers = await self._call(lambda: self.exchange.fetch_leverage_tiers(
            [self.venue.ccxt_symbol(s) for s in symbols]), read=True)
        return {self.venue.our_symbol(k): v for k, v in tiers.items()}

    async def _tiers_one_by_one(self, symbols: list[str], *, optional: bool = False
                                ) -> dict[str, list[dict[str, Any]]]:
        """Each symbol's leverage tiers, one request per symbol (venues that list no account-wide
        table); `optional`: a symbol whose tiers cannot be read trades without them (they only
        cap leverage)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for symbol in symbols:
            market = self.venue.ccxt_symbol(symbol)

            async def tiers(market: str = market) -> list[dict[str, Any]]:
                return await self.exchange.fetch_market_leverage_tiers(market)

            try:
                out[symbol] = await self._call(tiers, read=True)
            except ExchangeUnavailable as e:
                if not optional:
                    raise
                log.warning("risk_limits_unavailable", symbol=symbol, error=str(e)[:200])
        return out

    async def _prepare(self, symbol: str) -> None:
        """Margin mode and leverage, once per symbol; 'nothing to change' counts as success."""
        s = self.venue.ccxt_symbol(symbol)
        mode, leverage = self.config.margin_mode, self.config.leverage
        if self.mode_with_leverage:
            await self._unless_unchanged(lambda: self.exchange.set_leverage(
                leverage, s, {"marginMode": mode}))
        else:
            await self._unless_unchanged(lambda: self.exchange.set_margin_mode(mode, s))
            await self._unless_unchanged(lambda: self.exchange.set_leverage(leverage, s))
        log.info("symbol_prepared", venue=self.venue.name, symbol=symbol,
                 margin_mode=self.config.margin_mode, leverage=self.config.leverage)

    async def _unless_unchanged(self, fn: Callable[[], Awaitable[Any]]) -> None:
        """A setting call whose NO_CHANGE refusal means it is already as asked."""
        try:
            await self._call(fn, read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is not Reason.NO_CHANGE:
                raise

    def _market_rules(self, symbol: str, tiers: list[dict[str, Any]]) -> MarketRules:
        """Step, minimums and tick from ccxt's unified market (in base units), plus tiers."""
        market = self._market(symbol)
        size = float(market.get("contractSize") or 1.0)
        limits = market.get("limits") or {}
        precision = market.get("precision") or {}
        market_max = (limits.get("market") or {}).get("max")
        return MarketRules(
            symbol=symbol,
            step=float(precision.get("amount") or 0) * size,
            min_qty=float((limits.get("amount") or {}).get("min") or 0) * size,
            min_notional=float((limits.get("cost") or {}).get("min") or 0),
            tick=float(precision.get("price") or 0),
            max_market_qty=float(market_max) * size if market_max else None,
            brackets=tuple((float(t["maxNotional"]), float(t["maxLeverage"])) for t in tiers),
            contract_size=size)

    def rules(self, symbol: str) -> MarketRules:
        """Trading rules of `symbol` (after start)."""
        return self._rules[symbol]

    # -- orders -----------------------------------------------------------------------------------
    def _order_params(self, client_id: str) -> dict[str, Any]:
        """What every order of the daemon carries: our id as the venue writes it."""
        return {"clientOrderId": self._ids.wire(client_id)}

    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        """create_order params of a market order."""
        params = self._order_params(client_id)
        if reduce_only:
            params["reduceOnly"] = True
        return params

    def _send_once(self, client_id: str) -> None:
        """Refuse to send a market order's id a second time where the venue would take it again
        (a duplicate id not refused, or taken again once the first order filled): the caller
        then looks the first one up, and an entry nobody finds is given up, never doubled."""
        if self._ids.refuses_duplicates:
            return
        if client_id in self._sent:
            raise TransientExchangeError(f"{client_id} was sent already; {self.venue.label} "
                                         "would take the id again, so it is looked up, never "
                                         "re-sent")
        self._sent.add(client_id)

    def _amount(self, symbol: str, quantity: float) -> float:
        """A base quantity in the venue's order units (contracts where it counts them)."""
        return quantity / self._contract_size(symbol)

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order carrying `client_id`; never retried here."""
        self._send_once(client_id)
        amount = self._amount(symbol, quantity)
        params = self._entry_params(client_id, reduce_only)
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), "market", side, amount, None, params), read=False)
        return await self._filled(self._order(o, symbol), symbol, client_id)

    async def _filled(self, placed: OrderResult, symbol: str, client_id: str) -> OrderResult:
        """Where the create answer does not say whether a market order filled (it holds only
        ids), the order asked for once now: by the venue's id, else by ours."""
        if self.fills_in_answer or placed.status is OrderStatus.FILLED:
            return placed
        try:
            if placed.exchange_id:
                return await self._fetch_order(placed.exchange_id, symbol, {}) or placed
            return await self.find_order(symbol, client_id, conditional=False) or placed
        except ExchangeUnavailable as e:
            log.warning("order_lookup_after_place_failed", client_id=client_id, error=str(e))
            return placed

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        """create_order params of a reduce-only conditional stop or take-profit."""
        level = "stopLossPrice" if kind == "stop" else "takeProfitPrice"
        return {level: trigger, "reduceOnly": True, "clientOrderId": self._ids.wire(client_id)}

    async def _protective_amount(self, symbol: str) -> float | None:
        """The amount (venue units) a conditional order must close: the position's size."""
        rows = await self._call(lambda: self.exchange.fetch_positions(
            [self.venue.ccxt_symbol(symbol)]), read=True)
        return next((float(p["contracts"]) for p in rows
                     if float(p.get("contracts") or 0) > 0), None)

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A reduce-only conditional market order closing the position at `trigger` (venues
        whose SL/TP style is 'separate'; 'attached' venues override this)."""
        amount = await self._protective_amount(symbol)
        if amount is None:
            raise PermanentExchangeError(f"no {symbol} position to protect")
        params = self._protective_params(kind, trigger, client_id)
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), "market", side, amount, None, params), read=False)
        return self._order(o, symbol)

    def _lookup_params(self, client_id: str, conditional: bool) -> dict[str, Any]:
        """fetch_order params that find an order by our client id."""
        params: dict[str, Any] = {"clientOrderId": self._ids.wire(client_id)}
        if conditional:
            params["trigger"] = True
        return params

    def _by_venue_id(self, conditional: bool) -> bool:
        """True when the venue cannot find this kind of order by our client id."""
        return self.venue.trading_spec().lookup is OrderLookup.VENUE_ORDER_ID or (
            conditional and not self._ids.on_conditional)

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """Look an order up by client id (or by the venue's id recorded on `intent`, where the
        venue keeps no client id on it); None when the venue says it does not exist."""
        if self._by_venue_id(conditional):
            return await self._find_by_venue_id(symbol, client_id, conditional, intent)
        params = self._lookup_params(client_id, conditional)
        return await self._fetch_order(None, symbol, params)

    async def _fetch_order(self, order_id: str | None, symbol: str,
                           params: dict[str, Any]) -> OrderResult | None:
        """ccxt's fetch_order as our value; None when the venue says it does not exist."""
        try:
            o = await self._call(lambda: self.exchange.fetch_order(
                order_id, self.venue.ccxt_symbol(symbol), params), read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is Reason.NOT_FOUND:
                return None
            raise
        return self._order(o, symbol)

    async def _find_by_venue_id(self, symbol: str, client_id: str, conditional: bool,
                                intent: OrderIntent | None) -> OrderResult | None:
        """By the venue's order id recorded at placement; when the answer that held it was lost,
        the waiting conditional order of the same side, kind and trigger (one per position)."""
        if intent is not None and intent.exchange_id:
            found = await self._fetch_order(intent.exchange_id, symbol,
                                            {"trigger": True} if conditional else {})
        elif intent is not None and conditional:
            found = next((o for o in await self.open_protective()
                          if o.symbol == symbol and o.client_id in ("", client_id)
                          and o.side == intent.side
                          and o.kind == intent.kind and o.trigger is not None
                          and intent.trigger is not None
                          and math.isclose(o.trigger, intent.trigger, rel_tol=1e-9)), None)
        else:
            raise TransientExchangeError(f"{client_id}: {self.venue.label} keeps no client id "
                                         "on it and no venue order id was recorded")
        return dataclasses.replace(found, client_id=client_id) if found else None

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a conditional order by client id (or the venue's id where it keeps none of
        ours); already gone is fine."""
        if self._by_venue_id(conditional=True):
            if not exchange_id:
                raise TransientExchangeError(f"{client_id}: no venue order id to cancel it by")
            order_id: str | None = exchange_id
            params: dict[str, Any] = {"trigger": True}
        else:
            order_id, params = None, self._lookup_params(client_id, conditional=True)
        try:
            await self._call(lambda: self.exchange.cancel_order(
                order_id, self.venue.ccxt_symbol(symbol), params), read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is not Reason.NOT_FOUND:
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every open conditional order on the account (one request)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]

    async def recent_entries(self, symbol: str) -> list[OrderResult]:
        """The symbol's last filled orders (ccxt's closed orders), newest first."""
        orders = await self._call(lambda: self.exchange.fetch_closed_orders(
            self.venue.ccxt_symbol(symbol), None, RECENT_ORDERS), read=True)
        found = [self._order(o, symbol) for o in orders]
        return [o for o in reversed(found) if o.status is OrderStatus.FILLED]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        """'stop' or 'target' of a conditional order, from ccxt's unified fields."""
        if o.get("stopLossPrice"):
            return "stop"
        if o.get("takeProfitPrice"):
            return "target"
        return None

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        """Our OrderResult of a ccxt order (amounts back in base units)."""
        size = self._contract_size(symbol) if self.exchange.markets else 1.0
        trigger = number(o.get("triggerPrice") or o.get("stopPrice")
                          or o.get("stopLossPrice") or o.get("takeProfitPrice"))
        return OrderResult(symbol, self._ids.unwire(o.get("clientOrderId") or ""),
                           str(o["id"]) if o.get("id") is not None else None,
                           STATUS.get(o.get("status") or "", OrderStatus.OPEN),
                           float(o.get("filled") or 0) * size, number(o.get("average")),
                           o.get("side"), trigger, self._kind(o))

    def on_candles(self, symbol: str, candles: Candles | pd.DataFrame) -> None:
        """The venue triggers stops and targets itself: nothing to do."""

