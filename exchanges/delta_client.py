"""Delta Exchange India behaviour over the generic classes (ccxt's `delta` class, India hosts).

What differs from the generic path, and why:
- hosts: ccxt's class knows only Delta Global; the India production and testnet hosts are set
  here (urls api/test), so the sandbox switch reaches the India testnet;
- a User-Agent names the library: Delta's CDN refuses requests without one (403);
- candle windows start a second before the first candle wanted (bounds off the grid);
- pacing: 20,000 weight per 5 minutes, a candle or position read weighs 3 (22/s): ccxt's
  300 ms spacing is replaced by 50 ms (20 requests/s);
- sizes are whole contracts of `contract_value` base units: converted at this boundary;
- ccxt does not translate stopLoss/takeProfit/trigger params for Delta: stops and targets are
  reduce-only market orders with Delta's own stop_order_type + stop_price (last traded price);
- GET /v2/positions/margined (ccxt's fetch_positions) may lag ~10 s and reports shorts as
  negative contracts: positions are read from the real-time GET /v2/positions per product;
- cancel by client id is Delta's DELETE /v2/orders {client_order_id, product_id} (ccxt's
  cancel_order needs the numeric id);
- open stops are the active orders (states open,pending) carrying a stop_order_type;
- server time is ccxt's GET /v2/settings (not in the India docs): a host answering it 404 gives
  its time by the Date header instead;
- a lookup answered 404 means no such order (ccxt leaves it a generic error);
- Delta has no hedge mode (nothing to switch); margin mode is the account's (isolated, cross or
  portfolio): a mode other than MARGIN_MODE is refused at start with the switch to make;
- signatures are stamped on the venue's clock (ccxt's measured offset; ccxt's delta signs with
  the host's): an expired one (5 s window) resyncs and is sent once more;
- a fill's created_at has whole seconds: the closing fills are asked from the second before;
- a client id reused is not documented as refused: a market order's id is sent once by this
  process, an ambiguous answer is resolved by looking the id up.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from .ccxt_fills import CcxtTrade
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .delta import (
    CLOCK_LABELS,
    STOP_LOSS,
    TAKE_PROFIT,
    margin_mode_ok,
    to_base,
    to_contracts,
)
from .delta_ccxt import delta_class, india_config
from .errors import (
    ExchangeUnavailable,
    PermanentExchangeError,
    Rejected,
    venue_code,
)
from .ohlcv import Rows
from .port import Balance, Direction, ExchangePosition, ExitFill, MarketRules, OrderResult
from .venue import Reason

log = structlog.get_logger(__name__)

DAY_MS = 86_400_000
# 20 reads/s x weight 3 = 60 < 20,000 / 300 s (per IP for data, per user for trading)
RATE_LIMIT_MS = 50
ACTIVE_STATES = "open,pending"  # a waiting stop is 'pending' until it triggers
TRIGGER_METHOD = "last_traded_price"
KINDS = {STOP_LOSS: "stop", TAKE_PROFIT: "target"}


class DeltaMarketData(CcxtMarketData):
    """Delta India candles, paced at the documented weight budget."""

    def _client_class(self) -> type:
        return delta_class()

    def _client_config(self) -> dict[str, Any]:
        config = india_config(super()._client_config())
        config["rateLimit"] = RATE_LIMIT_MS
        return config

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None,
                    until: int | None, limit: int) -> Rows:
        """ccxt asks start = since and end = start + limit candles, in seconds; the docs do
        not say whether the bounds are inclusive. Starting one second before the first
        candle wanted puts neither bound on a candle's open: `limit` candles either way."""
        tf_ms = timeframe_ms(timeframe)
        if since is not None and tf_ms <= DAY_MS:  # weeks open on Mondays, not on the epoch
            since = since + (-since) % tf_ms - 1000
        return await super()._rows(symbol, timeframe, since=since, until=until, limit=limit)


def _kind(info: Mapping[str, Any]) -> str | None:
    return KINDS.get(str(info.get("stop_order_type") or ""))


