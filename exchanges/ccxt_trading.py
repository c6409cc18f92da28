"""CcxtTrading: one venue's trading instance over ccxt's unified methods, returning our values.

Reads are retried by the shared backoff utility (a Retry-After is waited exactly); writes are
sent once: an ambiguous failure is resolved by the caller asking for the client id. A venue
whose behaviour differs subclasses this and overrides the hooks (`_entry_params`,
`_protective_params`, `_lookup_params`, `_market_rules`, `_order`, `_trade_pnl`, ...).
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import pandas as pd
import structlog

from domain.checks import CheckLine

from .ccxt_fills import STATUS, CcxtTrade, closing_side, fees_in, number, round_trip
from .ccxt_lean import ccxt
from .errors import PermanentExchangeError, reason_of, translate
from .options import TradingConfig
from .port import (
    Balance,
    Direction,
    ExchangePosition,
    ExitFill,
    LiveTradingRefused,
    MarketRules,
    OrderResult,
    OrderStatus,
    PositionModeError,
)
from .retry import RetryPolicy, SharedPause, with_retry
from .tagging import RequestObserver, with_retry_after
from .urls import override_hosts, switch_to_demo
from .venue import OrderLookup, Reason, SlTpStyle, Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")
READ_BACKOFF_CAP_S = 8.0


class CcxtTrading:
    """One venue's futures account through ccxt (demo by default; live only when confirmed)."""

    one_way_where = ""  # where the venue's web site switches the position mode

    def __init__(self, config: TradingConfig, venue: Venue, *, read_attempts: int = 4,
                 backoff_s: float = 0.25, timeout_s: float = 10.0, rate_limit: bool = True,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if config.live and not config.live_confirmed:
            raise LiveTradingRefused("DEMO_TRADING=0 places real orders: set "
                                     "CONFIRM_LIVE_TRADING=yes to confirm")
        spec = venue.trading_spec()  # NotTradable for a data-only venue
        if spec.lookup is not OrderLookup.CLIENT_ID or spec.client_ids is None:
            # The unified lookups below ask by client id: another way needs its own code.
            raise TypeError(f"{venue.label} finds orders by {spec.lookup.value}: its trading "
                            "class must implement the lookups")
        if spec.sltp_style is SlTpStyle.ATTACHED and \
                type(self).protective_order is CcxtTrading.protective_order:
            # ccxt has no unified call for a position's own stop: the venue module says how.
            raise TypeError(f"{venue.label} attaches stops and targets: its trading class must "
                            "implement protective_order (and its lookups)")
        self.venue = venue
        self.config = config
        self.mode = "demo" if config.demo else "live"
        self.slippage_bps = 0.0  # sizing uses the signal's close: the venue's fill is what it is
        self._ids = spec.client_ids  # sent as the venue writes them (prefix, case), read back ours
        self.client_id_room = spec.client_ids.max_length - len(spec.client_ids.prefix)
        self.read_attempts = read_attempts
        # Reads share the data instance's retry path; no budget: a trading read has no cycle.
        self._read_policy = RetryPolicy(attempts=read_attempts, base_s=backoff_s,
                                        cap_s=READ_BACKOFF_CAP_S, budget_s=math.inf, sleep=sleep)
        self._pause = SharedPause(self._read_policy.clock)
        self.exchange: Any = self._client_class()(self._client_config(timeout_s, rate_limit))
        if config.demo:
            switch_to_demo(self.exchange, venue)
        # After the demo switch, which swaps urls.
        override_hosts(self.exchange, config.url)
        self._rules: dict[str, MarketRules] = {}
        self._prepared: set[str] = set()

    # -- construction hooks -----------------------------------------------------------------------
    def _client_class(self) -> type:
        """The ccxt class to instantiate (a venue may subclass it); errors carry Retry-After."""
        return with_retry_after(self.venue.ccxt_id)

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        """ccxt constructor options: the signing pair (and passphrase), the venue's options."""
        keys = self.config.credentials
        config: dict[str, Any] = {
            "apiKey": keys.api_key, "secret": keys.secret,
            "enableRateLimit": rate_limit, "timeout": int(timeout_s * 1000),
            "options": dict(self.venue.ccxt_options)}
        if self.venue.needs_passphrase:
            config["password"] = keys.passphrase
        return config

    # -- plumbing ---------------------------------------------------------------------------------
    def _translate(self, error: Exception) -> Exception:
        """Our error for a ccxt one, by this venue's code table."""
        return translate(error, self.venue)

    def _is_clock_error(self, error: Exception) -> bool:
        """True when the venue refused the request for our clock (nothing was processed)."""
        return isinstance(error, ccxt.InvalidNonce)

    async def _resync(self) -> None:
        """Measure the offset between our clock and the venue's (ccxt applies it when signing)."""
        self.exchange.options["adjustForTimeDifference"] = True
        await self._call(self.exchange.load_time_difference, read=True)
        log.info("clock_synced", venue=self.venue.name,
                 offset_ms=self.exchange.options.get("timeDifference"))

    async def _once(self, fn: Callable[[], Awaitable[T]]) -> T:
        """One ccxt call; a clock refusal resyncs and sends the same request once more (it was
        refused before processing, so even an order is safe to send again)."""
        try:
            return await fn()
        except ccxt.BaseError as e:
            if not self._is_clock_error(e):
                raise self._translate(e) from e
        await self._resync()
        try:
            return await fn()
        except ccxt.BaseError as e:
            raise self._translate(e) from e

    async def _call(self, fn: Callable[[], Awaitable[T]], *, read: bool,
                    what: str = "read") -> T:
        """Run one ccxt call; reads retry transient errors with backoff, writes never retry."""
        if not read:
            return await self._once(fn)
        return await with_retry(lambda: self._once(fn), self._read_policy, what, self._pause,
                                self.venue, log_as="trading")

    def _market(self, symbol: str) -> Mapping[str, Any]:
        """ccxt's market of our symbol (after load_markets)."""
        return self.exchange.market(self.venue.ccxt_symbol(symbol))

    def _contract_size(self, symbol: str) -> float:
        """Base quantity of one contract (1 on venues that count in the base asset)."""
        return float(self._market(symbol).get("contractSize") or 1.0)

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

    async def _prepare(self, symbol: str) -> None:
        """Margin mode and leverage, once per symbol; 'nothing to change' counts as success."""
        s = self.venue.ccxt_symbol(symbol)
        await self._unless_unchanged(lambda: self.exchange.set_margin_mode(
            self.config.margin_mode, s))
        await self._unless_unchanged(lambda: self.exchange.set_leverage(
            self.config.leverage, s))
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
    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        """create_order params of a market order."""
        params: dict[str, Any] = {"clientOrderId": self._ids.wire(client_id)}
        if reduce_only:
            params["reduceOnly"] = True
        return params

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order carrying `client_id`; never retried here."""
        amount = quantity / self._contract_size(symbol)
        params = self._entry_params(client_id, reduce_only)
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), "market", side, amount, None, params), read=False)
        return self._order(o, symbol)

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

    async def find_order(self, symbol: str, client_id: str, conditional: bool
                         ) -> OrderResult | None:
        """Look an order up by client id; None when the venue says it does not exist."""
        params = self._lookup_params(client_id, conditional)
        try:
            o = await self._call(lambda: self.exchange.fetch_order(
                None, self.venue.ccxt_symbol(symbol), params), read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is Reason.NOT_FOUND:
                return None
            raise
        return self._order(o, symbol)

    async def cancel_protective(self, symbol: str, client_id: str) -> None:
        """Cancel a conditional order by client id; already gone is fine."""
        params = self._lookup_params(client_id, conditional=True)
        try:
            await self._call(lambda: self.exchange.cancel_order(
                None, self.venue.ccxt_symbol(symbol), params), read=True)
        except PermanentExchangeError as e:
            if reason_of(e) is not Reason.NOT_FOUND:
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every open conditional order on the account (one request)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]

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

    # -- account ----------------------------------------------------------------------------------
    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions (one-way), by our symbol, in base units."""
        rows = await self._call(lambda: self.exchange.fetch_positions(None), read=True)
        out = {}
        for p in rows:
            contracts = float(p.get("contracts") or 0)
            if contracts <= 0:
                continue
            symbol = self.venue.our_symbol(p["symbol"])
            qty = contracts * float(p.get("contractSize") or 1.0)
            side = Direction.LONG if p.get("side") == "long" else Direction.SHORT
            out[symbol] = ExchangePosition(symbol, side, qty, float(p.get("entryPrice") or 0))
        return out

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """Realised PnL (before fees) of the closing trades, from the entry's average price."""
        entry_qty = sum(float(t["amount"]) for t in entry)
        if not entry_qty:
            return 0.0
        avg_in = sum(float(t["price"]) * float(t["amount"]) for t in entry) / entry_qty
        return sum((float(t["price"]) - avg_in) * float(t["amount"]) for t in closing) \
            * direction.sign

    def _fees(self, trades: list[CcxtTrade]) -> float | None:
        """The trades' fees in the settlement asset; None if any was paid in another one."""
        return fees_in(trades, self.venue.settle)

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """Average price, realised PnL and fees of the trades that closed the position."""
        trades = await self._call(lambda: self.exchange.fetch_my_trades(
            self.venue.ccxt_symbol(symbol), since_ms), read=True)
        close_side = closing_side(direction)
        trip = round_trip(trades, close_side)
        closing = trip[1] if trip else [t for t in trades if t["side"] == close_side]
        contracts = sum(float(t["amount"]) for t in closing)
        if not contracts:
            return None
        price = sum(float(t["price"]) * float(t["amount"]) for t in closing) / contracts
        pnl = self._trade_pnl(closing, trip[0] if trip else [], direction)
        return ExitFill(price, contracts * self._contract_size(symbol), pnl,
                        self._fees(trip[0] + closing) if trip else None)

    async def balance(self) -> Balance:
        """The settlement asset's total and free balance."""
        raw = await self._call(self.exchange.fetch_balance, read=True)
        row = raw.get(self.venue.settle) or {}
        return Balance(self.venue.settle, float(row.get("total") or 0),
                       float(row.get("free") or 0))

    async def check(self) -> list[CheckLine]:
        """Authentication, balance and position mode, for `main.py check`."""
        out: list[CheckLine] = []
        try:
            bal = await self.balance()
            out.append(CheckLine("trading authentication", True, f"{self.mode} keys accepted"))
            out.append(CheckLine("trading balance", True, f"{bal.total:g} {bal.asset} "
                                                 f"({bal.free:g} available)"))
        except Exception as e:  # noqa: BLE001 - reported, not raised: check lists every problem
            out.append(CheckLine("trading authentication", False, str(e)[:200]))
            return out
        try:
            mode = await self._call(self.exchange.fetch_position_mode, read=True)
            out.append(CheckLine("position mode", not mode.get("hedged"),
                        "hedge mode: switch to one-way" if mode.get("hedged") else "one-way"))
        except Exception as e:  # noqa: BLE001 - one failed probe line, the others still run
            out.append(CheckLine("position mode", False, str(e)[:200]))
        return out

    def on_candles(self, symbol: str, candles: pd.DataFrame) -> None:
        """The venue triggers stops and targets itself: nothing to do."""

    def observe_requests(self, observer: RequestObserver) -> None:
        """Call `observer` after every HTTP request of this instance (with its error, if any)."""
        if self.exchange is not None:
            self.exchange.request_observer = observer

    async def close(self) -> None:
        """Close ccxt's HTTP session."""
        await self.exchange.close()