class DeltaTrading(CcxtTrading):
    """Delta India perpetuals: contracts, stop orders, real-time positions, account margin."""

    one_way_where = " (Delta has one-way positions only)"

    def _client_class(self) -> type:
        return delta_class()

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        config = india_config(super()._client_config(timeout_s, rate_limit))
        config["rateLimit"] = RATE_LIMIT_MS  # positions are read one product at a time
        return config

    def _is_clock_error(self, error: Exception) -> bool:
        """SignatureExpired: refused before processing; the clock is resynced (the class signs
        on the venue's clock) and the request sent once more."""
        return venue_code(error, self.venue.error_code_keys) in CLOCK_LABELS

    def _product_id(self, symbol: str) -> int:
        return int(self._market(symbol)["numericId"])

    def _contract_value(self, symbol: str) -> float:
        return float(self._market(symbol).get("contractSize") or 1.0)

    # -- start ------------------------------------------------------------------------------
    async def _require_one_way(self, symbols: list[str]) -> None:
        """Delta keeps one net position per product (no hedge mode to refuse); the margin mode
        is the account's: one other than MARGIN_MODE is refused with the switch to make."""
        try:
            mode = await self._margin_mode()
        except Rejected as e:
            if e.reason is not Reason.NOT_FOUND:
                raise
            log.warning("margin_mode_unknown", venue=self.venue.name, error=str(e)[:200])
            return
        if not margin_mode_ok(self.config.margin_mode, mode):
            raise PermanentExchangeError(
                f"the {self.venue.label} account is in {mode} margin; switch it to "
                f"{self.config.margin_mode} margin on Delta (Margin mode in the trading page) or "
                f"set MARGIN_MODE to match, then restart")

    async def _margin_mode(self) -> str:
        """The account's margin mode (GET /v2/profile): isolated, cross or portfolio."""
        profile = await self._call(lambda: self.exchange.private_get_profile(), read=True)
        return str((profile.get("result") or {}).get("margin_mode") or "isolated")

    async def _prepare(self, symbol: str) -> None:
        """The leverage, once per symbol (the margin mode is the account's, checked at start)."""
        s = self.venue.ccxt_symbol(symbol)
        leverage = self.config.leverage
        await self._unless_unchanged(lambda: self.exchange.set_leverage(leverage, s))
        log.info("symbol_prepared", venue=self.venue.name, symbol=symbol,
                 product=self._market(symbol)["id"], leverage=leverage)

    def _market_rules(self, symbol: str, tiers: list[dict[str, Any]]) -> MarketRules:
        """One contract is the step and the minimum; ccxt's cost minimum is a size, not USD."""
        rules = super()._market_rules(symbol, tiers)
        cv = self._contract_value(symbol)
        return dataclasses.replace(rules, step=cv, min_qty=cv, min_notional=0.0)

    # -- orders -----------------------------------------------------------------------------
    def _contracts(self, symbol: str, quantity: float) -> int:
        contracts = to_contracts(quantity, self._contract_value(symbol))
        if contracts < 1:
            raise Rejected(f"{quantity:g} {symbol} is less than one {self.venue.label} contract",
                           reason=Reason.INVALID_ORDER)
        return contracts

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order, sent at most once per client id, looked up when not yet filled."""
        amount = self._contracts(symbol, quantity)
        # Delta does not document refusing a reused id: a second send could fill twice.
        self._send_once(client_id)
        # The documented `size` is an integer; ccxt would send its precision's string.
        params = {**self._entry_params(client_id, reduce_only), "size": amount}
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), "market", side, amount, None, params), read=False)
        placed = self._order(o, symbol)
        if placed.filled:
            return placed
        try:  # an answer before the match: ask once for the fill
            return await self.find_order(symbol, client_id, conditional=False) or placed
        except ExchangeUnavailable as e:
            log.warning("order_lookup_after_place_failed", client_id=client_id, error=str(e))
            return placed

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        """Delta's own stop order fields (ccxt's unified stopLossPrice is not translated)."""
        return {"stop_order_type": STOP_LOSS if kind == "stop" else TAKE_PROFIT,
                "stop_price": f"{trigger:.10g}",
                "stop_trigger_method": TRIGGER_METHOD, "reduceOnly": True,
                "clientOrderId": self._ids.wire(client_id)}

    async def _protective_amount(self, symbol: str) -> float | None:
        size, _ = await self._real_time(symbol)
        return float(abs(size)) if size else None

    async def _real_time(self, symbol: str) -> tuple[int, float]:
        """(signed contracts, entry price) from the real-time GET /v2/positions."""
        pid = self._product_id(symbol)
        raw = await self._call(lambda: self.exchange.private_get_positions(
            {"product_id": pid}), read=True)
        result = raw.get("result") or {}
        return int(float(result.get("size") or 0)), float(result.get("entry_price") or 0)

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A reduce-only stop order closing the position at `trigger` (kind and trigger are
        what was asked when the answer leaves them out)."""
        amount = await self._protective_amount(symbol)
        if amount is None:
            raise PermanentExchangeError(f"no {symbol} position to protect")
        params = {**self._protective_params(kind, trigger, client_id), "size": int(amount)}
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), "market", side, amount, None, params), read=False)
        placed = self._order(o, symbol)
        return dataclasses.replace(placed, side=placed.side or side, kind=placed.kind or kind,
                                   trigger=placed.trigger or trigger)

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """DELETE /v2/orders by client_order_id (Delta keeps it on stop orders too); already
        gone is fine."""
        body = {"client_order_id": self._ids.wire(client_id),
                "product_id": self._product_id(symbol)}
        try:
            await self._call(lambda: self.exchange.private_delete_orders(body), read=True)
        except PermanentExchangeError as e:
            if getattr(e, "reason", None) is not Reason.NOT_FOUND:
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting stop and target: active orders carrying a stop_order_type."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"states": ACTIVE_STATES}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders
                if _kind(o.get("info") or {}) and "/" in str(o.get("symbol"))]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        return _kind(o.get("info") or {})

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        """Our OrderResult; a stop's trigger is Delta's stop_price."""
        result = super()._order(o, symbol)
        info = o.get("info") or {}
        stop = info.get("stop_price")
        if stop and not result.trigger:
            result = dataclasses.replace(result, trigger=float(stop))
        return result

    # -- account ----------------------------------------------------------------------------
    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions of `symbols` from the real-time endpoint (the margined list lags)."""
        known = [s for s in symbols if self.venue.ccxt_symbol(s) in self.exchange.markets]
        sizes = await asyncio.gather(*(self._real_time(s) for s in known))
        out = {}
        for symbol, (size, entry) in zip(known, sizes, strict=True):
            if size:
                out[symbol] = ExchangePosition(
                    symbol, Direction.LONG if size > 0 else Direction.SHORT,
                    to_base(size, self._contract_value(symbol)), entry)
        return out

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """A fill's created_at has whole seconds: ask from the second before `since_ms`, so
        ccxt's since filter cannot drop a fill of the same second."""
        return await super().closing_fill(symbol, direction, since_ms - since_ms % 1000 - 1000)

    async def balance(self) -> Balance:
        """The settlement asset's row, by its asset_symbol (ccxt names rows by asset_id
        through /v2/assets, which may not list it)."""
        raw = await self._call(self.exchange.fetch_balance, read=True)
        rows = (raw.get("info") or {}).get("result") or []
        settle = self.venue.settle
        row: Mapping[str, Any] = next((r for r in rows if r.get("asset_symbol") == settle), {})
        unified = raw.get(self.venue.settle) or {}
        total = row.get("balance", unified.get("total"))
        free = row.get("available_balance", unified.get("free"))
        return Balance(self.venue.settle, float(total or 0), float(free or 0))

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """The generic PnL is in contracts: scaled by the contract value."""
        pnl = super()._trade_pnl(closing, entry, direction)
        first = (closing or entry or [{}])[0]
        market = self.exchange.markets.get(first.get("symbol") or "") or {}
        return pnl * float(market.get("contractSize") or 1.0)

    async def _position_mode_line(self) -> CheckLine:
        return CheckLine("position mode", True, "one-way (Delta has no hedge mode)")

    async def _margin_mode_line(self) -> CheckLine:
        """The account's margin mode against MARGIN_MODE (checked, never switched)."""
        mode = await self._margin_mode()
        ok = margin_mode_ok(self.config.margin_mode, mode)
        return CheckLine("margin mode", ok, mode if ok else
                         f"{mode}: switch the account to {self.config.margin_mode} margin on "
                         "Delta, or set MARGIN_MODE to match")


MarketData = DeltaMarketData
Trading = DeltaTrading
